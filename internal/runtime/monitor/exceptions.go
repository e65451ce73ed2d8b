package monitor

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/policy"
)

// exception is a charter.yaml monitor exception, its rule resolved to an RT ID.
type exception struct {
	policy.MonitorException
	ruleID string
}

// compileExceptions resolves each entry's rule (an ID or a Falco alias, any case) and
// drops the expired ones, returning a warning for each.
func compileExceptions(list []policy.MonitorException, today time.Time) ([]exception, []string, error) {
	var out []exception
	var warnings []string
	for i, ex := range list {
		id := ""
		if ex.Rule != "" {
			id = ruleByName(ex.Rule)
			if id == "" {
				return nil, nil, fmt.Errorf("monitor.exceptions[%d] (line %d): unknown rule %q (want RT001–RT005 or one of their aliases; see charter rules)",
					i, ex.Line(), ex.Rule)
			}
		}
		if ex.Expires != "" {
			if end, err := time.Parse(time.DateOnly, ex.Expires); err == nil && today.After(end.Add(24*time.Hour-time.Nanosecond)) {
				warnings = append(warnings, fmt.Sprintf("monitor.exceptions[%d] (line %d) expired on %s and no longer applies",
					i, ex.Line(), ex.Expires))
				continue
			}
		}
		out = append(out, exception{MonitorException: ex, ruleID: id})
	}
	return out, warnings, nil
}

func ruleByName(name string) string {
	for n, id := range moreFalcoNames {
		if strings.EqualFold(n, name) {
			return id
		}
	}
	for _, r := range Rules() {
		if strings.EqualFold(r.ID, name) {
			return r.ID
		}
		for _, a := range r.Aliases {
			if strings.EqualFold(a, name) {
				return r.ID
			}
		}
	}
	return ""
}

// matches reports whether the exception accepts an alert of rule on e in c.
func (ex *exception) matches(rule string, e *Event, c *Container) bool {
	if ex.ruleID != "" && ex.ruleID != rule {
		return false
	}
	if ex.Container != "" && !anyGlob(ex.Container, append([]string{c.Name, c.ID, c.Short()}, c.KubeNames()...)...) {
		return false
	}
	if ex.Image != "" && !anyGlob(ex.Image, c.Image, c.ImageID) {
		return false
	}
	if ex.Process != "" {
		exe := ""
		if e.Kind == KindExec {
			exe = e.Path
		}
		if !anyGlob(ex.Process, e.Comm, exe) {
			return false
		}
	}
	if ex.Path != "" {
		target := e.Path
		if e.Kind == KindConnect {
			target = e.Dest.String()
		}
		if !anyGlob(ex.Path, target) {
			return false
		}
	}
	return true
}

// anyGlob matches pattern against each non-empty value; "*" spans "/" too, since image
// references and destinations are not file paths.
func anyGlob(pattern string, values ...string) bool {
	p := strings.ReplaceAll(pattern, "/", "\x00")
	for _, v := range values {
		if v == "" {
			continue
		}
		if ok, _ := path.Match(p, strings.ReplaceAll(v, "/", "\x00")); ok {
			return true
		}
	}
	return false
}
