package buildcontext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/charterhq/charter/internal/secrets"
)

// scanResult is what one file says about secrets.
type scanResult struct {
	kind    string // secrets.ClassifyName's kind, "" when the name is not secret-bearing
	matches []secrets.Match
}

func (r *scanResult) secret() bool { return r != nil && (r.kind != "" || len(r.matches) > 0) }

// scanner classifies and scans context files, each at most once, within the read limits.
type scanner struct {
	root    *os.Root
	dir     *os.Root // the directory of the last file opened (files come in walk order)
	dirPath string
	opts    Options
	reads   func(string)
	used    int64
	results map[string]*scanResult

	partial, skipped, unreadable []string
}

func newScanner(c *Context) (*scanner, error) {
	r, err := os.OpenRoot(c.Root)
	if err != nil {
		return nil, err
	}
	return &scanner{root: r, opts: c.opts.withDefaults(), reads: c.reads, results: map[string]*scanResult{}}, nil
}

func (s *scanner) close() {
	if s.dir != nil {
		closeReadOnly(s.dir)
	}
	closeReadOnly(s.root)
}

// open opens a context file through a root for its directory, so that neither a path
// component nor the file itself can lead outside the context, whatever changed since
// the walk.
func (s *scanner) open(rel string) (*os.File, error) {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return s.root.OpenFile(base, os.O_RDONLY|openFlags, 0)
	}
	if s.dir == nil || s.dirPath != dir {
		if s.dir != nil {
			closeReadOnly(s.dir)
			s.dir = nil
		}
		d, err := s.root.OpenRoot(filepath.FromSlash(dir))
		if err != nil {
			return nil, err
		}
		s.dir, s.dirPath = d, dir
	}
	return s.dir.OpenFile(base, os.O_RDONLY|openFlags, 0)
}

// scan returns what f says about secrets. Only regular files are looked at; their name
// is classified, and their content scanned unless it is binary (a NUL byte early on) and
// the name is not secret-bearing.
func (s *scanner) scan(f File) *scanResult {
	if r, ok := s.results[f.Path]; ok {
		return r
	}
	r := &scanResult{}
	s.results[f.Path] = r
	if !f.IsRegular() {
		return r
	}
	r.kind, _ = secrets.ClassifyName(f.Path)
	if !contentScanned(f.Path) {
		return r
	}
	data, err := s.read(f, r.kind != "")
	if err != nil {
		return r
	}
	if len(data) > 0 {
		r.matches = secrets.Scan(data)
	}
	return r
}

// contentScanned leaves out the inside of .git directories (compressed objects, hooks
// samples) except .git/config, where remote URLs with credentials live.
func contentScanned(p string) bool {
	dir, base := path.Split(p)
	if !strings.Contains("/"+dir, "/.git/") {
		return true
	}
	return base == "config" && path.Base(strings.TrimSuffix(dir, "/")) == ".git"
}

var errBudget = errors.New("read budget exhausted")

// read returns the first bytes of f (at most MaxReadBytes, within the total budget), or
// nil for a binary file whose name is not secret-bearing. It reads the size fstat gives
// on the descriptor it checked, so a small file costs one read.
func (s *scanner) read(f File, secretName bool) ([]byte, error) {
	limit := min(s.opts.MaxReadBytes, s.opts.MaxTotalReadBytes-s.used)
	if limit <= 0 {
		s.skipped = append(s.skipped, f.Path)
		return nil, errBudget
	}
	if s.reads != nil {
		s.reads(f.Path)
	}
	fh, err := s.open(f.Path)
	if err != nil {
		s.unreadable = append(s.unreadable, fmt.Sprintf("%s (%v)", f.Path, unwrapPath(err)))
		return nil, err
	}
	defer closeReadOnly(fh)
	st, err := fh.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.unreadable = append(s.unreadable, f.Path+" (no longer a regular file)")
		return nil, errors.New("not a regular file")
	}
	buf := make([]byte, min(limit, st.Size()))
	n, err := io.ReadFull(fh, buf[:min(len(buf), binarySniffBytes)])
	if !secretName && bytes.IndexByte(buf[:n], 0) >= 0 {
		s.used += int64(n)
		return nil, nil
	}
	if err == nil {
		var m int
		m, err = io.ReadFull(fh, buf[n:])
		n += m
	}
	s.used += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		s.unreadable = append(s.unreadable, fmt.Sprintf("%s (%v)", f.Path, unwrapPath(err)))
		return nil, err
	}
	if st.Size() > limit {
		if limit < s.opts.MaxReadBytes {
			s.skipped = append(s.skipped, f.Path) // cut short by the total budget
		} else {
			s.partial = append(s.partial, f.Path)
		}
	}
	return buf[:n], nil
}

// warnings summarises what was not scanned in full, a line per kind, naming a few files.
func (s *scanner) warnings() []string {
	var out []string
	if len(s.partial) > 0 {
		out = append(out, fmt.Sprintf("only the first %s of %d large file(s) were scanned for secrets: %s",
			byteSize(s.opts.MaxReadBytes), len(s.partial), examples(s.partial)))
	}
	if len(s.skipped) > 0 {
		out = append(out, fmt.Sprintf("read budget of %s exhausted: %d file(s) checked by name only or in part: %s",
			byteSize(s.opts.MaxTotalReadBytes), len(s.skipped), examples(s.skipped)))
	}
	if len(s.unreadable) > 0 {
		out = append(out, fmt.Sprintf("%d file(s) could not be read for scanning: %s", len(s.unreadable), examples(s.unreadable)))
	}
	return out
}

func examples(list []string) string {
	const n = 5
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
