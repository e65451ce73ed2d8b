package buildcontext

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/moby/patternmatcher"
)

// walker lists a context the way BuildKit's sender (fsutil's filtered walk) does.
type walker struct {
	ctx    context.Context
	c      *Context
	forced forcedSet
	seen   int
	end    []int // end[i] is one past the last entry of Files[i]'s subtree
	// stack holds the directories being walked; an excluded one is only added to Files
	// (idx set) when something below it is sent, as the builder does.
	stack []*dirFrame
}

type dirFrame struct {
	file File
	idx  int // index in Files, -1 while not sent
	info patternmatcher.MatchInfo
}

func newWalker(ctx context.Context, c *Context, forced ...string) *walker {
	return &walker{ctx: ctx, c: c, forced: newForcedSet(forced...)}
}

// add appends an entry to Files, first adding the excluded directories above it that
// were held back.
func (w *walker) add(f File) int {
	for _, fr := range w.stack {
		if fr.idx < 0 {
			fr.idx = w.push(fr.file)
		}
	}
	return w.push(f)
}

func (w *walker) push(f File) int {
	w.c.Files = append(w.c.Files, f)
	w.end = append(w.end, len(w.c.Files))
	return len(w.c.Files) - 1
}

func (w *walker) warnf(format string, args ...any) {
	w.c.Warnings = append(w.c.Warnings, fmt.Sprintf(format, args...))
}

// walkDir lists the directory dir (rel to the context root) opened as the root r, so no
// symlink swapped in mid-walk can lead outside the context.
func (w *walker) walkDir(r *os.Root, rel string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := readDir(r)
	if err != nil {
		if !w.excludedHere() {
			w.warnf("%s: cannot list directory: %v (the builder would fail on it unless .dockerignore excludes it)", displayDir(rel), unwrapPath(err))
		}
		return nil
	}
	sortEntries(entries)
	var parent patternmatcher.MatchInfo
	if n := len(w.stack); n > 0 {
		parent = w.stack[n-1].info
	}
	for _, e := range entries {
		if err := w.entry(r, rel, e.Name(), parent); err != nil {
			return err
		}
	}
	return nil
}

// excludedHere reports whether the directory being walked is excluded (walked only for
// the exceptions inside it). The builder ignores permission errors there.
func (w *walker) excludedHere() bool {
	n := len(w.stack)
	return n > 0 && w.stack[n-1].idx < 0
}

func (w *walker) entry(r *os.Root, dir, name string, parent patternmatcher.MatchInfo) error {
	w.seen++
	if w.seen > w.c.opts.MaxFiles {
		return fmt.Errorf("%w: more than %d (add a .dockerignore, or raise the limit)", ErrTooManyFiles, w.c.opts.MaxFiles)
	}
	rel := path.Join(dir, name)
	m, info, err := w.c.Ignore.match(rel, parent)
	if err != nil {
		return fmt.Errorf("%s: matching %s: %w", w.c.Ignore.Path, rel, err)
	}
	excluded := m && !w.forced.paths[rel]
	fi, err := r.Lstat(name)
	if err != nil {
		if !excluded {
			w.warnf("%s: cannot stat: %v", rel, unwrapPath(err))
		}
		return nil
	}
	f := File{Path: rel, Size: fi.Size(), Mode: fi.Mode()}
	if fi.IsDir() {
		return w.dir(r, f, excluded, info)
	}
	if excluded {
		w.c.Excluded++
		return nil
	}
	if f.IsSymlink() {
		if f.Link, err = r.Readlink(name); err != nil {
			w.warnf("%s: cannot read symlink: %v", rel, unwrapPath(err))
		}
	}
	w.add(f)
	return nil
}

func (w *walker) dir(r *os.Root, f File, excluded bool, info patternmatcher.MatchInfo) error {
	if excluded {
		w.c.Excluded++
		if !w.c.Ignore.descend(f.Path) && !w.forced.dirs[f.Path] {
			return nil
		}
	}
	fr := &dirFrame{file: f, idx: -1, info: info}
	if !excluded {
		fr.idx = w.add(f)
	}
	sub, err := r.OpenRoot(path.Base(f.Path))
	if err != nil {
		if !excluded {
			w.warnf("%s/: cannot open directory: %v (the builder would fail on it unless .dockerignore excludes it)", f.Path, unwrapPath(err))
		}
		return nil
	}
	defer closeReadOnly(sub)
	w.stack = append(w.stack, fr)
	err = w.walkDir(sub, f.Path)
	w.stack = w.stack[:len(w.stack)-1]
	if fr.idx >= 0 {
		w.end[fr.idx] = len(w.c.Files)
		if excluded {
			w.c.Excluded-- // sent after all, for an exception below it
		}
	}
	return err
}

func readDir(r *os.Root) ([]fs.DirEntry, error) {
	d, err := r.Open(".")
	if err != nil {
		return nil, err
	}
	defer closeReadOnly(d)
	return d.ReadDir(-1)
}

func displayDir(rel string) string {
	if rel == "" {
		return "."
	}
	return rel + "/"
}

// unwrapPath drops the absolute path an *fs.PathError carries: warnings name the
// context-relative path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// closeReadOnly closes a file or root opened only for reading: a close error there
// cannot lose data, so there is nothing to report.
func closeReadOnly(c io.Closer) { _ = c.Close() }
