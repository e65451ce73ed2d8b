package buildcontext

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
)

// tree indexes entries listed in walk order (each directory before its contents), so a
// directory's subtree is a contiguous range. The root itself is not an entry; its path
// is "".
type tree struct {
	files []File
	end   []int // one past the last entry of files[i]'s subtree
	index map[string]int
}

func newTree(files []File, end []int) *tree {
	t := &tree{files: files, end: end, index: make(map[string]int, len(files))}
	for i, f := range files {
		t.index[f.Path] = i
	}
	return t
}

// newSyntheticTree builds a tree from entries listed in any order (a stage's files),
// adding their parent directories. Where a path is both an entry and a parent, the
// directory wins, as it would on disk.
func newSyntheticTree(entries []File) *tree {
	slices.SortFunc(entries, func(a, b File) int { return strings.Compare(walkKey(a.Path), walkKey(b.Path)) })
	t := &tree{index: map[string]int{}}
	for _, e := range entries {
		t.addParents(path.Dir(e.Path))
		if _, dup := t.index[e.Path]; dup {
			continue
		}
		t.index[e.Path] = len(t.files)
		t.files = append(t.files, e)
	}
	t.end = subtreeEnds(t.files)
	return t
}

// walkKey sorts paths in walk order: "a/b" before "a-b" because "/" sorts first.
func walkKey(p string) string { return strings.ReplaceAll(p, "/", "\x00") }

func (t *tree) addParents(dir string) {
	if dir == "." || dir == "/" || dir == "" {
		return
	}
	t.addParents(path.Dir(dir))
	if i, ok := t.index[dir]; ok {
		t.files[i] = File{Path: dir, Mode: fs.ModeDir | 0o755}
		return
	}
	t.index[dir] = len(t.files)
	t.files = append(t.files, File{Path: dir, Mode: fs.ModeDir | 0o755})
}

func subtreeEnds(files []File) []int {
	end := make([]int, len(files))
	var stack []int
	for i, f := range files {
		for len(stack) > 0 && !strings.HasPrefix(f.Path, files[stack[len(stack)-1]].Path+"/") {
			end[stack[len(stack)-1]] = i
			stack = stack[:len(stack)-1]
		}
		end[i] = i + 1
		if f.IsDir() {
			stack = append(stack, i)
		}
	}
	for _, s := range stack {
		end[s] = len(files)
	}
	return end
}

// below returns the range of entries under dir ("" for the root).
func (t *tree) below(dir string) (int, int) {
	if dir == "" {
		return 0, len(t.files)
	}
	i := t.index[dir]
	return i + 1, t.end[i]
}

func (t *tree) isDir(p string) bool {
	if p == "" {
		return true
	}
	i, ok := t.index[p]
	return ok && t.files[i].IsDir()
}

var (
	errNotFound = errors.New("not found among the files sent")
	errLinkLoop = errors.New("too many levels of symbolic links")
)

// follow resolves the symlinks in p as BuildKit resolves a copy source: inside the tree,
// an absolute target counting from the tree's root and ".." stopping there. It never
// touches the host filesystem.
func (t *tree) follow(p string) (string, error) {
	parts := splitPath(p)
	resolved, hops := "", 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(resolved, parts[i]) // splitPath left no "." or ".."
		idx, ok := t.index[next]
		if !ok {
			return "", errNotFound
		}
		if f := t.files[idx]; f.IsSymlink() {
			if hops++; hops > maxLinkHops {
				return "", errLinkLoop
			}
			base := resolved
			if path.IsAbs(f.Link) {
				base = ""
			}
			rest := append([]string{"/", base, f.Link}, parts[i+1:]...)
			parts, resolved, i = splitPath(path.Join(rest...)), "", -1
			continue
		}
		if i < len(parts)-1 && !t.files[idx].IsDir() {
			return "", errNotFound
		}
		resolved = next
	}
	return resolved, nil
}

// splitPath cleans p as a path from the root ("/.." is "/") and splits it.
func splitPath(p string) []string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return nil
	}
	return strings.Split(c, "/")
}

// srcRoot is one match of a copy source.
type srcRoot struct {
	name string // the matched path before symlinks were followed; its base names a file copied into a directory
	path string // the resolved path in the tree, "" for the root
}

// resolve matches a copy source (relative to the tree root, cleaned) as BuildKit does:
// without wildcards the path itself; with them, the entries below the literal prefix
// whose relative path matches the rest (filepath.Match, so "*" stops at "/"), a matching
// directory ending the descent. Symlinks are followed, inside the tree only.
func (t *tree) resolve(src string) ([]srcRoot, error) {
	parts := splitPath(src)
	k := slices.IndexFunc(parts, containsWildcards)
	if k < 0 {
		p, err := t.follow(src)
		if err != nil {
			return nil, err
		}
		return []srcRoot{{name: strings.Join(parts, "/"), path: p}}, nil
	}
	base, err := t.follow(strings.Join(parts[:k], "/"))
	if err != nil || !t.isDir(base) {
		return nil, nil // an empty wildcard match is allowed
	}
	pattern := strings.Join(parts[k:], "/")
	var out []srcRoot
	var firstErr error
	start, end := t.below(base)
	for i := start; i < end; {
		f := t.files[i]
		rel := strings.TrimPrefix(f.Path, base+"/")
		if ok, _ := filepath.Match(pattern, rel); !ok {
			i++
			continue
		}
		i = t.end[i]
		p, err := t.follow(f.Path)
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("%s: %w", f.Path, err))
			continue
		}
		out = append(out, srcRoot{name: f.Path, path: p})
	}
	return out, firstErr
}

// containsWildcards reports whether a path component holds *, ? or [ not escaped by \.
func containsWildcards(name string) bool {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// each calls fn for every entry a copy of root takes: root itself when it is not a
// directory (rel ""), else every entry below it with its path relative to root.
func (t *tree) each(root string, fn func(f File, rel string)) {
	if !t.isDir(root) {
		fn(t.files[t.index[root]], "")
		return
	}
	start, end := t.below(root)
	for i := start; i < end; i++ {
		rel := t.files[i].Path
		if root != "" {
			rel = rel[len(root)+1:]
		}
		fn(t.files[i], rel)
	}
}

// relMatcher applies COPY's --exclude (or --parents' include) patterns to paths relative
// to a copy source, passing each directory's match state to its entries as BuildKit's
// copier does.
type relMatcher struct {
	pm   *patternmatcher.PatternMatcher
	dirs map[string]patternmatcher.MatchInfo
}

func newRelMatcher(patterns []string) (*relMatcher, error) {
	for _, p := range patterns {
		if err := validatePattern(p); err != nil {
			return nil, &IgnoreError{Path: "pattern", Pattern: p, Err: err}
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	return &relMatcher{pm: pm, dirs: map[string]patternmatcher.MatchInfo{}}, nil
}

func (r *relMatcher) match(rel string) bool {
	m, _ := r.info(rel)
	return m
}

func (r *relMatcher) info(rel string) (bool, patternmatcher.MatchInfo) {
	var parent patternmatcher.MatchInfo
	if d := path.Dir(rel); d != "." {
		if pi, ok := r.dirs[d]; ok {
			parent = pi
		} else {
			_, parent = r.info(d)
			r.dirs[d] = parent
		}
	}
	m, info, err := r.pm.MatchesUsingParentResults(rel, parent)
	if err != nil {
		return false, info // unreachable: patterns were validated
	}
	return m, info
}
