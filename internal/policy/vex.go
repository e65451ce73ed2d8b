package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// VEX documents say, per vulnerability and product, whether the product is affected.
// charter reads two formats and suppresses a vulnerability finding (Suppression.By
// "vex") when a statement says the package, or the image it is in, is not affected:
//
//   - OpenVEX (v0.0.x and v0.2.x): status not_affected with a justification or an
//     impact statement, or fixed. affected and under_investigation suppress nothing; a
//     not_affected statement with neither justification nor impact statement is invalid
//     under the OpenVEX spec and is skipped with a warning.
//   - CycloneDX VEX (a BOM's vulnerabilities[]): analysis.state not_affected,
//     false_positive, resolved or resolved_with_pedigree suppresses; exploitable and
//     in_triage do not.
//
// A product is a package URL or an image. A purl product matches a finding's package
// when the type, namespace and name are equal and, where the product names them, the
// version and every qualifier too (pkg:deb/debian/openssl matches every openssl; with
// @3.0.11-1~deb12u2, that version only). An image product (an OCI purl, a reference with
// a digest, or a bare sha256: digest) matches every package of the checked image when
// its digest is the image's; its subcomponents, if listed, narrow that to those
// packages. When several statements cover one finding, the most recent one wins.
const SuppressedByVEX = "vex"

// Bounds on VEX documents: they come from vendors and other teams.
const (
	maxVEXBytes      = 16 << 20
	maxVEXStatements = 100_000
	maxVEXWarnings   = 20
)

// VEX is a set of statements read from VEX documents.
type VEX struct {
	statements []vexStatement
	// Warnings are statements left out and why, at most maxVEXWarnings.
	Warnings []string
}

// vexStatement is one statement in charter's terms: what it covers and what it says.
type vexStatement struct {
	ids      []string // the vulnerability and its aliases
	products []vexProduct
	status   string // OpenVEX terms: not_affected, fixed, affected, under_investigation
	reason   string
	when     time.Time
	order    int // position across all documents: the later of two equal times wins
	source   string
}

// vexProduct is a purl and/or an image digest, optionally narrowed to subcomponents.
type vexProduct struct {
	purl   string
	digest string // sha256:…
	subs   []string
}

// LoadVEX reads VEX documents from files. A file that cannot be read or parsed is an
// error naming it (exit 2): a gate must not pass or fail on a document it misread.
func LoadVEX(paths []string) (*VEX, error) {
	v := &VEX{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("VEX document: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxVEXBytes+1))
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("VEX document %s: %w", p, err)
		}
		if err := v.Add(p, data); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Add parses one document, OpenVEX or CycloneDX (told apart by their top-level fields),
// and adds its statements.
func (v *VEX) Add(name string, data []byte) error {
	if len(data) > maxVEXBytes {
		return &Error{Path: name, Msg: fmt.Sprintf("VEX document larger than %d MiB", maxVEXBytes>>20)}
	}
	var probe struct {
		Context    json.RawMessage `json:"@context"`
		BOMFormat  string          `json:"bomFormat"`
		Statements json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return &Error{Path: name, Msg: "not a VEX document: " + jsonProblem(err)}
	}
	var err error
	switch {
	case probe.BOMFormat == "CycloneDX":
		err = v.addCycloneDX(name, data)
	case len(probe.Context) > 0 || len(probe.Statements) > 0:
		err = v.addOpenVEX(name, data)
	default:
		return &Error{Path: name, Msg: "not a VEX document: neither OpenVEX (@context, statements) nor CycloneDX (bomFormat)"}
	}
	if err != nil {
		return err
	}
	if len(v.statements) > maxVEXStatements {
		return &Error{Path: name, Msg: fmt.Sprintf("more than %d VEX statements", maxVEXStatements)}
	}
	return nil
}

func jsonProblem(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func (v *VEX) warn(format string, args ...any) {
	if len(v.Warnings) < maxVEXWarnings {
		v.Warnings = append(v.Warnings, fmt.Sprintf(format, args...))
	}
}

// Len is the number of statements read.
func (v *VEX) Len() int {
	if v == nil {
		return 0
	}
	return len(v.statements)
}

// --- OpenVEX ------------------------------------------------------------------------

type openVEXDoc struct {
	ID         string             `json:"@id"`
	Timestamp  string             `json:"timestamp"`
	Statements []openVEXStatement `json:"statements"`
}

type openVEXStatement struct {
	// Vulnerability is a string (v0.0.x) or {name, @id, aliases} (v0.2.x).
	Vulnerability   json.RawMessage   `json:"vulnerability"`
	Products        []json.RawMessage `json:"products"`
	Status          string            `json:"status"`
	Justification   string            `json:"justification"`
	ImpactStatement string            `json:"impact_statement"`
	Timestamp       string            `json:"timestamp"`
}

// openVEXProduct is a product as v0.2.x writes it; v0.0.x writes a plain string.
type openVEXProduct struct {
	ID          string            `json:"@id"`
	Identifiers map[string]string `json:"identifiers"`
	Hashes      map[string]string `json:"hashes"`
	Subs        []openVEXProduct  `json:"subcomponents"`
}

func (v *VEX) addOpenVEX(name string, data []byte) error {
	var doc openVEXDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return &Error{Path: name, Msg: "OpenVEX: " + jsonProblem(err)}
	}
	docTime := parseVEXTime(doc.Timestamp)
	for i, st := range doc.Statements {
		where := fmt.Sprintf("%s: statement %d", name, i+1)
		ids := openVEXIDs(st.Vulnerability)
		if len(ids) == 0 {
			v.warn("%s names no vulnerability; skipped", where)
			continue
		}
		status := st.Status
		switch status {
		case "not_affected":
			if st.Justification == "" && st.ImpactStatement == "" {
				v.warn("%s: not_affected without a justification or impact_statement is not valid OpenVEX; skipped", where)
				continue
			}
		case "fixed", "affected", "under_investigation":
		default:
			v.warn("%s: unknown status %q; skipped", where, clipVEX(status))
			continue
		}
		s := vexStatement{ids: ids, status: status, source: name, order: len(v.statements)}
		s.reason = vexReason(status, st.Justification, st.ImpactStatement, name)
		s.when = parseVEXTime(st.Timestamp)
		if s.when.IsZero() {
			s.when = docTime
		}
		for _, raw := range st.Products {
			if p, ok := openVEXProductOf(raw); ok {
				s.products = append(s.products, p)
			}
		}
		if len(s.products) == 0 {
			v.warn("%s names no product charter can match (a purl or an image digest); skipped", where)
			continue
		}
		v.statements = append(v.statements, s)
	}
	return nil
}

func openVEXIDs(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return vexIDs(s)
	}
	var obj struct {
		Name    string   `json:"name"`
		ID      string   `json:"@id"`
		Aliases []string `json:"aliases"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	ids := vexIDs(obj.Name)
	if obj.Name == "" && obj.ID != "" && !strings.Contains(obj.ID, "/") {
		ids = append(ids, obj.ID) // an IRI names the record, not the vulnerability
	}
	return append(ids, vexIDs(obj.Aliases...)...)
}

func openVEXProductOf(raw json.RawMessage) (vexProduct, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return productOf(s, nil)
	}
	var p openVEXProduct
	if json.Unmarshal(raw, &p) != nil {
		return vexProduct{}, false
	}
	id := p.ID
	if id == "" {
		id = p.Identifiers["purl"]
	}
	var subs []string
	for _, sc := range p.Subs {
		sid := sc.ID
		if sid == "" {
			sid = sc.Identifiers["purl"]
		}
		if strings.HasPrefix(sid, "pkg:") {
			subs = append(subs, sid)
		}
	}
	prod, ok := productOf(id, subs)
	if h := p.Hashes["sha-256"]; prod.digest == "" && isHex64(h) {
		prod.digest, ok = "sha256:"+h, true
	}
	return prod, ok
}

// --- CycloneDX VEX ------------------------------------------------------------------

type cdxVEXDoc struct {
	Metadata struct {
		Timestamp string `json:"timestamp"`
	} `json:"metadata"`
	Components      []cdxVEXComponent `json:"components"`
	Vulnerabilities []struct {
		ID         string `json:"id"`
		References []struct {
			ID string `json:"id"`
		} `json:"references"`
		Analysis struct {
			State         string `json:"state"`
			Justification string `json:"justification"`
			Detail        string `json:"detail"`
			LastUpdated   string `json:"lastUpdated"`
		} `json:"analysis"`
		Updated string `json:"updated"`
		Affects []struct {
			Ref string `json:"ref"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

type cdxVEXComponent struct {
	BOMRef     string            `json:"bom-ref"`
	PURL       string            `json:"purl"`
	Components []cdxVEXComponent `json:"components"`
}

// cdxStatus maps CycloneDX analysis states to OpenVEX statuses.
var cdxStatus = map[string]string{
	"not_affected": "not_affected", "false_positive": "not_affected",
	"resolved": "fixed", "resolved_with_pedigree": "fixed",
	"exploitable": "affected", "in_triage": "under_investigation",
}

func (v *VEX) addCycloneDX(name string, data []byte) error {
	var doc cdxVEXDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return &Error{Path: name, Msg: "CycloneDX VEX: " + jsonProblem(err)}
	}
	refs := map[string]string{} // bom-ref → purl
	var walk func([]cdxVEXComponent, int)
	walk = func(cs []cdxVEXComponent, depth int) {
		for _, c := range cs {
			if c.BOMRef != "" && c.PURL != "" {
				refs[c.BOMRef] = c.PURL
			}
			if depth < 32 {
				walk(c.Components, depth+1)
			}
		}
	}
	walk(doc.Components, 0)
	docTime := parseVEXTime(doc.Metadata.Timestamp)
	for i, vu := range doc.Vulnerabilities {
		where := fmt.Sprintf("%s: vulnerabilities[%d]", name, i)
		ids := vexIDs(vu.ID)
		for _, r := range vu.References {
			ids = append(ids, vexIDs(r.ID)...)
		}
		if len(ids) == 0 {
			v.warn("%s has no id; skipped", where)
			continue
		}
		state := vu.Analysis.State
		if state == "" {
			continue // no analysis: nothing is stated
		}
		status, ok := cdxStatus[state]
		if !ok {
			v.warn("%s: unknown analysis.state %q; skipped", where, clipVEX(state))
			continue
		}
		s := vexStatement{ids: ids, status: status, source: name, order: len(v.statements)}
		s.reason = vexReason(state, vu.Analysis.Justification, vu.Analysis.Detail, name)
		for _, t := range []string{vu.Analysis.LastUpdated, vu.Updated} {
			if s.when.IsZero() {
				s.when = parseVEXTime(t)
			}
		}
		if s.when.IsZero() {
			s.when = docTime
		}
		for _, a := range vu.Affects {
			if p, ok := productOf(cdxRef(a.Ref, refs), nil); ok {
				s.products = append(s.products, p)
			}
		}
		if len(s.products) == 0 {
			v.warn("%s affects no component charter can match (a purl or an image digest); skipped", where)
			continue
		}
		v.statements = append(v.statements, s)
	}
	return nil
}

// cdxRef resolves an affects ref: a bom-ref of this BOM, a BOM-Link
// (urn:cdx:serial/version#bom-ref) whose fragment is a purl or a bom-ref here, or a purl.
func cdxRef(ref string, refs map[string]string) string {
	if p, ok := refs[ref]; ok {
		return p
	}
	if strings.HasPrefix(ref, "urn:cdx:") {
		if _, frag, ok := strings.Cut(ref, "#"); ok {
			if u, err := url.PathUnescape(frag); err == nil {
				frag = u
			}
			if p, ok := refs[frag]; ok {
				return p
			}
			return frag
		}
	}
	return ref
}

// --- shared ---------------------------------------------------------------------------

// productOf reads a product identifier: a purl (an OCI purl carries the image digest as
// its version), an image reference with a digest, or a bare digest.
func productOf(id string, subs []string) (vexProduct, bool) {
	id = strings.TrimSpace(id)
	p := vexProduct{subs: subs}
	switch {
	case strings.HasPrefix(id, "pkg:oci/"):
		if _, ver, ok := strings.Cut(strings.SplitN(id, "?", 2)[0], "@"); ok {
			if u, err := url.PathUnescape(ver); err == nil && isDigest(u) {
				p.digest = u
			}
		}
		if p.digest == "" {
			return p, false
		}
	case strings.HasPrefix(id, "pkg:"):
		p.purl = id
	case isDigest(id):
		p.digest = id
	case strings.Contains(id, "@sha256:"):
		_, d, _ := strings.Cut(id, "@")
		if !isDigest(d) {
			return p, false
		}
		p.digest = d
	default:
		return p, false
	}
	return p, true
}

func isDigest(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	return ok && isHex64(h)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func vexIDs(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func clipVEX(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func vexReason(status, justification, detail, source string) string {
	r := status
	if justification != "" {
		r += ": " + justification
	}
	if detail != "" {
		r += ": " + detail
	}
	if len(r) > 300 {
		r = r[:300] + "…"
	}
	return r + " (" + source + ")"
}

func parseVEXTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// --- applying ---------------------------------------------------------------------------

// Apply suppresses the findings of r the statements say are not affected (or fixed),
// unless something already suppressed them. It returns how many it suppressed. A nil v
// does nothing.
func (v *VEX) Apply(r *report.Report) int {
	if v == nil || r == nil || len(v.statements) == 0 {
		return 0
	}
	byID := map[string][]int{}
	for i, s := range v.statements {
		for _, id := range s.ids {
			k := strings.ToUpper(id)
			byID[k] = append(byID[k], i)
		}
	}
	n := 0
	for i := range r.Findings {
		fd := &r.Findings[i]
		if fd.Suppressed != nil || fd.Location.Package == "" {
			continue
		}
		best := -1
		for _, k := range findingIDs(fd) {
			for _, si := range byID[k] {
				s := &v.statements[si]
				if !s.covers(fd.Location.Package, r.Target.Digest) {
					continue
				}
				if best < 0 || newer(s, &v.statements[best]) {
					best = si
				}
			}
		}
		if best < 0 {
			continue
		}
		if s := &v.statements[best]; s.status == "not_affected" || s.status == "fixed" {
			fd.Suppressed = &report.Suppression{By: SuppressedByVEX, Reason: s.reason}
			n++
		}
	}
	return n
}

func findingIDs(fd *report.Finding) []string {
	ids := []string{strings.ToUpper(fd.Rule)}
	for _, a := range fd.Aliases {
		ids = append(ids, strings.ToUpper(a))
	}
	sort.Strings(ids)
	return ids
}

func newer(a, b *vexStatement) bool {
	if !a.when.Equal(b.when) {
		return a.when.After(b.when)
	}
	return a.order > b.order
}

// covers reports whether the statement speaks about a finding in package purl of the
// image with digest.
func (s *vexStatement) covers(purl, digest string) bool {
	for _, p := range s.products {
		switch {
		case p.digest != "":
			if digest == "" || p.digest != digest {
				continue
			}
			if len(p.subs) == 0 {
				return true
			}
			for _, sub := range p.subs {
				if purlCovers(sub, purl) {
					return true
				}
			}
		case purlCovers(p.purl, purl):
			return true
		}
	}
	return false
}

// purlCovers reports whether a statement's purl names a finding's package: the same
// type, namespace and name; the same version when the statement gives one; and each
// qualifier the statement gives, with the same value.
func purlCovers(want, got string) bool {
	w, ok1 := splitPURL(want)
	g, ok2 := splitPURL(got)
	if !ok1 || !ok2 || !strings.EqualFold(w.typ, g.typ) || w.path != g.path {
		return false
	}
	if w.version != "" && w.version != g.version {
		return false
	}
	for k, val := range w.quals {
		if g.quals[k] != val {
			return false
		}
	}
	return true
}

type purlParts struct {
	typ, path, version string
	quals              map[string]string
}

// splitPURL splits a purl into type, namespace/name (unescaped), version and
// qualifiers. It is lenient: VEX authors write purls by hand.
func splitPURL(s string) (purlParts, bool) {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return purlParts{}, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, q, _ := strings.Cut(rest, "?")
	var p purlParts
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		p.version, rest = unescape(rest[i+1:]), rest[:i]
	}
	typ, path, ok := strings.Cut(strings.Trim(rest, "/"), "/")
	if !ok || typ == "" || path == "" {
		return purlParts{}, false
	}
	p.typ, p.path = typ, unescape(path)
	if q != "" {
		p.quals = map[string]string{}
		for _, kv := range strings.Split(q, "&") {
			k, val, _ := strings.Cut(kv, "=")
			p.quals[strings.ToLower(k)] = unescape(val)
		}
	}
	return p, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
