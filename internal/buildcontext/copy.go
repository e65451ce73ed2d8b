package buildcontext

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// copySpec is one COPY or ADD with its destination and flags resolved.
type copySpec struct {
	ins       *dockerfile.Instruction
	dest      string // absolute, cleaned
	destDir   bool   // the destination names a directory
	uncertain bool   // dest depends on the base image's WORKDIR or a dynamic variable
	parents   bool
	exclude   *relMatcher
}

// copyFrom is what a COPY reads: the context, or the files of an earlier stage.
type copyFrom struct {
	tree  *tree
	stage *stageState // nil for the context
}

func (p *planner) copyInstr(s *stageState, ins *dockerfile.Instruction) {
	if len(ins.Args) < 2 {
		return
	}
	from, ok := p.copySource(s, ins)
	if !ok {
		return
	}
	spec, err := newCopySpec(s, ins)
	if err != nil {
		p.warnf(ins, "%v", err)
		return
	}
	matched := map[*item]bool{}
	for _, w := range ins.Args[:len(ins.Args)-1] {
		if parser.MustParseHeredoc(w) != nil {
			continue // inline content, not a file
		}
		word, dynamic := s.scope.expand(w)
		switch {
		case ins.Cmd == "ADD" && isRemote(word):
			continue // fetched by the builder, not taken from the context
		case dynamic:
			p.unresolvedWord(from, ins, w)
			continue
		}
		p.copyWord(s, spec, from, word, matched)
	}
	if from.stage != nil {
		p.uncertainLeftBehind(from, ins, matched)
	}
}

// copySource tells where a COPY reads from; false for an image or named context.
func (p *planner) copySource(s *stageState, ins *dockerfile.Instruction) (copyFrom, bool) {
	name, ok := ins.Flag("from")
	if !ok || ins.Cmd != "COPY" {
		return copyFrom{tree: p.c.tree}, true
	}
	if strings.Contains(name, "$") {
		p.warnf(ins, "COPY --from=%s: variable expansion is not supported for --from (the builder rejects it)", name)
		return copyFrom{}, false
	}
	st := p.df.StageByName(name)
	if st == nil {
		return copyFrom{}, false // an image or a named build context
	}
	if st.Index >= s.st.Index {
		p.warnf(ins, "COPY --from=%s: a stage can only copy from a stage defined before it (the builder rejects it)", name)
		return copyFrom{}, false
	}
	src := p.states[st.Index]
	return copyFrom{tree: src.stageTree(), stage: src}, true
}

func newCopySpec(s *stageState, ins *dockerfile.Instruction) (*copySpec, error) {
	raw, dynamic := s.scope.expand(ins.Args[len(ins.Args)-1])
	sp := &copySpec{ins: ins, uncertain: dynamic}
	sp.destDir = strings.HasSuffix(raw, "/") || raw == "." || raw == "" || len(ins.Args) > 2
	if path.IsAbs(raw) {
		sp.dest = path.Clean(raw)
	} else {
		sp.dest = path.Join(s.workdir, raw)
		sp.uncertain = sp.uncertain || !s.workdirKnown
	}
	if v, ok := ins.Flag("parents"); ok && ins.Cmd == "COPY" {
		sp.parents = v == "" || strings.EqualFold(v, "true")
	}
	if ex := ins.FlagValues("exclude"); len(ex) > 0 {
		m, err := newRelMatcher(ex)
		if err != nil {
			return nil, fmt.Errorf("%s --exclude: %w", ins.Cmd, err)
		}
		sp.exclude = m
	}
	return sp, nil
}

// isRemote reports whether an ADD source is a URL or a Git repository.
func isRemote(src string) bool {
	for _, prefix := range []string{"http://", "https://", "git@", "git://", "ssh://"} {
		if strings.HasPrefix(src, prefix) {
			return true
		}
	}
	return false
}

// copyWord copies one source word into the stage.
func (p *planner) copyWord(s *stageState, sp *copySpec, from copyFrom, word string, matched map[*item]bool) {
	src, include := word, (*relMatcher)(nil)
	if sp.parents {
		var err error
		if src, include, err = parentsPivot(word); err != nil {
			p.warnf(sp.ins, "COPY --parents %s: %v", word, err)
			return
		}
	}
	roots, err := from.tree.resolve(src)
	if err != nil && from.stage == nil {
		what := "not found among the files sent (the build fails, or .dockerignore excludes it)"
		if !errors.Is(err, errNotFound) {
			what = err.Error()
		}
		p.warnf(sp.ins, "%s source %q: %s", sp.ins.Cmd, word, what)
	}
	for _, r := range roots {
		rootIsDir := from.tree.isDir(r.path)
		from.tree.each(r.path, func(f File, rel string) {
			if f.IsDir() || (rel != "" && sp.exclude != nil && sp.exclude.match(rel)) {
				return
			}
			if include != nil && rel != "" && !include.match(rel) {
				return
			}
			target, alt := sp.target(r, rootIsDir, rel)
			if it := p.place(s, sp, from, f, target, alt); it != nil && from.stage != nil {
				matched[from.stage.items[f.Path]] = true
			}
		})
	}
}

// parentsPivot splits a COPY --parents source at its "/./" pivot: the part before is
// copied from, the part after is kept as the path below the destination.
func parentsPivot(word string) (string, *relMatcher, error) {
	parent, pattern, ok := strings.Cut(word, "/./")
	if !ok {
		parent, pattern = "/", word
	}
	pattern = strings.TrimPrefix(path.Clean("/"+pattern), "/")
	if pattern == "" {
		return parent, nil, nil
	}
	m, err := newRelMatcher([]string{pattern})
	return parent, m, err
}

// target is where an entry lands. A directory source is copied by content; a single
// file goes into a destination directory under its own name, or becomes the destination
// path itself, unless that path is an existing directory in the stage, which charter
// cannot know: the file may then sit at either of the two paths returned.
func (sp *copySpec) target(r srcRoot, rootIsDir bool, rel string) (string, string) {
	if rootIsDir || sp.parents {
		return joinDest(sp.dest, rel), ""
	}
	name := path.Base(r.name)
	if sp.destDir {
		return joinDest(sp.dest, name), ""
	}
	return joinDest(sp.dest, ""), joinDest(sp.dest, name)
}

// place puts the entry f (from the context, or a path in the source stage) at target.
func (p *planner) place(s *stageState, sp *copySpec, from copyFrom, f File, target, alt string) *item {
	if target == "" {
		return nil // a file cannot replace the root directory; the builder fails
	}
	step := Step{Stage: s.st, Instruction: sp.ins, Dest: "/" + target}
	it := &item{file: f, steps: []Step{step}, uncertain: sp.uncertain}
	if from.stage != nil {
		orig := from.stage.items[f.Path]
		if orig == nil {
			return nil
		}
		it.file = orig.file
		it.steps = append(slices.Clip(orig.steps), step)
		it.uncertain = orig.uncertain || sp.uncertain
	}
	s.items[target] = it
	if alt != "" {
		s.items[alt] = it
	}
	s.tree = nil
	return it
}

func (p *planner) unresolvedWord(from copyFrom, ins *dockerfile.Instruction, word string) {
	reason := fmt.Sprintf("%s source %q depends on a build argument without a default or on the base image's ENV", ins.Cmd, word)
	if from.stage == nil {
		p.unresolved(ins, reason, nil)
		return
	}
	if paths := from.stage.itemPaths(); len(paths) > 0 {
		p.unresolved(ins, reason, paths)
	}
}

// uncertainLeftBehind notes the files of the source stage whose paths were not known
// statically and that this COPY --from did not take: it may have taken them after all.
func (p *planner) uncertainLeftBehind(from copyFrom, ins *dockerfile.Instruction, matched map[*item]bool) {
	var paths []string
	for _, it := range from.stage.items {
		if it.uncertain && !matched[it] {
			paths = append(paths, it.file.Path)
		}
	}
	if len(paths) == 0 {
		return
	}
	slices.Sort(paths)
	p.unresolved(ins, fmt.Sprintf("stage %s holds context files at paths that depend on its base image's WORKDIR or a build argument",
		StageName(from.stage.st)), slices.Compact(paths))
}

// runMounts records the context paths a RUN bind-mounts: sent to the builder, not
// copied into the image.
func (p *planner) runMounts(s *stageState, ins *dockerfile.Instruction) {
	for _, v := range ins.FlagValues("mount") {
		opts := parseMount(v)
		if (opts["type"] != "" && opts["type"] != "bind") || opts["from"] != "" {
			continue
		}
		src, dynamic := s.scope.expand(opts["source"])
		if dynamic {
			continue
		}
		resolved, err := p.c.tree.follow(src)
		if err != nil {
			p.warnf(ins, "RUN --mount source %q: %v", src, err)
			continue
		}
		p.plan.Mounts = append(p.plan.Mounts, Mount{Path: resolved, Stage: s.st, Instruction: ins})
	}
}

// parseMount splits a --mount value into its options ("src" is read as "source").
func parseMount(v string) map[string]string {
	out := map[string]string{}
	for _, field := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(field), "=")
		k = strings.ToLower(k)
		if k == "src" {
			k = "source"
		}
		out[k] = strings.Trim(val, `"`)
	}
	return out
}
