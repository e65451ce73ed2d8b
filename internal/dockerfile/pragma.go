package dockerfile

import (
	"regexp"
	"strings"
)

// pragmas are the inline ignore comments of a file:
//
//	# charter ignore=DF001,DF014 reason text   (the next instruction)
//	# hadolint ignore=DL3008,DL3009            (the next instruction)
//	# hadolint global ignore=DL3059            (the whole file)
//	# charter global ignore=DF014 reason       (the whole file)
type pragmas struct {
	// byLine maps an instruction's first line to the IDs ignored for it.
	byLine map[int][]pragma
	global []pragma
}

type pragma struct {
	ids    []string
	by     string // "pragma" for charter, "hadolint" for hadolint's
	reason string
	line   int
}

var rePragma = regexp.MustCompile(`^\s*#\s*(charter|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+?)(?:\s+(.*))?$`)

func parsePragmas(lines []string, instrs []*Instruction) pragmas {
	p := pragmas{byLine: map[int][]pragma{}}
	starts := make([]int, 0, len(instrs))
	for _, ins := range instrs {
		starts = append(starts, ins.Line)
	}
	for n, text := range lines {
		m := rePragma.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		pr := pragma{by: "pragma", reason: strings.TrimSpace(m[4]), line: n + 1}
		if m[1] == "hadolint" {
			pr.by = "hadolint"
		}
		for _, id := range strings.Split(m[3], ",") {
			if id = strings.TrimSpace(id); id != "" {
				pr.ids = append(pr.ids, strings.ToUpper(id))
			}
		}
		if m[2] != "" {
			p.global = append(p.global, pr)
			continue
		}
		// The pragma applies to the first instruction that starts below it.
		for _, s := range starts {
			if s > n+1 {
				p.byLine[s] = append(p.byLine[s], pr)
				break
			}
		}
	}
	return p
}

// match returns the pragma that silences a finding with these IDs at line, if any.
func (p pragmas) match(line int, ids []string) (pragma, bool) {
	for _, group := range [][]pragma{p.byLine[line], p.global} {
		for _, pr := range group {
			for _, want := range pr.ids {
				for _, id := range ids {
					if want == id {
						return pr, true
					}
				}
			}
		}
	}
	return pragma{}, false
}
