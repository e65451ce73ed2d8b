package buildcontext

import (
	"maps"
	"slices"

	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// scope is a stage's variables as far as they are known statically: ENV values, ARG
// defaults, and which names have no static value (an ARG without a default, which only
// --build-arg can set).
type scope struct {
	escape rune
	vars   map[string]string
	dyn    map[string]bool
	envs   map[string]bool // set by ENV, which a later ARG does not override
	// fromImage is set for a stage built on an image: a name the Dockerfile never sets may
	// come from the image's ENV, so it is not known to be empty.
	fromImage bool
}

func newScope(escape rune) *scope {
	return &scope{escape: escape, vars: map[string]string{}, dyn: map[string]bool{}, envs: map[string]bool{}}
}

func (s *scope) clone() *scope {
	return &scope{escape: s.escape, vars: maps.Clone(s.vars), dyn: maps.Clone(s.dyn), envs: maps.Clone(s.envs), fromImage: s.fromImage}
}

func (s *scope) set(k, v string, dynamic bool) {
	s.vars[k] = v
	if dynamic {
		s.dyn[k] = true
	} else {
		delete(s.dyn, k)
	}
}

// arg declares ARG names. Without a default, a name declared globally takes the global
// default; otherwise only --build-arg can give it a value.
func (s *scope) arg(ins *dockerfile.Instruction, globals *scope) {
	for _, kv := range dockerfile.ArgPairs(ins) {
		switch {
		case s.envs[kv.Key]:
		case kv.HasValue:
			v, dyn := s.expand(kv.Value)
			s.set(kv.Key, v, dyn)
		case globals != nil && hasKey(globals.vars, kv.Key):
			s.set(kv.Key, globals.vars[kv.Key], globals.dyn[kv.Key])
		default:
			s.set(kv.Key, "", true)
		}
	}
}

func (s *scope) env(ins *dockerfile.Instruction) {
	for _, kv := range dockerfile.EnvPairs(ins) {
		v, dyn := s.expand(kv.Value)
		s.set(kv.Key, v, dyn)
		s.envs[kv.Key] = true
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// expand substitutes variables in word with BuildKit's shell lexer, as
// dockerfile.File.Expand does, and also reports whether the result is dynamic: it uses a
// name with no static value. A word the lexer rejects is dynamic too.
func (s *scope) expand(word string) (string, bool) {
	res, err := shell.NewLex(s.escape).ProcessWordWithMatches(word, envMap(s.vars))
	if err != nil {
		return word, true
	}
	for name := range res.Matched {
		if s.dyn[name] {
			return res.Result, true
		}
	}
	return res.Result, s.fromImage && len(res.Unmatched) > 0
}

type envMap map[string]string

func (m envMap) Get(k string) (string, bool) {
	v, ok := m[k]
	return v, ok
}

func (m envMap) Keys() []string { return slices.Sorted(maps.Keys(m)) }
