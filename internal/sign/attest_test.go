package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/report"
)

func TestAttestVerifyEachType(t *testing.T) {
	ctx := context.Background()
	cdx := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`)
	spdx := []byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"app"}`)
	for _, referrers := range []bool{true, false} {
		for _, f := range []Format{FormatClassic, FormatBundle} {
			t.Run(fmt.Sprintf("referrers=%v/%s", referrers, f), func(t *testing.T) {
				r := newRegistry(t, referrers)
				d := r.push(t, "app:v1")
				key, v := mustKey(t)
				opts := r.opts
				opts.Format = f
				inputs := map[string][]byte{
					"cyclonedx": cdx, "spdx": spdx,
					"vuln": testReport(t, d, true, "high"), "verdict": testReport(t, d, true, "high"),
				}
				for typ, in := range inputs {
					if _, err := Attest(ctx, r.ref("app:v1"), key, typ, in, opts); err != nil {
						t.Fatalf("attest %s: %v", typ, err)
					}
				}
				// A signature too: it must not be mistaken for an attestation, nor the
				// attestations for signatures.
				if _, err := Sign(ctx, r.ref("app:v1"), key, opts); err != nil {
					t.Fatal(err)
				}
				for typ := range inputs {
					pt, _ := ParsePredicateType(typ)
					got, err := VerifyAttestations(ctx, r.ref("app:v1"), v, typ, r.opts)
					if err != nil {
						t.Fatalf("verify %s: %v", typ, err)
					}
					if len(got.Attestations) != 1 || got.Attestations[0].PredicateType != pt {
						t.Fatalf("verify %s: %+v; want one of %s", typ, got.Attestations, pt)
					}
				}
				sigs, err := Verify(ctx, r.ref("app:v1"), v, r.opts)
				if err != nil || len(sigs.Signatures) != 1 {
					t.Fatalf("signatures: %+v, %v; want exactly the one signature", sigs, err)
				}
				_, err = VerifyAttestations(ctx, r.ref("app:v1"), v, "https://slsa.dev/provenance/v1", r.opts)
				wantNotVerified(t, err, "no verified attestation of type https://slsa.dev/provenance/v1")
				_, other := mustKey(t)
				_, err = VerifyAttestations(ctx, r.ref("app:v1"), other, "verdict", r.opts)
				wantNotVerified(t, err, "signature does not verify")
			})
		}
	}
}

func TestAttestRefusesWrongInput(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, true)
	d := r.push(t, "app:v1")
	other := r.push(t, "app:other")
	key, _ := mustKey(t)
	cases := []struct{ typ, input, want string }{
		{"verdict", string(testReport(t, other, true, "high")), "report is about " + other.String() + ", not " + d.String()},
		{"verdict", `{"bomFormat":"CycloneDX"}`, "not a charter report"},
		{"cyclonedx", `{"spdxVersion":"SPDX-2.3"}`, "not a CycloneDX JSON document"},
		{"spdx", `{"bomFormat":"CycloneDX"}`, "not an SPDX JSON document"},
		{"custom", `[1,2]`, "predicate must be a JSON object"},
		{"custom", `{"a":`, "truncated"},
		{"nonsense", `{}`, "unknown predicate type"},
	}
	for _, c := range cases {
		_, err := Attest(ctx, r.ref("app:v1"), key, c.typ, []byte(c.input), r.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("attest %s %.40s: %v; want %q", c.typ, c.input, err, c.want)
		}
	}
}

func TestVerdictPolicy(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, false)
	key, v := mustKey(t)
	now := r.opts.Now()
	week := 7 * 24 * time.Hour
	policy := VerdictPolicy{FailOn: report.High, MaxAge: week, Now: now}
	cases := []struct {
		name     string
		pass     bool
		failOn   string
		age      time.Duration
		policy   VerdictPolicy
		wantFail string
	}{
		{"passed, high, today", true, "high", 0, policy, ""},
		{"passed, medium is stricter", true, "medium", 0, policy, ""},
		{"passed, critical is looser", true, "critical", 0, policy, "failOn CRITICAL, looser than the required HIGH"},
		{"passed, none fails nothing", true, "none", 0, policy, "failOn NONE"},
		{"failed", false, "high", 0, policy, "failed with failOn HIGH: IMG001"},
		{"eight days old", true, "high", 8 * 24 * time.Hour, policy, "more than 7d ago"},
		{"old but no max age", true, "high", 400 * 24 * time.Hour, VerdictPolicy{FailOn: report.High, Now: now}, ""},
		{"scanned in the future", true, "high", -time.Hour, policy, "in the future"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := fmt.Sprintf("app%d:v1", i)
			d := r.push(t, repo)
			opts := r.opts
			opts.Now = func() time.Time { return now.Add(-c.age) }
			if _, err := Attest(ctx, r.ref(repo), key, "verdict", testReport(t, d, c.pass, c.failOn), opts); err != nil {
				t.Fatal(err)
			}
			got, err := CheckVerdict(ctx, r.ref(repo), v, "verdict", c.policy, r.opts)
			if c.wantFail == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !got.Verdict.Verdict.Pass {
					t.Fatalf("verdict %+v", got.Verdict)
				}
				return
			}
			wantNotVerified(t, err, c.wantFail)
		})
	}
}

func TestVerdictNewestWins(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, true)
	d := r.push(t, "app:v1")
	key, v := mustKey(t)
	now := r.opts.Now()
	policy := VerdictPolicy{FailOn: report.High, MaxAge: 7 * 24 * time.Hour, Now: now}
	attest := func(pass bool, at time.Time) {
		t.Helper()
		o := r.opts
		o.Now = func() time.Time { return at }
		if _, err := Attest(ctx, r.ref("app:v1"), key, "verdict", testReport(t, d, pass, "high"), o); err != nil {
			t.Fatal(err)
		}
	}
	attest(true, now.Add(-48*time.Hour))
	attest(false, now.Add(-time.Hour)) // a new advisory: the rescan fails
	_, err := CheckVerdict(ctx, r.ref("app:v1"), v, "verdict", policy, r.opts)
	wantNotVerified(t, err, "failed with failOn HIGH")
	attest(true, now) // fixed and rescanned
	if _, err := CheckVerdict(ctx, r.ref("app:v1"), v, "verdict", policy, r.opts); err != nil {
		t.Fatal(err)
	}
	// The vulnerability-scan predicate carries a charter report, so it has a verdict too.
	if _, err := Attest(ctx, r.ref("app:v1"), key, "vuln", testReport(t, d, true, "high"), r.opts); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckVerdict(ctx, r.ref("app:v1"), v, "vuln", policy, r.opts); err != nil {
		t.Fatal(err)
	}
}

func TestPromote(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, false)
	key, v := mustKey(t)
	now := r.opts.Now()
	popts := PromoteOptions{Options: r.opts, Verdict: VerdictPolicy{FailOn: report.High, MaxAge: 7 * 24 * time.Hour, Now: now}}
	release := func(tag string, pass bool) string {
		t.Helper()
		d := r.push(t, "app:"+tag)
		if _, err := Sign(ctx, r.ref("app:"+tag), key, r.opts); err != nil {
			t.Fatal(err)
		}
		if _, err := Attest(ctx, r.ref("app:"+tag), key, "verdict", testReport(t, d, pass, "high"), r.opts); err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	d1 := release("v1", true)
	d2 := release("v2", true)
	bad := release("v3", false)
	unsigned := r.push(t, "app:v4").String()

	p, err := Promote(ctx, r.ref("app:v1"), "stable", v, popts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest.String() != d1 || p.Previous != "" || p.Destination != r.ref("app:stable") {
		t.Fatalf("first promotion %+v", p)
	}
	if p, err = Promote(ctx, r.ref("app:v2"), "stable", v, popts); err != nil {
		t.Fatal(err)
	}
	if p.Digest.String() != d2 || p.Previous != d1 {
		t.Fatalf("second promotion %+v; want %s over %s", p, d2, d1)
	}
	// Refusals leave the tag where it was.
	_, err = Promote(ctx, r.ref("app:v3"), "stable", v, popts)
	wantNotVerified(t, err, "failed with failOn HIGH")
	_, err = Promote(ctx, r.ref("app:v4"), "stable", v, popts)
	wantNotVerified(t, err, "no signatures found")
	_, other := mustKey(t)
	_, err = Promote(ctx, r.ref("app:v1"), "stable", other, popts)
	wantNotVerified(t, err, "does not verify")
	if got := head(t, r.ref("app:stable")); got != d2 {
		t.Fatalf("stable is %s after refused promotions; want %s", got, d2)
	}
	// Rollback: promote the earlier digest.
	if p, err = Promote(ctx, r.ref("app@"+d1), "stable", v, popts); err != nil {
		t.Fatal(err)
	}
	if p.Previous != d2 || head(t, r.ref("app:stable")) != d1 {
		t.Fatalf("rollback %+v", p)
	}
	// Into another repository: what signs the image travels with it.
	if _, err = Promote(ctx, r.ref("app:v2"), r.ref("release/app:stable"), v, popts); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, r.ref("release/app:stable"), v, r.opts); err != nil {
		t.Fatalf("promoted copy does not verify: %v", err)
	}
	if _, err := CheckVerdict(ctx, r.ref("release/app:stable"), v, "verdict", popts.Verdict, r.opts); err != nil {
		t.Fatalf("promoted copy's verdict: %v", err)
	}
	_, err = Promote(ctx, r.ref("app:v2"), r.ref("release/app@"+bad), v, popts)
	if err == nil || !strings.Contains(err.Error(), "must name a tag") {
		t.Fatalf("promotion to a digest: %v", err)
	}
	_ = unsigned
}

func head(t *testing.T, ref string) string {
	t.Helper()
	d, err := remote.Head(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}

func TestPredicateTypesAreCosigns(t *testing.T) {
	// The URIs cosign's --type names map to; verify-attestation --type must agree.
	want := map[string]string{
		"cyclonedx": "https://cyclonedx.org/bom",
		"spdxjson":  "https://spdx.dev/Document",
		"vuln":      "https://cosign.sigstore.dev/attestation/vuln/v1",
		"custom":    "https://cosign.sigstore.dev/attestation/v1",
	}
	for n, u := range want {
		if got, err := ParsePredicateType(n); err != nil || got != u {
			t.Errorf("%s → %s, %v; want %s", n, got, err, u)
		}
	}
	var st Statement
	if err := json.Unmarshal([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}`), &st); err != nil {
		t.Fatal(err)
	}
}
