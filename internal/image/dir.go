package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// openDir reads an unpacked root filesystem (dir:ROOTFS) as one layer, with no config.
func openDir(im *Image, dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return newErr(ErrNotFound, im.ref, "dir: wants a directory holding a root filesystem", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return newErr(ErrNotFound, im.ref, "", err)
	}
	im.closers = append(im.closers, root.Close)
	im.root = root
	im.layers = []*Layer{{Index: 0, Size: -1}}
	im.sources = []layerSource{{}}
	return nil
}

// entryReader is what the layer walk reads entries from: a tar stream, or a directory.
type entryReader interface {
	Next() (*tar.Header, error)
	io.Reader
}

// dirEntries serves a directory tree as tar headers without reading any content: a
// file is opened, through os.Root, only when an analyzer asks for its bytes. Symlinks
// are recorded, never followed, so nothing outside the tree is read.
type dirEntries struct {
	root  *os.Root
	paths []string
	cur   *os.File
}

func newDirEntries(root *os.Root, maxFiles int) (*dirEntries, error) {
	d := &dirEntries{root: root}
	err := fs.WalkDir(root.FS(), ".", func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if len(d.paths) >= maxFiles {
			return &Error{Kind: ErrLimit, Err: fmt.Errorf("more than %d files (Limits.MaxFiles)", maxFiles)}
		}
		if p != "." {
			d.paths = append(d.paths, p)
		}
		return nil
	})
	return d, err
}

func (d *dirEntries) Next() (*tar.Header, error) {
	d.closeCur()
	for len(d.paths) > 0 {
		p := d.paths[0]
		d.paths = d.paths[1:]
		info, err := d.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		var link string
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = d.root.Readlink(p); err != nil {
				return nil, err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			continue // sockets have no tar form and hold no content
		}
		h.Name = path.Clean(p)
		if info.Mode().IsRegular() {
			f, err := d.root.Open(p)
			if err != nil {
				return nil, err
			}
			d.cur = f
		}
		return h, nil
	}
	return nil, io.EOF
}

func (d *dirEntries) Read(b []byte) (int, error) {
	if d.cur == nil {
		return 0, io.EOF
	}
	return d.cur.Read(b)
}

func (d *dirEntries) closeCur() {
	if d.cur != nil {
		_ = d.cur.Close()
		d.cur = nil
	}
}

// walkDir is readLayer for dir:, which has no blob and no digests.
func (im *Image) walkDir(ctx context.Context, l *Layer, as []Analyzer) error {
	d, err := newDirEntries(im.root, im.opts.Limits.MaxFiles)
	if err != nil {
		return err
	}
	defer d.closeCur()
	w := &layerWalk{lim: &im.opts.Limits, as: as, layer: l, records: make([][]Record, len(as))}
	if err := w.entries(ctx, d); err != nil {
		return err
	}
	for _, r := range w.records {
		l.Records = append(l.Records, r...)
	}
	im.progress(Progress{Layer: 0, Total: -1, Done: -1, Finished: true})
	return nil
}
