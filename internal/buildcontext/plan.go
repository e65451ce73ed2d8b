package buildcontext

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/charterhq/charter/internal/dockerfile"
)

// Plan is what a build of a Dockerfile does with the context: which sent entries land in
// the final image and through which instructions, which are copied only into other
// stages or bind-mounted into RUN, and what could not be worked out statically.
//
// The final stage is the last one (`docker build` without --target). Files produced or
// moved by RUN are not tracked: a context file is followed only through COPY/ADD and
// FROM <stage>.
type Plan struct {
	// Final lists the context entries that land in the final image, one per destination.
	Final []Landing
	// Intermediate lists context entries copied into other stages that do not reach the
	// final image that way.
	Intermediate []Landing
	// Mounts lists context paths bind-mounted by RUN --mount=type=bind.
	Mounts []Mount
	// Unresolved lists copies that could not be resolved statically.
	Unresolved []Unresolved
	// Warnings are problems the builder would fail on (a source missing from the context,
	// COPY --from a later stage…).
	Warnings []string
}

// Landing is one context entry copied into a stage.
type Landing struct {
	// Path is the entry's context-relative path; File the entry itself.
	Path string
	File File
	// Stage is the stage it ends up in and Dest its absolute path there.
	Stage *dockerfile.Stage
	Dest  string
	// Steps are the instructions that carried it, the first one reading the context.
	Steps []Step
	// Uncertain is set when Dest depends on something unknown statically (the base
	// image's WORKDIR, a build argument without a default).
	Uncertain bool
}

// Step is one COPY/ADD that moved a file, and where it put it.
type Step struct {
	Stage       *dockerfile.Stage
	Instruction *dockerfile.Instruction
	Dest        string
}

// Mount is a context path bind-mounted into a RUN instruction ("" is the whole context).
type Mount struct {
	Path        string
	Stage       *dockerfile.Stage
	Instruction *dockerfile.Instruction
}

// Unresolved is a copy charter could not resolve statically. It matters only if one of
// Paths (or, with AnyFile, any sent file) carries a secret; Check turns it into a warning
// then.
type Unresolved struct {
	Instruction *dockerfile.Instruction
	Reason      string
	Paths       []string
	AnyFile     bool
}

// StageName names a stage for messages: its alias, or "stage N".
func StageName(s *dockerfile.Stage) string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("stage %d", s.Index)
}

// item is a context entry inside a stage's filesystem.
type item struct {
	file      File
	steps     []Step
	uncertain bool
}

// Resolve replays the Dockerfile's COPY, ADD, FROM <stage> and RUN bind mounts against
// the sent files. See Plan for what it tracks.
func Resolve(c *Context, df *dockerfile.File) *Plan {
	p := &planner{c: c, df: df, plan: &Plan{}}
	p.globals = newScope(df.Escape)
	for _, ins := range df.Global {
		p.globals.arg(ins, nil)
	}
	for _, st := range df.Stages {
		p.states = append(p.states, p.runStage(st))
	}
	p.collect()
	return p.plan
}

type planner struct {
	c       *Context
	df      *dockerfile.File
	globals *scope
	states  []*stageState
	plan    *Plan
}

func (p *planner) warnf(ins *dockerfile.Instruction, format string, args ...any) {
	p.plan.Warnings = append(p.plan.Warnings, fmt.Sprintf("%s:%d: ", p.df.Path, ins.Line)+fmt.Sprintf(format, args...))
}

func (p *planner) unresolved(ins *dockerfile.Instruction, reason string, paths []string) {
	p.plan.Unresolved = append(p.plan.Unresolved, Unresolved{Instruction: ins, Reason: reason, Paths: paths, AnyFile: paths == nil})
}

// runStage builds a stage's state: its base stage's files, then the base stage's ONBUILD
// triggers, then its own instructions.
func (p *planner) runStage(st *dockerfile.Stage) *stageState {
	s := &stageState{st: st, items: map[string]*item{}, workdir: "/"}
	var list []*dockerfile.Instruction
	if b := st.BaseStage; b != nil {
		base := p.states[b.Index]
		s.items, s.scope = maps.Clone(base.items), base.scope.clone()
		s.workdir, s.workdirKnown = base.workdir, base.workdirKnown
		for _, ins := range b.Instructions {
			if ins.Inner != nil {
				list = append(list, ins.Inner)
			}
		}
	} else {
		s.scope = newScope(p.df.Escape)
		s.scope.fromImage = !st.IsScratch()
		s.workdirKnown = st.IsScratch()
	}
	for _, ins := range append(list, st.Instructions...) {
		p.instruction(s, ins)
	}
	return s
}

func (p *planner) instruction(s *stageState, ins *dockerfile.Instruction) {
	switch ins.Cmd {
	case "ARG":
		s.scope.arg(ins, p.globals)
	case "ENV":
		s.scope.env(ins)
	case "WORKDIR":
		s.setWorkdir(ins)
	case "COPY", "ADD":
		p.copyInstr(s, ins)
	case "RUN":
		p.runMounts(s, ins)
	}
}

// collect sorts the stages' items into the final image and the rest.
func (p *planner) collect() {
	if len(p.states) == 0 {
		return
	}
	final := p.states[len(p.states)-1]
	type key struct {
		path string
		ins  *dockerfile.Instruction
	}
	reached := map[key]bool{}
	for _, l := range final.landings() {
		p.plan.Final = append(p.plan.Final, l)
		reached[key{l.Path, l.Steps[0].Instruction}] = true
	}
	seen := map[key]bool{}
	for _, s := range p.states[:len(p.states)-1] {
		for _, l := range s.landings() {
			k := key{l.Path, l.Steps[0].Instruction}
			if !reached[k] && !seen[k] {
				seen[k] = true
				p.plan.Intermediate = append(p.plan.Intermediate, l)
			}
		}
	}
}

// stageState is a stage's filesystem as far as context files go, and its variables.
type stageState struct {
	st           *dockerfile.Stage
	items        map[string]*item // by path in the stage, without the leading "/"
	scope        *scope
	workdir      string
	workdirKnown bool
	tree         *tree // built on first COPY --from this stage
}

func (s *stageState) landings() []Landing {
	keys := make([]string, 0, len(s.items))
	for k := range s.items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Landing, 0, len(keys))
	seen := map[*item]bool{} // an item may sit at two paths (see copySpec.target)
	for _, k := range keys {
		it := s.items[k]
		if seen[it] {
			continue
		}
		seen[it] = true
		dest := it.steps[len(it.steps)-1].Dest // FROM <stage> keeps paths as they are
		out = append(out, Landing{Path: it.file.Path, File: it.file, Stage: s.st, Dest: dest, Steps: it.steps, Uncertain: it.uncertain})
	}
	return out
}

func (s *stageState) setWorkdir(ins *dockerfile.Instruction) {
	if len(ins.Args) == 0 {
		return
	}
	dir, dynamic := s.scope.expand(ins.Args[0])
	if path.IsAbs(dir) {
		s.workdir, s.workdirKnown = path.Clean(dir), !dynamic
		return
	}
	s.workdir = path.Join(s.workdir, dir)
	s.workdirKnown = s.workdirKnown && !dynamic
}

// stageTree is the stage's files as a tree, for resolving COPY --from sources.
func (s *stageState) stageTree() *tree {
	if s.tree == nil {
		entries := make([]File, 0, len(s.items))
		for k, it := range s.items {
			entries = append(entries, File{Path: k, Mode: it.file.Mode, Size: it.file.Size, Link: it.file.Link})
		}
		s.tree = newSyntheticTree(entries)
	}
	return s.tree
}

// itemPaths lists the context paths of the stage's files.
func (s *stageState) itemPaths() []string {
	var out []string
	for _, it := range s.items {
		out = append(out, it.file.Path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func joinDest(dest, rel string) string {
	return strings.TrimPrefix(path.Join("/", dest, rel), "/")
}
