package report

import "sort"

// Rule is a rule's metadata: what `charter rules ID` explains and what SARIF carries.
// Each analyzer package keeps its rules next to their checks and exposes them as a list.
type Rule struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases,omitempty"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Description explains why the rule matters, in a few sentences.
	Description string `json:"description"`
	// Remediation says what to change.
	Remediation string   `json:"remediation"`
	References  []string `json:"references,omitempty"`
	// Category groups rules: dockerfile, context, image, manifest, runtime.
	Category string `json:"category"`
	// Example is an optional snippet showing the problem and its fix.
	Example string `json:"example,omitempty"`
}

// Finding builds a finding for this rule with the rule's defaults filled in.
func (r Rule) Finding(loc Location, message string) Finding {
	if message == "" {
		message = r.Title
	}
	return Finding{
		Rule:        r.ID,
		Aliases:     append([]string(nil), r.Aliases...),
		Severity:    r.Severity,
		Title:       r.Title,
		Message:     message,
		Location:    loc,
		Remediation: r.Remediation,
		References:  append([]string(nil), r.References...),
	}
}

// Catalog is an ordered, indexed set of rules.
type Catalog struct {
	rules []Rule
	byID  map[string]int
}

// NewCatalog indexes rules by ID and alias. A duplicate ID panics: it is a programming
// error caught by every test run.
func NewCatalog(lists ...[]Rule) *Catalog {
	c := &Catalog{byID: map[string]int{}}
	for _, list := range lists {
		for _, r := range list {
			if _, dup := c.byID[r.ID]; dup {
				panic("duplicate rule ID " + r.ID)
			}
			c.byID[r.ID] = len(c.rules)
			c.rules = append(c.rules, r)
		}
	}
	sort.SliceStable(c.rules, func(i, j int) bool { return c.rules[i].ID < c.rules[j].ID })
	for i, r := range c.rules {
		c.byID[r.ID] = i
	}
	return c
}

// All returns the rules ordered by ID.
func (c *Catalog) All() []Rule { return c.rules }

// Lookup finds a rule by its ID or, failing that, by one of its aliases (DL3002 finds DF001).
func (c *Catalog) Lookup(id string) (Rule, bool) {
	if i, ok := c.byID[id]; ok {
		return c.rules[i], true
	}
	for _, r := range c.rules {
		for _, a := range r.Aliases {
			if a == id {
				return r, true
			}
		}
	}
	return Rule{}, false
}
