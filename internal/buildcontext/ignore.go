package buildcontext

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
)

// IgnoreFileName is the context-level ignore file. A Dockerfile-specific
// `<Dockerfile>.dockerignore` beside the Dockerfile takes precedence over it.
const IgnoreFileName = ".dockerignore"

// Ignore is a parsed .dockerignore: its patterns in order, each with its line.
// A nil *Ignore excludes nothing.
type Ignore struct {
	// Path is the file the patterns came from, as given to ParseIgnore.
	Path     string
	Patterns []IgnorePattern

	pm *patternmatcher.PatternMatcher
	// globExceptions is true when an exception ("!…") has a wildcard before its last
	// "/*" or "/**": then no excluded directory can be skipped, because the exception
	// might re-include something anywhere below it.
	globExceptions bool
}

// IgnorePattern is one pattern line of a .dockerignore.
type IgnorePattern struct {
	Line int
	// Pattern is normalised as BuildKit does: trimmed, cleaned with filepath.Clean,
	// slash-separated, without a leading "/".
	Pattern string
	// Negate marks an exception ("!pattern") that re-includes what earlier lines excluded.
	Negate bool
}

// String returns the pattern as the matcher sees it, with its "!" if any.
func (p IgnorePattern) String() string {
	if p.Negate {
		return "!" + p.Pattern
	}
	return p.Pattern
}

// IgnoreError is a .dockerignore the builder would reject.
type IgnoreError struct {
	Path    string
	Line    int
	Pattern string
	Err     error
}

func (e *IgnoreError) Error() string {
	if e.Pattern == "" {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: invalid pattern %q: %v (fix or remove the line; the builder rejects it too)",
		e.Path, e.Line, e.Pattern, e.Err)
}

func (e *IgnoreError) Unwrap() error { return e.Err }

// ParseIgnore parses .dockerignore content with the rules of BuildKit's reader
// (moby/patternmatcher/ignorefile): a UTF-8 BOM is dropped, a line starting with "#" is a
// comment, blank lines are skipped, patterns are trimmed, cleaned and lose a leading "/".
// A pattern the matcher would reject is an *IgnoreError naming the line.
func ParseIgnore(name string, data []byte) (*Ignore, error) {
	ig := &Ignore{Path: name}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		text := sc.Bytes()
		if line == 0 {
			text = bytes.TrimPrefix(text, []byte{0xEF, 0xBB, 0xBF})
		}
		line++
		p, ok := normalizeIgnoreLine(string(text))
		if !ok {
			continue
		}
		if err := validatePattern(p.String()); err != nil {
			return nil, &IgnoreError{Path: name, Line: line, Pattern: strings.TrimSpace(string(text)), Err: err}
		}
		p.Line = line
		ig.Patterns = append(ig.Patterns, p)
	}
	if err := sc.Err(); err != nil {
		return nil, &IgnoreError{Path: name, Line: line + 1, Err: err}
	}
	return ig, ig.compile()
}

// normalizeIgnoreLine applies ignorefile.ReadAll's rules to one line.
func normalizeIgnoreLine(text string) (IgnorePattern, bool) {
	if strings.HasPrefix(text, "#") {
		return IgnorePattern{}, false
	}
	p := strings.TrimSpace(text)
	if p == "" {
		return IgnorePattern{}, false
	}
	var out IgnorePattern
	if p[0] == '!' {
		out.Negate = true
		p = strings.TrimSpace(p[1:])
	}
	if p != "" {
		p = filepath.ToSlash(filepath.Clean(p))
		if len(p) > 1 && p[0] == '/' {
			p = p[1:]
		}
	}
	out.Pattern = p
	return out, true
}

// validatePattern rejects what patternmatcher would reject, including regular-expression
// errors it only finds on first use: a pattern is compiled by matching once, behind a
// catch-all pattern for an exception so that the exception is evaluated.
func validatePattern(full string) error {
	list := []string{full}
	if strings.HasPrefix(strings.TrimSpace(full), "!") {
		list = []string{"**", full}
	}
	pm, err := patternmatcher.New(list)
	if err != nil {
		return err
	}
	_, err = pm.MatchesOrParentMatches("x")
	return err
}

func (ig *Ignore) compile() error {
	list := make([]string, len(ig.Patterns))
	for i, p := range ig.Patterns {
		list[i] = p.String()
	}
	pm, err := patternmatcher.New(list)
	if err != nil {
		return &IgnoreError{Path: ig.Path, Err: err}
	}
	ig.pm = pm
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.ContainsAny(withoutTrailingGlob(p.String()), `*[]?^\`) {
			ig.globExceptions = true
		}
	}
	return nil
}

func withoutTrailingGlob(p string) string {
	p = strings.TrimSuffix(p, "/**")
	return strings.TrimSuffix(p, "/*")
}

// match reports whether rel is excluded given its parent directory's match state, the
// way BuildKit's walker calls the matcher (MatchesUsingParentResults).
func (ig *Ignore) match(rel string, parent patternmatcher.MatchInfo) (bool, patternmatcher.MatchInfo, error) {
	if ig == nil || len(ig.Patterns) == 0 {
		return false, patternmatcher.MatchInfo{}, nil
	}
	return ig.pm.MatchesUsingParentResults(rel, parent)
}

// descend reports whether an excluded directory must still be walked because an
// exception could re-include something below it. BuildKit skips it otherwise, which also
// means nothing below it is sent, whatever later lines say.
func (ig *Ignore) descend(dir string) bool {
	if ig == nil || !ig.pm.Exclusions() {
		return false
	}
	if ig.globExceptions {
		return true
	}
	dirSlash := dir + "/"
	for _, p := range ig.pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(withoutTrailingGlob(p.String())+"/", dirSlash) {
			return true
		}
	}
	return false
}

// Excludes reports whether the builder would leave the context path rel (relative,
// slash-separated) out of the context: it replays the walk from the root down to rel,
// so parent-directory matches and skipped directories count exactly as they do in a
// build. An excluded directory is still sent, holding only what an exception re-includes
// below it. The Dockerfile and .dockerignore, which Load always keeps, are not special here.
// Each ancestor is matched in turn, so the cost grows with the square of rel's depth; real
// paths are bounded by the filesystem's PATH_MAX.
func (ig *Ignore) Excludes(rel string) bool {
	rel = strings.Trim(filepathToSlashClean(rel), "/")
	if ig == nil || rel == "" || rel == "." {
		return false
	}
	var info patternmatcher.MatchInfo
	for end := 0; ; {
		next := strings.IndexByte(rel[end+1:], '/')
		last := next < 0
		if last {
			end = len(rel)
		} else {
			end += 1 + next
		}
		p := rel[:end]
		m, pinfo, err := ig.match(p, info)
		switch {
		case err != nil:
			return true // unreachable after ParseIgnore's validation; fail closed
		case last:
			return m
		case m && !ig.descend(p):
			return true
		}
		info = pinfo
	}
}

func filepathToSlashClean(p string) string {
	return filepath.ToSlash(filepath.Clean(p))
}

// errIgnoreTooLarge is wrapped in the error for an oversized ignore file.
var errIgnoreTooLarge = errors.New("file too large for an ignore file")
