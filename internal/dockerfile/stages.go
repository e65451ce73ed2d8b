package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// GlobalArgs returns the default values of the ARGs declared before the first FROM, which
// are the only variables FROM lines can use. An ARG without a default maps to "".
func (f *File) GlobalArgs() map[string]string {
	args := map[string]string{}
	for _, ins := range f.Global {
		if ins.Cmd != "ARG" {
			continue
		}
		for _, kv := range ArgPairs(ins) {
			args[kv.Key] = kv.Value
		}
	}
	return args
}

// KeyValue is one NAME[=value] pair of ARG, ENV or LABEL.
type KeyValue struct {
	Key      string
	Value    string
	HasValue bool
}

// ArgPairs returns an ARG instruction's declarations.
func ArgPairs(ins *Instruction) []KeyValue {
	var out []KeyValue
	for _, a := range ins.Args {
		k, v, ok := strings.Cut(a, "=")
		out = append(out, KeyValue{Key: k, Value: unquote(v), HasValue: ok})
	}
	return out
}

// EnvPairs returns the key/value pairs of ENV or LABEL. BuildKit stores each pair as three
// values: key, value and the separator ("=" for `k=v`, "" for the legacy `ENV k v` form).
func EnvPairs(ins *Instruction) []KeyValue {
	var out []KeyValue
	for i := 0; i+1 < len(ins.Args); i += 3 {
		out = append(out, KeyValue{Key: unquote(ins.Args[i]), Value: unquote(ins.Args[i+1]), HasValue: true})
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

type mapEnv map[string]string

func (m mapEnv) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (m mapEnv) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Expand substitutes $VAR and ${VAR…} in word the way BuildKit does, with vars as the
// environment. Unknown variables expand to "". On a malformed word it returns word as is.
func (f *File) Expand(word string, vars map[string]string) string {
	if !strings.Contains(word, "$") {
		return word
	}
	lex := shell.NewLex(f.Escape)
	out, _, err := lex.ProcessWord(word, mapEnv(vars))
	if err != nil {
		return word
	}
	return out
}

// resolveStages expands FROM lines with the global ARG defaults and links FROMs that name
// an earlier stage, so `FROM build` is known not to be an image pull.
func (f *File) resolveStages() {
	args := f.GlobalArgs()
	for _, st := range f.Stages {
		st.BaseExpanded = f.Expand(st.Base, args)
		name := strings.ToLower(st.BaseExpanded)
		for _, prev := range f.Stages[:st.Index] {
			if prev.Name != "" && prev.Name == name {
				st.BaseStage = prev
				break
			}
		}
	}
}

// Root returns the stage's ultimate image ancestor: for `FROM build` it follows the chain
// back to the stage that starts from an image.
func (s *Stage) Root() *Stage {
	for s.BaseStage != nil {
		s = s.BaseStage
	}
	return s
}

// ImageRef is an image reference split into its parts; Tag and Digest are "" when absent.
type ImageRef struct {
	Name, Tag, Digest string
}

// ParseImageRef splits an image reference without normalising it, so rules see what
// the author wrote: "registry:5000/ns/app:1.2@sha256:…".
func ParseImageRef(ref string) ImageRef {
	var r ImageRef
	ref, r.Digest, _ = strings.Cut(ref, "@")
	name := ref
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i+1:], "/") {
		name, r.Tag = ref[:i], ref[i+1:]
	}
	r.Name = name
	return r
}

// Registry returns the registry host of an image name, or "docker.io" for Docker Hub names.
func (r ImageRef) Registry() string {
	first, _, ok := strings.Cut(r.Name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}
