package image

import "strings"

// node is one path of the filesystem being squashed.
type node struct {
	file     *File // nil for a directory no layer has named yet
	children map[string]*node
}

func (n *node) child(name string, create bool) *node {
	c := n.children[name]
	if c == nil && create {
		if n.children == nil {
			n.children = map[string]*node{}
		}
		c = &node{}
		n.children[name] = c
	}
	return c
}

// lookup walks to a rooted path; create makes missing parents as unnamed directories.
func (n *node) lookup(p string, create bool) *node {
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if part == "" {
			continue
		}
		if n = n.child(part, create); n == nil {
			return nil
		}
	}
	return n
}

// squash applies the layers in order, as an overlay filesystem would, and returns the
// final view plus every file a later layer hid. Per the OCI layer spec, a layer's
// whiteouts and opaque directories apply to the layers below it only, then its own
// entries are added.
func squash(layers []*Layer) (map[string]*File, []Hidden) {
	root := &node{}
	var hidden []Hidden
	hide := func(n *node, by int, how HideReason) {
		n.each(func(f *File) { hidden = append(hidden, Hidden{File: f, By: by, How: how}) })
	}
	for _, l := range layers {
		for _, d := range l.Opaque {
			if n := root.lookup(d, false); n != nil {
				for _, c := range n.children {
					hide(c, l.Index, HiddenByOpaque)
				}
				n.children = nil
			}
		}
		for _, w := range l.Whiteouts {
			dir, name := splitPath(w)
			if parent := root.lookup(dir, false); parent != nil {
				if n := parent.children[name]; n != nil {
					hide(n, l.Index, HiddenByWhiteout)
					delete(parent.children, name)
				}
			}
		}
		for i := range l.Files {
			f := &l.Files[i]
			n := root.lookup(f.Path, true)
			if old := n.file; old != nil && (!old.Mode.IsDir() || !f.Mode.IsDir()) {
				hidden = append(hidden, Hidden{File: old, By: l.Index, How: HiddenByOverwrite})
			}
			if !f.Mode.IsDir() {
				for _, c := range n.children {
					hide(c, l.Index, HiddenByParentSwap)
				}
				n.children = nil
			}
			n.file = f
		}
	}
	final := map[string]*File{}
	root.each(func(f *File) { final[f.Path] = f })
	return final, hidden
}

// each visits the files at and below n.
func (n *node) each(fn func(*File)) {
	if n.file != nil {
		fn(n.file)
	}
	for _, c := range n.children {
		c.each(fn)
	}
}

func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}
