package manifest

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/charterhq/charter/internal/report"
)

// pragmas are a file's inline ignore comments:
//
//	# charter ignore=MAN005,MAN009 reason     (on its own line: the next line; after a
//	                                          value: that line; above a document's first
//	                                          line: the whole document)
//	# charter global ignore=MAN008 reason     (the whole file)
type pragmas struct {
	byLine map[int][]pragma
	global []pragma
	// docs are the documents' line ranges, for pragmas that name a document's first line.
	docs []span
}

type span struct{ first, last int }

type pragma struct {
	ids    []string
	reason string
}

var rePragma = regexp.MustCompile(`#\s*charter\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_:,\s-]+?)(?:\s+(.*))?$`)

// parsePragmas reads the pragmas of data; docStarts are the documents' first lines.
func parsePragmas(data []byte, docStarts []int) *pragmas {
	if !bytes.Contains(data, []byte("charter")) {
		return nil
	}
	p := &pragmas{byLine: map[int][]pragma{}}
	lines := strings.Split(string(data), "\n")
	for i := range docStarts {
		last := len(lines)
		if i+1 < len(docStarts) {
			last = docStarts[i+1] - 1
		}
		p.docs = append(p.docs, span{docStarts[i], last})
	}
	for n, text := range lines {
		hash := strings.IndexByte(text, '#')
		if hash < 0 {
			continue
		}
		m := rePragma.FindStringSubmatch(text[hash:])
		if m == nil {
			continue
		}
		pr := pragma{reason: strings.TrimSpace(m[3])}
		for _, id := range strings.Split(m[2], ",") {
			if id = strings.TrimSpace(id); id != "" {
				pr.ids = append(pr.ids, id)
			}
		}
		switch {
		case m[1] != "":
			p.global = append(p.global, pr)
		case strings.TrimSpace(text[:hash]) != "":
			p.byLine[n+1] = append(p.byLine[n+1], pr) // after a value: this line
		default:
			target := nextContentLine(lines, n+1)
			p.byLine[target] = append(p.byLine[target], pr)
		}
	}
	return p
}

// nextContentLine returns the 1-based number of the first line at or after index i that
// is neither blank, a comment, nor a document marker.
func nextContentLine(lines []string, i int) int {
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return i + 1
		}
	}
	return 0
}

// apply marks the findings a pragma names as suppressed.
func (p *pragmas) apply(fs []report.Finding) {
	if p == nil {
		return
	}
	for i := range fs {
		f := &fs[i]
		if f.Suppressed != nil {
			continue
		}
		if pr, ok := p.match(f); ok {
			f.Suppressed = &report.Suppression{By: "pragma", Reason: pr.reason}
		}
	}
}

func (p *pragmas) match(f *report.Finding) (pragma, bool) {
	groups := [][]pragma{p.byLine[f.Location.Line], p.global}
	for _, d := range p.docs {
		if f.Location.Line >= d.first && f.Location.Line <= d.last {
			groups = append(groups, p.byLine[d.first])
		}
	}
	for _, g := range groups {
		for _, pr := range g {
			if pr.names(f) {
				return pr, true
			}
		}
	}
	return pragma{}, false
}

// names reports whether the pragma names the finding's rule or one of its aliases.
func (pr *pragma) names(f *report.Finding) bool {
	for _, id := range pr.ids {
		if strings.EqualFold(id, f.Rule) || hasAlias(f, id) {
			return true
		}
	}
	return false
}

// parseIgnoreValue reads "ID[,ID] reason", as in a charter.dev/ignore annotation.
func parseIgnoreValue(v string) *pragma {
	ids, reason, _ := strings.Cut(strings.TrimSpace(v), " ")
	pr := &pragma{reason: strings.TrimSpace(reason)}
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			pr.ids = append(pr.ids, id)
		}
	}
	return pr
}

func hasAlias(f *report.Finding, id string) bool {
	for _, a := range f.Aliases {
		if strings.EqualFold(a, id) {
			return true
		}
	}
	return false
}
