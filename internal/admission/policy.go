package admission

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/charterhq/charter/internal/manifest"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sign"
)

// Defaults for what charter.yaml leaves unset.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultCacheTTL = 5 * time.Minute
	// maxNegativeTTL bounds how long a refusal is reused, so an image signed after a
	// denial is admitted soon.
	maxNegativeTTL = 30 * time.Second
)

// requirements are the checks one request must pass: the cluster-wide policy with the
// matching namespaces entry applied.
type requirements struct {
	signature, digest bool
	verdict           *verdictRequirement
	checksFailOn      report.Severity // report.SeverityNone: no MAN finding denies by severity
	pss               string          // restricted, baseline or none
	rules             policy.Overrides
	failOpen          bool
	// scope names where these requirements come from, for the audit log.
	scope string
	// verifier checks signatures and verdicts: the cluster-wide keys, or a namespaces
	// entry's own (keySet names which, for the cache; keysHint, for messages).
	verifier *sign.Verifier
	keySet   string
	keysHint string
}

type verdictRequirement struct {
	failOn report.Severity
	maxAge time.Duration
	typ    string // verdict or vuln
}

// key identifies the image checks of r, for the cache: two namespaces with the same
// signature and verdict requirements share cached results.
func (r *requirements) imageKey() string {
	k := fmt.Sprintf("sig=%t", r.signature)
	if r.keySet != "" && (r.signature || r.verdict != nil) {
		k += ";keys=" + r.keySet
	}
	if v := r.verdict; v != nil {
		k += fmt.Sprintf(";verdict=%s,%s,%s", v.typ, v.failOn, v.maxAge)
	}
	return k
}

// nsRule is a compiled namespaces entry.
type nsRule struct {
	names     []string
	nsSel     labels.Selector
	podSel    labels.Selector
	req       requirements
	needsNSLb bool
	ownKeys   bool // the entry names its own keys
}

// exemption is a compiled exemptions entry.
type exemption struct {
	namespace string
	image     *regexp.Regexp
	rules     []string
	reason    string
	expires   time.Time // zero: never; else the first moment it no longer applies
	expiresAt string
}

// compiled is the admission policy, ready to match requests.
type compiled struct {
	base       requirements
	namespaces []nsRule
	exemptions []exemption
	needsNS    bool // some entry selects namespaces by label
}

func compile(a policy.Admission) (*compiled, error) {
	c := &compiled{}
	base := requirements{signature: true, checksFailOn: report.High, pss: "baseline", scope: "cluster"}
	if err := apply(&base, &a.Require); err != nil {
		return nil, err
	}
	base.failOpen = a.FailurePolicy == policy.FailOpen
	c.base = base
	for i, ns := range a.Namespaces {
		r := nsRule{names: ns.Namespaces, req: base}
		r.req.scope = fmt.Sprintf("admission.namespaces[%d]", i)
		var err error
		if ns.NamespaceSelector != nil {
			if r.nsSel, err = selector(ns.NamespaceSelector); err != nil {
				return nil, fmt.Errorf("%s.namespaceSelector: %w", r.req.scope, err)
			}
			r.needsNSLb, c.needsNS = true, true
		}
		if ns.LabelSelector != nil {
			if r.podSel, err = selector(ns.LabelSelector); err != nil {
				return nil, fmt.Errorf("%s.labelSelector: %w", r.req.scope, err)
			}
		}
		if ns.Require != nil {
			if err := apply(&r.req, ns.Require); err != nil {
				return nil, err
			}
		}
		if ns.FailurePolicy != "" {
			r.req.failOpen = ns.FailurePolicy == policy.FailOpen
		}
		if len(ns.Keys) > 0 {
			r.ownKeys = true
			r.req.keySet = r.req.scope
		}
		c.namespaces = append(c.namespaces, r)
	}
	for _, e := range a.Exemptions {
		x := exemption{namespace: e.Namespace, rules: e.Rules, reason: e.Reason, expiresAt: e.Expires}
		if e.Image != "" {
			x.image = imagePattern(e.Image)
		}
		if e.Expires != "" {
			day, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				return nil, fmt.Errorf("exemption expires %q: %w", e.Expires, err)
			}
			x.expires = day.Add(24 * time.Hour)
		}
		c.exemptions = append(c.exemptions, x)
	}
	return c, nil
}

// apply sets the requirements r's fields that req gives.
func apply(r *requirements, req *policy.AdmissionRequire) error {
	if req.Signature != nil {
		r.signature = *req.Signature
	}
	if req.Digest != nil {
		r.digest = *req.Digest
	}
	if v := req.Verdict; v != nil {
		vr := &verdictRequirement{failOn: report.High, maxAge: time.Duration(v.MaxAge), typ: sign.PredicateVerdict}
		if v.FailOn != "" {
			vr.failOn, _ = report.ParseSeverity(v.FailOn)
		}
		if v.Type != "" {
			pt, err := sign.ParsePredicateType(v.Type)
			if err != nil {
				return err
			}
			vr.typ = pt
		}
		r.verdict = vr
	}
	if ch := req.Checks; ch != nil {
		if ch.FailOn != "" {
			r.checksFailOn, _ = report.ParseSeverity(ch.FailOn)
		}
		if ch.PSS != "" {
			r.pss = ch.PSS
		}
		if ch.Rules != nil {
			r.rules = append(append(policy.Overrides(nil), r.rules...), ch.Rules...)
		}
	}
	return nil
}

func selector(s *policy.LabelSelector) (labels.Selector, error) {
	ls := &metav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: metav1.LabelSelectorOperator(e.Operator), Values: e.Values})
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// imagePattern compiles an image reference pattern: * matches any text, ? one character.
func imagePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// NamespaceLabels looks up a namespace's labels, for namespaceSelector entries.
type NamespaceLabels interface {
	Labels(ctx context.Context, namespace string) (map[string]string, error)
}

// requirementsFor finds the requirements for a pod in a namespace: the first matching
// namespaces entry, else the cluster-wide ones. Namespace labels are looked up only when
// an entry needs them; a lookup that fails is an error (the failure policy applies).
func (c *compiled) requirementsFor(ctx context.Context, ns string, podLabels map[string]string, nl NamespaceLabels) (requirements, error) {
	var nsLabels labels.Set
	for _, r := range c.namespaces {
		if len(r.names) > 0 && !matchAny(r.names, ns) {
			continue
		}
		if r.podSel != nil && !r.podSel.Matches(labels.Set(podLabels)) {
			continue
		}
		if r.needsNSLb {
			if nsLabels == nil {
				if nl == nil {
					return c.base, fmt.Errorf("%s selects namespaces by label, but the webhook cannot read namespaces", r.req.scope)
				}
				got, err := nl.Labels(ctx, ns)
				if err != nil {
					return c.base, fmt.Errorf("reading namespace %s's labels: %w", ns, err)
				}
				nsLabels = labels.Set(got)
				if nsLabels == nil {
					nsLabels = labels.Set{}
				}
			}
			if !r.nsSel.Matches(nsLabels) {
				continue
			}
		}
		return r.req, nil
	}
	return c.base, nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// exemptImage returns the exemption that lets image (as written, and fully qualified)
// skip the image checks in namespace ns, or nil. expired lists exemptions that would
// have matched but have expired, for the denial message.
func (c *compiled) exemptImage(ns, image, qualified string, now time.Time) (ex *exemption, expired *exemption) {
	for i := range c.exemptions {
		e := &c.exemptions[i]
		if e.image == nil || !e.inNamespace(ns) || !e.matchesImage(image, qualified) {
			continue
		}
		if e.expired(now) {
			expired = e
			continue
		}
		return e, nil
	}
	return nil, expired
}

// exemptRule reports whether a finding about rule (or one of its aliases) in a container
// running image is exempted in namespace ns.
func (c *compiled) exemptRule(ns string, f report.Finding, image, qualified string, now time.Time) (ex *exemption, expired *exemption) {
	for i := range c.exemptions {
		e := &c.exemptions[i]
		if len(e.rules) == 0 || !e.inNamespace(ns) || !e.namesRule(f) {
			continue
		}
		if e.image != nil && !e.matchesImage(image, qualified) {
			continue
		}
		if e.expired(now) {
			expired = e
			continue
		}
		return e, nil
	}
	return nil, expired
}

func (e *exemption) inNamespace(ns string) bool {
	if e.namespace == "" {
		return true
	}
	ok, _ := path.Match(e.namespace, ns)
	return ok
}

func (e *exemption) matchesImage(image, qualified string) bool {
	return e.image.MatchString(image) || e.image.MatchString(qualified)
}

func (e *exemption) expired(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

func (e *exemption) namesRule(f report.Finding) bool {
	for _, id := range e.rules {
		if id == f.Rule {
			return true
		}
		for _, a := range f.Aliases {
			if a == id {
				return true
			}
		}
	}
	return false
}

// denies reports whether a manifest finding denies the pod under r, and the severity it
// counts with after the admission.require.checks.rules overrides.
func (r *requirements) denies(f report.Finding) bool {
	sev := f.Severity
	for _, o := range r.rules {
		if o.ID == f.Rule || contains(f.Aliases, o.ID) {
			if o.Off() {
				return false
			}
			sev = o.Severity
		}
	}
	if r.pss != "none" && manifest.ViolatesPSS(f, r.pss) {
		return true
	}
	return r.checksFailOn != report.SeverityNone && sev >= r.checksFailOn
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
