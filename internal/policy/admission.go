package policy

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// Admission is charter.yaml's admission section: what the Kubernetes admission webhook
// requires of the pods it admits, cluster-wide and per namespace, and how it behaves when
// it cannot tell.
type Admission struct {
	// Require is what every pod must satisfy unless a Namespaces entry says otherwise.
	Require AdmissionRequire `yaml:"require,omitempty"`
	// Keys are the public keys a signature must verify against; default signing.keys.
	Keys []string `yaml:"keys,omitempty"`
	// Namespaces are per-namespace overrides; the first entry that matches a request
	// applies.
	Namespaces []AdmissionNamespace `yaml:"namespaces,omitempty"`
	// Exemptions let named images (or rules) through, each with a reason and an expiry.
	Exemptions []AdmissionExemption `yaml:"exemptions,omitempty"`
	// FailurePolicy is what happens when a check cannot complete (registry down,
	// timeout): "closed" denies, "open" admits with a warning. "" means closed.
	FailurePolicy string `yaml:"failurePolicy,omitempty"`
	// CacheTTL is how long a verified image's verdict is reused. 0 means the default.
	CacheTTL Duration `yaml:"cacheTTL,omitempty"`
	// Timeout bounds the registry work for one request. 0 means the default.
	Timeout Duration `yaml:"timeout,omitempty"`
}

// AdmissionRequire lists the checks a pod must pass. Nil fields are unset: the
// cluster-wide value (or the default) applies.
type AdmissionRequire struct {
	// Signature: every image is signed by one of the keys. Default true.
	Signature *bool `yaml:"signature,omitempty"`
	// Digest: every image is written by digest in the pod spec. Default false (a tag is
	// resolved to its digest and the digest is what is verified).
	Digest *bool `yaml:"digest,omitempty"`
	// Verdict, when set, requires a passing charter verdict attestation.
	Verdict *AdmissionVerdict `yaml:"verdict,omitempty"`
	// Checks selects which manifest findings (MAN rules, Pod Security Standards) deny.
	Checks *AdmissionChecks `yaml:"checks,omitempty"`
}

// AdmissionVerdict is a verdict attestation requirement.
type AdmissionVerdict struct {
	// FailOn is the loosest threshold the verdict may have passed with; default high.
	FailOn string `yaml:"failOn,omitempty"`
	// MaxAge is how old the scan may be; 0 accepts any age.
	MaxAge Duration `yaml:"maxAge,omitempty"`
	// Type is the attestation's predicate type: verdict (default) or vuln.
	Type string `yaml:"type,omitempty"`
}

// AdmissionChecks picks the manifest findings that deny a pod.
type AdmissionChecks struct {
	// FailOn: MAN findings at or above this severity deny; "none" denies none. Default
	// high.
	FailOn string `yaml:"failOn,omitempty"`
	// PSS is the Pod Security Standards profile whose violations deny: restricted,
	// baseline or none. Default baseline.
	PSS string `yaml:"pss,omitempty"`
	// Rules change a rule's severity for admission, or turn it off.
	Rules Overrides `yaml:"rules,omitempty"`
}

// AdmissionNamespace applies its settings to the requests it matches: every condition it
// sets must hold (namespace name, namespace labels, the pod's labels).
type AdmissionNamespace struct {
	// Namespaces lists namespace names or globs (team-*).
	Namespaces []string `yaml:"namespaces,omitempty"`
	// NamespaceSelector matches the namespace's labels.
	NamespaceSelector *LabelSelector `yaml:"namespaceSelector,omitempty"`
	// LabelSelector matches the pod's (or pod template's) labels.
	LabelSelector *LabelSelector `yaml:"labelSelector,omitempty"`
	// Require overrides the cluster-wide requirements key by key.
	Require *AdmissionRequire `yaml:"require,omitempty"`
	// FailurePolicy overrides the cluster-wide failure policy.
	FailurePolicy string `yaml:"failurePolicy,omitempty"`
	// Keys, when set, are the public keys signatures and verdict attestations must
	// verify against in the requests this entry matches, instead of the cluster-wide
	// keys: a team's namespaces trust the team's key only.
	Keys []string `yaml:"keys,omitempty"`
}

// LabelSelector is a Kubernetes label selector: every matchLabels pair and every
// expression must hold.
type LabelSelector struct {
	MatchLabels      map[string]string  `yaml:"matchLabels,omitempty"`
	MatchExpressions []LabelRequirement `yaml:"matchExpressions,omitempty"`
}

// LabelRequirement is one matchExpressions entry.
type LabelRequirement struct {
	Key string `yaml:"key"`
	// Operator is In, NotIn, Exists or DoesNotExist.
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values,omitempty"`
}

// AdmissionExemption admits what it names without some checks, for a stated reason and
// until a date.
type AdmissionExemption struct {
	// Namespace is a namespace name or glob; "" means every namespace.
	Namespace string `yaml:"namespace,omitempty"`
	// Image is an image reference pattern (* any text, ? one character): matching images
	// skip the signature, digest and verdict checks.
	Image string `yaml:"image,omitempty"`
	// Rules are manifest rules (MAN003, or a PSS check) not enforced for the matching
	// containers (those running Image, or all when Image is empty).
	Rules []string `yaml:"rules,omitempty"`
	// Reason says why; required.
	Reason string `yaml:"reason"`
	// Expires is the last day (YYYY-MM-DD) the exemption applies; "" for never.
	Expires string `yaml:"expires,omitempty"`
}

// Failure policies.
const (
	FailClosed = "closed"
	FailOpen   = "open"
)

var (
	failurePolicies = []string{FailClosed, FailOpen}
	pssProfiles     = []string{"restricted", "baseline", "none"}
	verdictTypes    = []string{"verdict", "vuln"}
	labelOperators  = []string{"In", "NotIn", "Exists", "DoesNotExist"}
)

// AdmissionKeyRefs returns admission.keys, else signing.keys, resolved against the file's
// directory.
func (f *File) AdmissionKeyRefs() []string {
	if len(f.Admission.Keys) > 0 {
		return f.resolveAll(f.Admission.Keys)
	}
	return f.KeyRefs()
}

// AdmissionNamespaceKeyRefs returns admission.namespaces[i].keys resolved against the
// file's directory; nil when the entry names none (the cluster-wide keys apply).
func (f *File) AdmissionNamespaceKeyRefs(i int) []string {
	if i < 0 || i >= len(f.Admission.Namespaces) {
		return nil
	}
	return f.resolveAll(f.Admission.Namespaces[i].Keys)
}

func (d *decoder) admission(n *yaml.Node, a *Admission) error {
	keys := []string{"require", "keys", "namespaces", "exemptions", "failurePolicy", "cacheTTL", "timeout"}
	return d.mapping(n, "admission", keys, func(key string, _, v *yaml.Node) error {
		at := "admission." + key
		var err error
		switch key {
		case "require":
			err = d.admissionRequire(v, at, &a.Require)
		case "keys":
			a.Keys, err = d.strings(v, at, nonEmpty)
		case "namespaces":
			err = d.list(v, at, func(i int, item *yaml.Node) error {
				ns, err := d.admissionNamespace(item, fmt.Sprintf("%s[%d]", at, i))
				a.Namespaces = append(a.Namespaces, ns)
				return err
			})
		case "exemptions":
			err = d.list(v, at, func(i int, item *yaml.Node) error {
				ex, err := d.exemption(item, fmt.Sprintf("%s[%d]", at, i))
				a.Exemptions = append(a.Exemptions, ex)
				return err
			})
		case "failurePolicy":
			a.FailurePolicy, err = d.choice(v, at, failurePolicies)
		case "cacheTTL":
			a.CacheTTL, err = d.duration(v, at)
		default:
			if a.Timeout, err = d.duration(v, at); err == nil && a.Timeout == 0 {
				err = d.errf(v, "%s: must be more than zero", at)
			}
		}
		return err
	})
}

func (d *decoder) admissionRequire(n *yaml.Node, where string, r *AdmissionRequire) error {
	keys := []string{"signature", "digest", "verdict", "checks"}
	return d.mapping(n, where, keys, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		switch key {
		case "signature", "digest":
			b, err := d.boolean(v, at)
			if key == "signature" {
				r.Signature = &b
			} else {
				r.Digest = &b
			}
			return err
		case "verdict":
			r.Verdict = &AdmissionVerdict{}
			return d.admissionVerdict(v, at, r.Verdict)
		default:
			r.Checks = &AdmissionChecks{}
			return d.admissionChecks(v, at, r.Checks)
		}
	})
}

func (d *decoder) admissionVerdict(n *yaml.Node, where string, av *AdmissionVerdict) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && n.Value == "true" {
		return nil // verdict: true takes the defaults
	}
	return d.mapping(n, where, []string{"failOn", "maxAge", "type"}, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "failOn":
			av.FailOn, err = d.choice(v, at, failOnLevels[:5])
		case "maxAge":
			av.MaxAge, err = d.age(v, at)
		default:
			av.Type, err = d.choice(v, at, verdictTypes)
		}
		return err
	})
}

func (d *decoder) admissionChecks(n *yaml.Node, where string, c *AdmissionChecks) error {
	return d.mapping(n, where, []string{"failOn", "pss", "rules"}, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "failOn":
			c.FailOn, err = d.choice(v, at, failOnLevels)
		case "pss":
			c.PSS, err = d.choice(v, at, pssProfiles)
		default:
			c.Rules, err = d.ruleLevels(v, at)
		}
		return err
	})
}

// ruleLevels reads a mapping rule ID → severity or off, as policy.rules does.
func (d *decoder) ruleLevels(n *yaml.Node, where string) (Overrides, error) {
	out := Overrides{}
	err := d.mapping(n, where, nil, func(id string, k, v *yaml.Node) error {
		if err := validID(id); err != nil {
			return d.errf(k, "%s: %v", where, err)
		}
		s, err := d.choice(v, where+"."+id, overrideLevels)
		if err != nil {
			return err
		}
		o := Override{ID: id}
		if s != "off" {
			o.Severity, _ = report.ParseSeverity(s)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

func (d *decoder) admissionNamespace(n *yaml.Node, where string) (AdmissionNamespace, error) {
	var ns AdmissionNamespace
	if n.Kind != yaml.MappingNode {
		return ns, d.errf(n, "%s: want a mapping with namespaces, namespaceSelector or labelSelector, got %s", where, describe(n))
	}
	keys := []string{"namespaces", "namespaceSelector", "labelSelector", "require", "failurePolicy", "keys"}
	err := d.mapping(n, where, keys, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "keys":
			ns.Keys, err = d.strings(v, at, nonEmpty)
		case "namespaces":
			ns.Namespaces, err = d.strings(v, at, validNamespacePattern)
		case "namespaceSelector":
			ns.NamespaceSelector = &LabelSelector{}
			err = d.labelSelector(v, at, ns.NamespaceSelector)
		case "labelSelector":
			ns.LabelSelector = &LabelSelector{}
			err = d.labelSelector(v, at, ns.LabelSelector)
		case "require":
			ns.Require = &AdmissionRequire{}
			err = d.admissionRequire(v, at, ns.Require)
		default:
			ns.FailurePolicy, err = d.choice(v, at, failurePolicies)
		}
		return err
	})
	if err == nil && len(ns.Namespaces) == 0 && ns.NamespaceSelector == nil && ns.LabelSelector == nil {
		err = d.errf(n, "%s: matches nothing; give namespaces, namespaceSelector or labelSelector", where)
	}
	return ns, err
}

func (d *decoder) labelSelector(n *yaml.Node, where string, s *LabelSelector) error {
	return d.mapping(n, where, []string{"matchLabels", "matchExpressions"}, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		if key == "matchLabels" {
			s.MatchLabels = map[string]string{}
			return d.mapping(v, at, nil, func(k string, kn, vn *yaml.Node) error {
				if err := validLabelKey(k); err != nil {
					return d.errf(kn, "%s: %v", at, err)
				}
				val, err := d.word(vn, at+"."+k)
				if err == nil {
					err = d.check(vn, at+"."+k, validLabelValue(val))
				}
				s.MatchLabels[k] = val
				return err
			})
		}
		return d.list(v, at, func(i int, item *yaml.Node) error {
			var r LabelRequirement
			err := d.labelRequirement(item, fmt.Sprintf("%s[%d]", at, i), &r)
			s.MatchExpressions = append(s.MatchExpressions, r)
			return err
		})
	})
}

func (d *decoder) labelRequirement(n *yaml.Node, where string, r *LabelRequirement) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "%s: want a mapping with key and operator, got %s", where, describe(n))
	}
	err := d.mapping(n, where, []string{"key", "operator", "values"}, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "key":
			if r.Key, err = d.str(v, at); err == nil {
				err = d.check(v, at, validLabelKey(r.Key))
			}
		case "operator":
			r.Operator, err = d.choice(v, at, labelOperators)
		default:
			r.Values, err = d.strings(v, at, validLabelValue)
		}
		return err
	})
	switch {
	case err != nil:
		return err
	case r.Key == "" || r.Operator == "":
		return d.errf(n, "%s: needs key and operator", where)
	case (r.Operator == "In" || r.Operator == "NotIn") && len(r.Values) == 0:
		return d.errf(n, "%s: operator %s needs values", where, r.Operator)
	case (r.Operator == "Exists" || r.Operator == "DoesNotExist") && len(r.Values) > 0:
		return d.errf(n, "%s: operator %s takes no values", where, r.Operator)
	}
	return nil
}

func (d *decoder) exemption(n *yaml.Node, where string) (AdmissionExemption, error) {
	var ex AdmissionExemption
	if n.Kind != yaml.MappingNode {
		return ex, d.errf(n, "%s: want a mapping with image or rules, and a reason, got %s", where, describe(n))
	}
	keys := []string{"namespace", "image", "rules", "reason", "expires"}
	err := d.mapping(n, where, keys, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "namespace":
			if ex.Namespace, err = d.str(v, at); err == nil {
				err = d.check(v, at, validNamespacePattern(ex.Namespace))
			}
		case "image":
			if ex.Image, err = d.str(v, at); err == nil {
				err = d.check(v, at, validBasePattern(ex.Image))
			}
		case "rules":
			ex.Rules, err = d.strings(v, at, validID)
		case "reason":
			ex.Reason, err = d.str(v, at)
		default:
			ex.Expires, err = d.date(v, at)
		}
		return err
	})
	switch {
	case err != nil:
		return ex, err
	case ex.Image == "" && len(ex.Rules) == 0:
		return ex, d.errf(n, "%s: exempts nothing; give image, rules or both", where)
	case strings.TrimSpace(ex.Reason) == "":
		return ex, d.errf(n, "%s: exemption has no reason; say why it is accepted", where)
	}
	return ex, nil
}

// choice reads a string that must be one of allowed.
func (d *decoder) choice(v *yaml.Node, where string, allowed []string) (string, error) {
	s, err := d.str(v, where)
	if err != nil {
		return "", err
	}
	return s, d.check(v, where, oneOf(s, allowed))
}

// age reads a duration that may be written in days: 7d, 36h, 90m.
func (d *decoder) age(v *yaml.Node, where string) (Duration, error) {
	s, err := d.str(v, where)
	if err != nil {
		return 0, err
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n < 100000 {
			return Duration(time.Duration(n) * 24 * time.Hour), nil
		}
	} else if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
		return Duration(dur), nil
	}
	return 0, d.errf(v, "%s: %q is not an age (write it like 7d, 36h or 90m)", where, clip(s))
}

var namespacePattern = regexp.MustCompile(`^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$`)

// validNamespacePattern accepts a namespace name, or a glob over names (team-*).
func validNamespacePattern(s string) error {
	if !namespacePattern.MatchString(s) || len(s) > 63 {
		return fmt.Errorf("%q is not a namespace name or pattern (lower-case letters, digits, -, * and ?)", clip(s))
	}
	if _, err := path.Match(s, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern", clip(s))
	}
	return nil
}

var (
	labelNamePattern  = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValuePattern = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	dnsSubdomain      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// validLabelKey accepts Kubernetes label keys: [prefix/]name.
func validLabelKey(s string) error {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		name, prefix = prefix, ""
	}
	if !labelNamePattern.MatchString(name) || found && (!dnsSubdomain.MatchString(prefix) || len(prefix) > 253) {
		return fmt.Errorf("%q is not a label key (like app or kubernetes.io/metadata.name)", clip(s))
	}
	return nil
}

func validLabelValue(s string) error {
	if !labelValuePattern.MatchString(s) {
		return fmt.Errorf("%q is not a label value (63 characters at most: letters, digits, -, _ and .)", clip(s))
	}
	return nil
}
