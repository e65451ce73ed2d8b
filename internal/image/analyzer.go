package image

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
)

// Analyzer looks at the files of a layer. The walk asks it, for every entry of every
// layer it reads, whether it wants that entry and how much of its content; it then calls
// Analyze with that much content. All analyzers of a Walk are served in the same single
// pass over each layer.
//
// What Analyze returns is cached per layer (by diffID and ID), so it must depend only on
// the file and its content, never on the layer's position in an image or on other
// layers: cross-layer questions (was this file deleted later?) are answered from the
// Index after the walk.
type Analyzer interface {
	// ID names the analyzer and the version of its output, such as "secret/3". It keys
	// the layer cache: change it whenever the records for the same input would change.
	// Letters, digits and "._/-" only.
	ID() string
	// Need says whether the analyzer wants f and how many bytes of its content: 0 for
	// the header alone. Content is capped by Limits.MaxContent; only regular files that
	// are not hard links have content.
	Need(f *File) (want bool, maxBytes int64)
	// Analyze gets a wanted file and its content (shorter than f.Size when capped). The
	// content buffer is reused after Analyze returns. An error stops the Walk: malformed
	// input that an analyzer can describe belongs in a Record instead.
	Analyze(f *File, content []byte) ([]Record, error)
}

// Record is one thing an analyzer found in one file.
type Record struct {
	// Analyzer, Layer and Path are filled in by the walk.
	Analyzer string `json:"analyzer"`
	Layer    int    `json:"layer"`
	Path     string `json:"path"`
	// Kind and Data are the analyzer's own: Data is JSON, so that records survive the
	// layer cache unchanged.
	Kind string          `json:"kind,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

var analyzerID = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,128}$`)

func checkAnalyzers(as []Analyzer) error {
	seen := map[string]bool{}
	for _, a := range as {
		id := a.ID()
		if !analyzerID.MatchString(id) {
			return fmt.Errorf("analyzer ID %q: use letters, digits and ._/- only", id)
		}
		if seen[id] {
			return fmt.Errorf("analyzer %q listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// PathAnalyzer is a ready-made Analyzer for the common case: a fixed list of exact paths
// and globs (path.Match syntax, rooted: "/etc/*-release"), content up to MaxBytes, and a
// function from file and content to records.
type PathAnalyzer struct {
	Name     string   // the ID
	Paths    []string // exact rooted paths
	Globs    []string // path.Match patterns against the rooted path
	MaxBytes int64
	Func     func(f *File, content []byte) ([]Record, error)
}

// ID implements Analyzer.
func (a *PathAnalyzer) ID() string { return a.Name }

// Need implements Analyzer.
func (a *PathAnalyzer) Need(f *File) (bool, int64) {
	for _, p := range a.Paths {
		if p == f.Path {
			return true, a.MaxBytes
		}
	}
	for _, g := range a.Globs {
		if ok, _ := path.Match(g, f.Path); ok {
			return true, a.MaxBytes
		}
	}
	return false, 0
}

// Analyze implements Analyzer.
func (a *PathAnalyzer) Analyze(f *File, content []byte) ([]Record, error) {
	return a.Func(f, content)
}
