// Package dockerfile parses Dockerfiles with BuildKit's own parser, resolves their stage
// graph, parses RUN bodies as shell, and checks them against charter's Dockerfile rules
// (DF…, with hadolint's DL IDs as aliases).
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MaxSize caps how much of a Dockerfile is read. Real Dockerfiles are a few kilobytes;
// anything past this is not a Dockerfile a builder would accept either.
const MaxSize = 4 << 20

// File is a parsed Dockerfile.
type File struct {
	Path   string
	Escape rune
	// Syntax is the `# syntax=` directive's frontend image, when present.
	Syntax string
	// Lines is the source split into lines (1-based access via Line).
	Lines []string
	// Global holds the instructions before the first FROM (ARGs, in a valid file).
	Global []*Instruction
	// Stages in order; Instructions holds every top-level instruction in order.
	Stages       []*Stage
	Instructions []*Instruction
	// Warnings are the parser's non-fatal complaints (empty continuation lines…).
	Warnings []string

	pragmas pragmas
}

// Line returns source line n (1-based), or "" when out of range.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.Lines) {
		return ""
	}
	return f.Lines[n-1]
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Cmd is the upper-case instruction name: RUN, COPY, FROM…
	Cmd string
	// Flags are the raw flags as written, e.g. "--from=build".
	Flags []string
	// Args are the instruction's arguments as BuildKit splits them: for RUN/CMD/ENTRYPOINT
	// in shell form a single string, in JSON form one per element; for ENV and LABEL
	// alternating keys and values; for FROM the words.
	Args []string
	// JSON is true for the exec (JSON array) form.
	JSON bool
	// Original is the instruction text with continuations joined.
	Original string
	Line     int
	EndLine  int
	Heredocs []Heredoc
	// Stage is the stage the instruction belongs to; nil for global ARGs.
	Stage *Stage
	// Inner is the wrapped instruction of an ONBUILD; OnBuild marks that inner instruction.
	Inner   *Instruction
	OnBuild bool

	script *Script
}

// Heredoc is a here-document attached to RUN, COPY or ADD.
type Heredoc struct {
	Name    string
	Content string
	Expand  bool
	Chomp   bool
}

// Flag returns the value of --name=value (or "" and true for a bare --name).
func (i *Instruction) Flag(name string) (string, bool) {
	for _, f := range i.Flags {
		f = strings.TrimPrefix(f, "--")
		k, v, hasValue := strings.Cut(f, "=")
		if strings.EqualFold(k, name) {
			if !hasValue {
				return "", true
			}
			return v, true
		}
	}
	return "", false
}

// FlagValues returns every value of a repeatable flag such as --mount.
func (i *Instruction) FlagValues(name string) []string {
	var out []string
	for _, f := range i.Flags {
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if strings.EqualFold(k, name) {
			out = append(out, v)
		}
	}
	return out
}

// Stage is one FROM … block.
type Stage struct {
	Index int
	// Name is the stage's alias (AS name), lower-cased as BuildKit treats it.
	Name string
	// Base is the image reference as written; BaseExpanded has global ARG defaults applied.
	Base         string
	BaseExpanded string
	// BaseStage is set when FROM names an earlier stage: then it is not an image.
	BaseStage *Stage
	Platform  string
	From      *Instruction
	// Instructions are the stage's instructions after FROM.
	Instructions []*Instruction
}

// IsScratch reports whether the stage starts from the empty image.
func (s *Stage) IsScratch() bool {
	return s.BaseStage == nil && strings.EqualFold(s.BaseExpanded, "scratch")
}

// Final returns the last stage, the one `docker build` produces without --target.
func (f *File) Final() *Stage {
	if len(f.Stages) == 0 {
		return nil
	}
	return f.Stages[len(f.Stages)-1]
}

// StageByName finds a stage by alias or by index ("0", "1"…), as COPY --from does.
func (f *File) StageByName(name string) *Stage {
	name = strings.ToLower(name)
	for _, s := range f.Stages {
		if s.Name != "" && s.Name == name {
			return s
		}
	}
	for _, s := range f.Stages {
		if fmt.Sprint(s.Index) == name {
			return s
		}
	}
	return nil
}

// Each calls fn for every instruction in order, and for ONBUILD also for its inner
// instruction (flagged OnBuild), which is what rules about RUN or COPY want to see.
func (f *File) Each(fn func(*Instruction)) {
	for _, ins := range f.Instructions {
		fn(ins)
		if ins.Inner != nil {
			fn(ins.Inner)
		}
	}
}

// ParseError is a Dockerfile the builder would reject, with the line at fault.
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

var knownInstructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "FROM": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true,
	"ONBUILD": true, "RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true,
	"VOLUME": true, "WORKDIR": true,
}

// Parse reads a Dockerfile. path is used in errors and findings only.
func Parse(path string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseBytes(path, data)
}

// ParseBytes parses a Dockerfile held in memory.
func ParseBytes(path string, data []byte) (*File, error) {
	if len(data) > MaxSize {
		return nil, &ParseError{Path: path, Msg: fmt.Sprintf("file larger than %d MiB; not a Dockerfile", MaxSize>>20)}
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, &ParseError{Path: path, Msg: "binary or non-UTF-8 content; not a Dockerfile"}
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, &ParseError{Path: path, Line: errorLine(err), Msg: errorMessage(err)}
	}
	f := &File{Path: path, Escape: res.EscapeToken}
	f.Lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if syntax, _, _, ok := parser.DetectSyntax(data); ok {
		f.Syntax = syntax
	}
	for _, w := range res.Warnings {
		f.Warnings = append(f.Warnings, w.Short)
	}
	for _, node := range res.AST.Children {
		ins, err := f.instruction(node)
		if err != nil {
			return nil, err
		}
		if err := f.place(ins); err != nil {
			return nil, err
		}
	}
	if len(f.Stages) == 0 {
		return nil, &ParseError{Path: path, Line: 1, Msg: "no FROM instruction"}
	}
	f.resolveStages()
	f.pragmas = parsePragmas(f.Lines, f.Instructions)
	return f, nil
}

func (f *File) instruction(node *parser.Node) (*Instruction, error) {
	cmd := strings.ToUpper(node.Value)
	if !knownInstructions[cmd] {
		return nil, &ParseError{Path: f.Path, Line: node.StartLine, Msg: "unknown instruction: " + node.Value}
	}
	ins := &Instruction{
		Cmd:      cmd,
		Flags:    node.Flags,
		JSON:     node.Attributes["json"],
		Original: node.Original,
		Line:     node.StartLine,
		EndLine:  node.EndLine,
	}
	for _, h := range node.Heredocs {
		ins.Heredocs = append(ins.Heredocs, Heredoc{Name: h.Name, Content: h.Content, Expand: h.Expand, Chomp: h.Chomp})
	}
	if cmd == "ONBUILD" {
		if node.Next == nil || len(node.Next.Children) == 0 {
			return nil, &ParseError{Path: f.Path, Line: node.StartLine, Msg: "ONBUILD requires an instruction"}
		}
		inner, err := f.instruction(node.Next.Children[0])
		if err != nil {
			return nil, err
		}
		// ONBUILD ONBUILD/FROM/MAINTAINER fail the child build, not this one: they are
		// kept so that a rule reports them with the rest of the file's problems.
		inner.OnBuild = true
		inner.Line, inner.EndLine = node.StartLine, node.EndLine
		inner.Heredocs = ins.Heredocs
		ins.Inner = inner
		return ins, nil
	}
	for n := node.Next; n != nil; n = n.Next {
		ins.Args = append(ins.Args, n.Value)
	}
	return ins, nil
}

func (f *File) place(ins *Instruction) error {
	f.Instructions = append(f.Instructions, ins)
	if ins.Cmd == "FROM" {
		st, err := f.newStage(ins)
		if err != nil {
			return err
		}
		f.Stages = append(f.Stages, st)
		ins.Stage = st
		return nil
	}
	if len(f.Stages) == 0 {
		// Only ARG belongs before the first FROM; anything else is kept in Global so that
		// a rule reports it (the builder refuses the file) alongside every other finding.
		f.Global = append(f.Global, ins)
		return nil
	}
	st := f.Stages[len(f.Stages)-1]
	ins.Stage = st
	if ins.Inner != nil {
		ins.Inner.Stage = st
	}
	st.Instructions = append(st.Instructions, ins)
	return nil
}

func (f *File) newStage(ins *Instruction) (*Stage, error) {
	st := &Stage{Index: len(f.Stages), From: ins}
	switch len(ins.Args) {
	case 1:
	case 3:
		if !strings.EqualFold(ins.Args[1], "AS") {
			return nil, &ParseError{Path: f.Path, Line: ins.Line, Msg: "FROM: expected 'AS' before the stage name, got " + ins.Args[1]}
		}
		st.Name = strings.ToLower(ins.Args[2])
	default:
		return nil, &ParseError{Path: f.Path, Line: ins.Line, Msg: "FROM requires an image and optionally 'AS name'"}
	}
	st.Base = ins.Args[0]
	st.Platform, _ = ins.Flag("platform")
	return st, nil
}

func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, loc := range le.Locations {
			for _, r := range loc {
				if r.Start.Line > 0 {
					return r.Start.Line
				}
			}
		}
	}
	return 0
}

func errorMessage(err error) string {
	var le *parser.LocationError
	if errors.As(err, &le) && le.Unwrap() != nil {
		return le.Unwrap().Error()
	}
	return err.Error()
}
