package policy

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

func TestParseAdmission(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "admission.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := Admission{
		Require: AdmissionRequire{
			Signature: &yes, Digest: &no,
			Verdict: &AdmissionVerdict{FailOn: "high", MaxAge: Duration(7 * 24 * time.Hour), Type: "verdict"},
			Checks: &AdmissionChecks{FailOn: "high", PSS: "restricted",
				Rules: Overrides{{ID: "MAN009", Severity: report.SeverityNone}, {ID: "MAN005", Severity: report.High}}},
		},
		Keys:          []string{"./admission.pub"},
		FailurePolicy: "closed",
		CacheTTL:      Duration(5 * time.Minute),
		Timeout:       Duration(3 * time.Second),
		Namespaces: []AdmissionNamespace{
			{Namespaces: []string{"legacy", "team-*"}, Require: &AdmissionRequire{Checks: &AdmissionChecks{PSS: "baseline"}},
				FailurePolicy: "open", Keys: []string{"./keys/team.pub"}},
			{NamespaceSelector: &LabelSelector{MatchLabels: map[string]string{"charter.dev/tier": "batch"},
				MatchExpressions: []LabelRequirement{{Key: "env", Operator: "In", Values: []string{"dev", "test"}}}},
				LabelSelector: &LabelSelector{MatchExpressions: []LabelRequirement{{Key: "app", Operator: "Exists"}}},
				Require:       &AdmissionRequire{Verdict: &AdmissionVerdict{}, Signature: &no}},
		},
		Exemptions: []AdmissionExemption{
			{Namespace: "monitoring", Image: "quay.io/prometheus/*", Reason: "vendor images, signed upstream", Expires: "2027-01-31"},
			{Namespace: "ci", Rules: []string{"MAN003"}, Reason: "builders run as root until 2027"},
		},
	}
	if !reflect.DeepEqual(f.Admission, want) {
		t.Errorf("parsed\n%#v\nwant\n%#v", f.Admission, want)
	}
	if got := f.AdmissionKeyRefs(); len(got) != 1 || got[0] != filepath.Join("testdata", "admission.pub") {
		t.Errorf("AdmissionKeyRefs = %v", got)
	}
	if got := f.AdmissionNamespaceKeyRefs(0); len(got) != 1 || got[0] != filepath.Join("testdata", "keys", "team.pub") {
		t.Errorf("AdmissionNamespaceKeyRefs(0) = %v", got)
	}
	if got := f.AdmissionNamespaceKeyRefs(1); got != nil {
		t.Errorf("AdmissionNamespaceKeyRefs(1) = %v, want none (the cluster-wide keys apply)", got)
	}
	f.Admission.Keys = nil
	if got := f.AdmissionKeyRefs(); len(got) != 1 || got[0] != filepath.Join("testdata", "cosign.pub") {
		t.Errorf("AdmissionKeyRefs without admission.keys = %v, want signing.keys", got)
	}
}

func TestParseAdmissionErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown key", "admission: {requires: {}}", `unknown key "requires" in admission (did you mean "require"?)`},
		{"failure policy", "admission: {failurePolicy: fail}", `admission.failurePolicy: "fail" is not one of closed, open`},
		{"zero timeout", "admission: {timeout: 0s}", "admission.timeout: must be more than zero"},
		{"bad ttl", "admission: {cacheTTL: 5 minutes}", `admission.cacheTTL: "5 minutes" is not a duration`},
		{"signature string", "admission: {require: {signature: yes}}", "admission.require.signature: want true or false"},
		{"pss profile", "admission: {require: {checks: {pss: strict}}}", `admission.require.checks.pss: "strict" is not one of restricted, baseline, none`},
		{"checks failOn", "admission: {require: {checks: {failOn: warning}}}", "admission.require.checks.failOn"},
		{"rule level", "admission: {require: {checks: {rules: {MAN009: no}}}}", "admission.require.checks.rules.MAN009"},
		{"rule id", "admission: {require: {checks: {rules: {'MAN 9': off}}}}", "is not a rule or advisory ID"},
		{"verdict none", "admission: {require: {verdict: {failOn: none}}}", "admission.require.verdict.failOn"},
		{"verdict age", "admission: {require: {verdict: {maxAge: 7 days}}}", "is not an age"},
		{"verdict type", "admission: {require: {verdict: {type: sbom}}}", "admission.require.verdict.type"},
		{"namespace matches nothing", "admission: {namespaces: [{failurePolicy: open}]}", "admission.namespaces[0]: matches nothing"},
		{"namespace empty key", "admission: {namespaces: [{namespaces: [a], keys: ['']}]}", "admission.namespaces[0].keys"},
		{"namespace keys not a list", "admission: {namespaces: [{namespaces: [a], keys: {a: b}}]}", "admission.namespaces[0].keys"},
		{"namespace name", "admission: {namespaces: [{namespaces: [Kube_System]}]}", "is not a namespace name or pattern"},
		{"namespace scalar", "admission: {namespaces: [legacy]}", "admission.namespaces[0]: want a mapping"},
		{"label key", "admission: {namespaces: [{namespaceSelector: {matchLabels: {'a b': x}}}]}", "is not a label key"},
		{"label value", "admission: {namespaces: [{labelSelector: {matchLabels: {app: 'a b'}}}]}", "is not a label value"},
		{"operator", "admission: {namespaces: [{labelSelector: {matchExpressions: [{key: a, operator: Equals}]}}]}", `"Equals" is not one of In, NotIn, Exists, DoesNotExist`},
		{"In without values", "admission: {namespaces: [{labelSelector: {matchExpressions: [{key: a, operator: In}]}}]}", "operator In needs values"},
		{"Exists with values", "admission: {namespaces: [{labelSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}]}", "takes no values"},
		{"exemption reason", "admission: {exemptions: [{image: 'x/*'}]}", "exemption has no reason"},
		{"exemption empty", "admission: {exemptions: [{namespace: ci, reason: r}]}", "exempts nothing"},
		{"exemption date", "admission: {exemptions: [{image: 'x/*', reason: r, expires: 2027-02-30}]}", `"2027-02-30" is not a date`},
		{"exemption image", "admission: {exemptions: [{image: 'a b', reason: r}]}", "want an image reference pattern"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("charter.yaml", []byte("version: 1\n"+c.src+"\n"))
			if err == nil {
				t.Fatalf("parsed %q without error", c.src)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "charter.yaml:2:") {
				t.Errorf("error %q does not name line 2", err)
			}
		})
	}
}
