package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// blobStore is where an archive or layout keeps its files, by slash path.
type blobStore interface {
	open(name string) (io.ReadCloser, int64, error)
}

// readAll reads a small named file (manifest, index, config) with a size cap.
func readAll(s blobStore, name string, maxBytes int64) ([]byte, error) {
	rc, size, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	if size > maxBytes {
		return nil, &Error{Kind: ErrLimit, Err: fmt.Errorf("%s is %d bytes (Limits.MaxConfigBytes is %d)", name, size, maxBytes)}
	}
	b, err := io.ReadAll(io.LimitReader(rc, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxBytes {
		return nil, &Error{Kind: ErrLimit, Err: fmt.Errorf("%s is over %d bytes (Limits.MaxConfigBytes)", name, maxBytes)}
	}
	return b, nil
}

// tarStore serves the regular files of an uncompressed tar archive by offset, after
// one pass over its headers (data is skipped with Seek, not read).
type tarStore struct {
	f       *os.File
	entries map[string]tarEntry
}

type tarEntry struct {
	off, size int64
	link      string // a symlink's target, resolved once on open
}

func openTarStore(name string, maxEntries int) (*tarStore, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, newErr(ErrNotFound, "", "check the path", err)
		}
		return nil, err
	}
	s := &tarStore{f: f, entries: map[string]tarEntry{}}
	if err := s.index(maxEntries); err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

func (s *tarStore) index(maxEntries int) error {
	var magic [4]byte
	if _, err := io.ReadFull(s.f, magic[:]); err == nil {
		if bytes.HasPrefix(magic[:], gzipMagic) || bytes.HasPrefix(magic[:], zstdMagic) {
			return newErr(ErrNotImage, "", "decompress the archive first (docker save writes plain tar)", errors.New("archive is compressed"))
		}
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr := tar.NewReader(s.f)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return newErr(ErrNotImage, "", "", fmt.Errorf("reading archive: %w", err))
		}
		if n > maxEntries {
			return newErr(ErrLimit, "", "", fmt.Errorf("archive has more than %d entries", maxEntries))
		}
		name := archivePath(h.Name)
		switch h.Typeflag {
		case tar.TypeReg, typeRegOld:
			off, err := s.f.Seek(0, io.SeekCurrent)
			if err != nil {
				return err
			}
			s.entries[name] = tarEntry{off: off, size: h.Size}
		case tar.TypeSymlink, tar.TypeLink:
			// docker save links a layer that appears twice to its first copy.
			t := h.Linkname
			if h.Typeflag == tar.TypeSymlink {
				t = path.Join(path.Dir(name), t) //nolint:gosec // a lookup key in the archive index; nothing is extracted
			}
			s.entries[name] = tarEntry{link: archivePath(t)}
		}
	}
	return nil
}

// archivePath cleans an archive member name; names that leave the archive become
// unreachable ("../x" stays "../x", and nothing asks for it).
func archivePath(n string) string {
	return path.Clean(strings.TrimPrefix(strings.TrimLeft(n, "/"), "./"))
}

func (s *tarStore) open(name string) (io.ReadCloser, int64, error) {
	e, ok := s.entries[archivePath(name)]
	for hops := 0; ok && e.link != "" && hops < 8; hops++ {
		e, ok = s.entries[e.link]
	}
	if !ok || e.link != "" {
		return nil, 0, fmt.Errorf("%s: %w in the archive", name, fs.ErrNotExist)
	}
	return io.NopCloser(bufio.NewReaderSize(io.NewSectionReader(s.f, e.off, e.size), 64<<10)), e.size, nil
}

func (s *tarStore) has(name string) bool {
	_, ok := s.entries[archivePath(name)]
	return ok
}

// dirStore serves files below a directory through os.Root, so no name (or symlink in
// the layout) can reach outside it.
type dirStore struct{ root *os.Root }

func (d dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := d.root.Open(path.Clean(name))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file", name)
	}
	return f, st.Size(), nil
}

// blobSource opens a layer blob from a store, by name.
func blobSource(s blobStore, name string) layerSource {
	return layerSource{open: func(context.Context) (io.ReadCloser, error) {
		rc, _, err := s.open(name)
		return rc, err
	}}
}

// splitTag splits "PATH:TAG" when PATH alone does not exist, so paths with colons work.
func splitTag(ref string) (p, tag string) {
	if _, err := os.Stat(ref); err == nil {
		return ref, ""
	}
	if i := strings.LastIndexByte(ref, ':'); i > 0 && !strings.Contains(ref[i+1:], "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}
