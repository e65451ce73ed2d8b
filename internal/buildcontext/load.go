package buildcontext

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ErrTooManyFiles is wrapped by Load's error when the context has more entries than
// Options.MaxFiles: a preflight that stopped half way could not vouch for the rest.
var ErrTooManyFiles = errors.New("build context has too many entries")

// Context is a build context as the builder would receive it.
type Context struct {
	// Root is the context directory, absolute and clean.
	Root string
	// Dockerfile is the Dockerfile's path relative to Root (slash-separated), or "" when
	// it lies outside the context or was not given.
	Dockerfile string
	// Ignore is the ignore file in effect, nil when there is none.
	Ignore *Ignore
	// Files are the entries sent, in the builder's walk order: each directory precedes its
	// contents. Paths are relative to Root and slash-separated.
	Files []File
	// Excluded counts the entries left out by the ignore file (a skipped directory once).
	Excluded int
	// Warnings are entries that could not be read; the builder would fail on them.
	Warnings []string

	opts      Options
	tree      *tree
	ignoreRel string           // the ignore file's context-relative path, if inside
	reads     func(rel string) // test hook: called with every path Check opens
}

// File is one entry of the context.
type File struct {
	// Path is relative to the context root, slash-separated.
	Path string
	// Size is the size lstat reports (for a symlink, the length of its target).
	Size int64
	// Mode carries the type bits and permissions from lstat.
	Mode fs.FileMode
	// Link is a symlink's target as stored. It is never followed on the host.
	Link string
}

// IsDir reports whether the entry is a directory.
func (f File) IsDir() bool { return f.Mode.IsDir() }

// IsRegular reports whether the entry is a regular file.
func (f File) IsRegular() bool { return f.Mode.IsRegular() }

// IsSymlink reports whether the entry is a symbolic link.
func (f File) IsSymlink() bool { return f.Mode&fs.ModeSymlink != 0 }

// IsSpecial reports whether the entry is a named pipe, socket or device: sent as such
// (BuildKit recreates it) and never opened by charter.
func (f File) IsSpecial() bool {
	return f.Mode&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

// Lookup returns the sent entry at rel (relative, slash-separated).
func (c *Context) Lookup(rel string) (File, bool) {
	i, ok := c.tree.index[strings.Trim(path.Clean("/"+rel), "/")]
	if !ok {
		return File{}, false
	}
	return c.Files[i], true
}

// Load walks the context at root as `docker build` would send it, with the ignore file
// that applies to dockerfilePath: `<dockerfilePath>.dockerignore` when it exists, else
// `<root>/.dockerignore`. dockerfilePath may be "" or "-" (no Dockerfile on disk). The
// Dockerfile and the ignore file are always sent, as the builder needs them.
//
// Load never follows a symbolic link and never opens a file other than the ignore file;
// unreadable entries become Warnings. It fails on a malformed ignore file (an
// *IgnoreError naming the line), an unreadable root, more than Options.MaxFiles entries,
// or a cancelled ctx.
func Load(ctx context.Context, root, dockerfilePath string, opts Options) (*Context, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", root, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	defer closeReadOnly(r)
	c := &Context{Root: abs, opts: opts.withDefaults()}
	var dfAbs string
	if dockerfilePath != "" && dockerfilePath != "-" {
		if dfAbs, err = filepath.Abs(dockerfilePath); err != nil {
			return nil, fmt.Errorf("dockerfile %s: %w", dockerfilePath, err)
		}
		c.Dockerfile = insideRoot(abs, dfAbs)
	}
	if c.ignoreRel, err = c.loadIgnore(r, dfAbs); err != nil {
		return nil, err
	}
	w := newWalker(ctx, c, c.Dockerfile, IgnoreFileName, c.ignoreRel)
	if err := w.walkDir(r, ""); err != nil {
		return nil, err
	}
	c.tree = newTree(c.Files, w.end)
	return c, nil
}

// insideRoot returns p relative to root, slash-separated, or "" when p is outside.
func insideRoot(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}

// loadIgnore reads the ignore file in effect and returns its context-relative path ("" if
// it is outside the context or absent).
func (c *Context) loadIgnore(r *os.Root, dfAbs string) (string, error) {
	if dfAbs != "" {
		name := dfAbs + IgnoreFileName
		data, err := readIgnoreFile(func() (*os.File, error) { return os.Open(name) })
		switch {
		case err == nil:
			ig, err := ParseIgnore(name, data)
			if err != nil {
				return "", err
			}
			c.Ignore = ig
			return insideRoot(c.Root, name), nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("%s: %w", name, err)
		}
	}
	data, err := readIgnoreFile(func() (*os.File, error) { return r.Open(IgnoreFileName) })
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	name := filepath.Join(c.Root, IgnoreFileName)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	ig, err := ParseIgnore(name, data)
	if err != nil {
		return "", err
	}
	c.Ignore = ig
	return IgnoreFileName, nil
}

func readIgnoreFile(open func() (*os.File, error)) ([]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer closeReadOnly(f)
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxIgnoreBytes {
		return nil, fmt.Errorf("%w (over %d KiB)", errIgnoreTooLarge, maxIgnoreBytes>>10)
	}
	return data, nil
}

// forcedSet holds the paths Load keeps whatever the ignore file says, and their parent
// directories, which must be walked to reach them.
type forcedSet struct {
	paths, dirs map[string]bool
}

func newForcedSet(paths ...string) forcedSet {
	s := forcedSet{paths: map[string]bool{}, dirs: map[string]bool{}}
	for _, p := range paths {
		if p == "" {
			continue
		}
		s.paths[p] = true
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
	return s
}

// sortEntries orders directory entries by name, as the builder's walker does.
func sortEntries(entries []fs.DirEntry) {
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}
