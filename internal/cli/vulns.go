package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
	"github.com/charterhq/charter/internal/vulndb"
)

// vulnFlags filter vulnerability findings.
type vulnFlags struct {
	ignoreBase  bool
	onlyFixable bool
	vex         []string
	predicate   string    // --vuln-predicate FILE
	started     time.Time // when the command started (monotonic), for the predicate
}

func (f *vulnFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.ignoreBase, "ignore-base", false, "leave out vulnerabilities of packages the base image brought (fix those by updating the base)")
	fl.BoolVar(&f.onlyFixable, "only-fixable", false, "leave out vulnerabilities that have no fixed version yet")
	fl.StringArrayVar(&f.vex, "vex", nil, "an OpenVEX or CycloneDX VEX `FILE` (repeatable; added to the charter file's policy.vex): "+
		"findings it says do not affect the image are shown as suppressed")
	fl.StringVar(&f.predicate, "vuln-predicate", "", "also write the vulnerabilities as an in-toto vulnerability predicate "+
		"(https://in-toto.io/attestation/vulns/v0.1) to `FILE`, for `charter attest --type vuln --predicate FILE`")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		f.started = time.Now()
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// applyVEX suppresses the findings the VEX documents say do not affect the image: the
// charter file's policy.vex, then every --vex FILE. A document that cannot be read is an
// error (exit 2); statements left out are report warnings.
func (f *vulnFlags) applyVEX(r *report.Report, pf *policy.File) error {
	var paths []string
	if pf != nil {
		paths = pf.VEXFiles()
	}
	paths = append(paths, f.vex...)
	if len(paths) == 0 {
		return nil
	}
	v, err := policy.LoadVEX(paths)
	if err != nil {
		return err
	}
	for _, w := range v.Warnings {
		r.Warnings = append(r.Warnings, "VEX: "+w)
	}
	v.Apply(r)
	return nil
}

// vulnMatcher is what matching needs of the database (a *vulndb.DB).
type vulnMatcher interface {
	Match(ctx context.Context, pkgs []report.Package, d vulndb.Distro) (*vulndb.Result, error)
	Status() vulndb.Status
}

// vulnDBDir is the database's folder: $CHARTER_CACHE_DIR/vulndb, else the user cache
// directory's charter/vulndb.
func vulnDBDir(env Env) (string, error) {
	if d := env.Getenv("CHARTER_CACHE_DIR"); d != "" {
		return filepath.Join(d, "vulndb"), nil
	}
	return vulndb.DefaultDir()
}

// openVulnDB opens the local database for matching. With none it fails with what to run
// (exit 2: a gate must not pass because it could not look); a database older than a day
// is used, with a warning on stderr.
func openVulnDB(env Env, cmdName, hint string) (*vulndb.DB, error) {
	dir, err := vulnDBDir(env)
	if err != nil {
		return nil, err
	}
	db, err := vulndb.Open(dir)
	switch {
	case errors.Is(err, vulndb.ErrNoDatabase):
		return nil, fmt.Errorf("%s needs a vulnerability database and there is none in %s: run `charter db update` "+
			"(or `charter db update --source DIR|ZIP|URL` from a mirror or an OSV export, offline)%s", cmdName, dir, hint)
	case err != nil:
		return nil, err
	}
	st := db.Status()
	if now := env.Now(); st.Stale(now) {
		fmt.Fprintf(env.Stderr, "charter: warning: the vulnerability database is %s old (built %s); run `charter db update`\n",
			humanAge(st.Age(now)), st.Built.UTC().Format(time.RFC3339))
	}
	return db, nil
}

// matchVulns matches an inventory's packages and returns the findings and the warnings
// that say what could not be looked up.
func matchVulns(ctx context.Context, db vulnMatcher, inv *sbom.Inventory, vf vulnFlags) ([]report.Finding, []string, error) {
	if inv == nil || db == nil {
		return nil, nil, nil
	}
	pkgs := inv.Report()
	var d vulndb.Distro
	if inv.Distro != nil {
		d = vulndb.Distro{ID: inv.Distro.ID, VersionID: inv.Distro.VersionID}
	}
	res, err := db.Match(ctx, pkgs, d)
	if err != nil {
		return nil, nil, fmt.Errorf("matching vulnerabilities: %w", err)
	}
	var out []report.Finding
	for i := range res.Matches {
		m := &res.Matches[i]
		if (vf.ignoreBase && m.Package.Base) || (vf.onlyFixable && m.Fixed == "") {
			continue
		}
		out = append(out, m.Finding())
	}
	warns := unmatchedWarnings(res.Unmatched)
	warns = append(warns, coverageWarnings(pkgs, inv.Distro, db.Status())...)
	return out, warns, nil
}

func unmatchedWarnings(um map[string]int) []string {
	reasons := make([]string, 0, len(um))
	for r := range um {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var out []string
	for _, r := range reasons {
		out = append(out, fmt.Sprintf("%d package(s) not fully checked for vulnerabilities: %s", um[r], r))
	}
	return out
}

// osvLanguage names the OSV ecosystem of a language package ecosystem, and osvDistro the
// one of a distro's packages: what `charter db update --ecosystem` takes.
var (
	osvLanguage = map[string]string{
		"golang": "Go", "npm": "npm", "pypi": "PyPI", "maven": "Maven", "cargo": "crates.io",
		"gem": "RubyGems", "composer": "Packagist", "nuget": "NuGet",
	}
	osvDistro = map[string]string{
		"debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine", "wolfi": "Wolfi",
		"chainguard": "Chainguard", "rocky": "Rocky Linux", "almalinux": "AlmaLinux",
	}
)

// osvEcosystemOf names the OSV ecosystem advisories for p are filed under, "" if none.
func osvEcosystemOf(p *report.Package, distro *sbom.Distro) string {
	if e, ok := osvLanguage[p.Ecosystem]; ok {
		return e
	}
	switch p.Ecosystem {
	case "deb", "apk", "rpm":
	default:
		return ""
	}
	id := ""
	if distro != nil {
		id = distro.ID
	} else if ns := purlNamespace(p.PURL); ns != "" {
		id = ns
	}
	return osvDistro[id]
}

// purlNamespace is the namespace of a purl ("debian" in pkg:deb/debian/openssl@…).
func purlNamespace(purl string) string {
	rest, ok := strings.CutPrefix(purl, "pkg:")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// coverageWarnings names the ecosystems the packages need and the database has no
// advisory for: their packages were not really checked, and the user must know.
func coverageWarnings(pkgs []report.Package, distro *sbom.Distro, st vulndb.Status) []string {
	have := map[string]bool{}
	for key := range st.Ecosystems {
		base, _, _ := strings.Cut(key, ":")
		have[base] = true
	}
	need := map[string]int{}
	for i := range pkgs {
		if e := osvEcosystemOf(&pkgs[i], distro); e != "" && !have[e] {
			need[e]++
		}
	}
	ecos := make([]string, 0, len(need))
	for e := range need {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	var out []string
	for _, e := range ecos {
		out = append(out, fmt.Sprintf("the vulnerability database has no %s advisories: %d %s package(s) were not checked (run `charter db update --ecosystem %s`)",
			e, need[e], e, e))
	}
	return out
}

// humanAge renders a database age the way a person says it.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// vulnsPredicate is the in-toto vulnerability predicate
// (https://in-toto.io/attestation/vulns/v0.1): who scanned with which database, and the
// vulnerabilities found.
type vulnsPredicate struct {
	Invocation struct {
		Parameters []string `json:"parameters"`
		URI        string   `json:"uri"`
		EventID    string   `json:"event_id"`
		BuilderID  string   `json:"builder.id"`
	} `json:"invocation"`
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI        string `json:"uri,omitempty"`
			Version    string `json:"version,omitempty"`
			LastUpdate string `json:"lastUpdate,omitempty"`
		} `json:"db"`
		Result []vulnsResult `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  string `json:"scanStartedOn"`
		ScanFinishedOn string `json:"scanFinishedOn"`
	} `json:"metadata"`
}

// vulnsResult is one vulnerability of one package.
type vulnsResult struct {
	ID       string `json:"id"`
	Severity []struct {
		Method string `json:"method"`
		Score  string `json:"score"`
	} `json:"severity"`
	Annotations []map[string]any `json:"annotations,omitempty"`
}

// writePredicate writes --vuln-predicate: the report's vulnerability findings that are
// not suppressed, the database they were matched against, and the scan's times.
func (f *vulnFlags) writePredicate(env Env, r *report.Report, db vulnMatcher, args []string) error {
	if f.predicate == "" {
		return nil
	}
	if db == nil {
		return errors.New("--vuln-predicate needs the vuln scanner")
	}
	var p vulnsPredicate
	p.Invocation.Parameters = append([]string{}, args...)
	p.Scanner.URI = "https://github.com/charterhq/charter"
	p.Scanner.Version = r.Tool.Version
	st := db.Status()
	var uris []string
	for _, s := range st.Sources {
		uris = append(uris, withoutCredentials(s.Location))
	}
	p.Scanner.DB.URI = strings.Join(uris, " ")
	p.Scanner.DB.Version = st.Schema
	if !st.Built.IsZero() {
		p.Scanner.DB.LastUpdate = st.Built.UTC().Format(time.RFC3339)
	}
	p.Scanner.Result = []vulnsResult{}
	for _, fd := range r.Findings {
		if fd.Suppressed != nil || !isVulnFinding(fd) {
			continue
		}
		res := vulnsResult{ID: fd.Rule}
		res.Severity = append(res.Severity, struct {
			Method string `json:"method"`
			Score  string `json:"score"`
		}{Method: "charter", Score: fd.Severity.String()})
		res.Annotations = []map[string]any{{"package": fd.Location.Package, "message": fd.Message}}
		if len(fd.Aliases) > 0 {
			res.Annotations = append(res.Annotations, map[string]any{"aliases": fd.Aliases})
		}
		if fd.Location.Layer != "" {
			res.Annotations = append(res.Annotations, map[string]any{"layer": fd.Location.Layer})
		}
		p.Scanner.Result = append(p.Scanner.Result, res)
	}
	finished := env.Now().UTC()
	started := finished
	if !f.started.IsZero() {
		started = finished.Add(-time.Since(f.started))
	}
	p.Metadata.ScanStartedOn = started.Format(time.RFC3339)
	p.Metadata.ScanFinishedOn = finished.Format(time.RFC3339)
	data, err := json.MarshalIndent(&p, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.predicate, append(data, '\n')); err != nil {
		return fmt.Errorf("--vuln-predicate: %w", err)
	}
	return nil
}

// isVulnFinding tells vulnerability findings (the rule is an advisory ID and the
// location a package) from the other analyzers'.
func isVulnFinding(fd report.Finding) bool {
	return fd.Location.Package != "" && strings.ContainsAny(fd.Rule, "-") && !strings.HasPrefix(fd.Rule, "IMG")
}

// withoutCredentials drops a URL's user information and query, which may hold tokens.
func withoutCredentials(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return loc
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
