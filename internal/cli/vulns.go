package cli

import (
	"context"
	"errors"
	"fmt"
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
}

func (f *vulnFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.ignoreBase, "ignore-base", false, "leave out vulnerabilities of packages the base image brought (fix those by updating the base)")
	fl.BoolVar(&f.onlyFixable, "only-fixable", false, "leave out vulnerabilities that have no fixed version yet")
	fl.StringArrayVar(&f.vex, "vex", nil, "an OpenVEX or CycloneDX VEX `FILE` (repeatable; added to the charter file's policy.vex): "+
		"findings it says do not affect the image are shown as suppressed")
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
		out = append(out, fmt.Sprintf("%d package(s) not checked for vulnerabilities: %s", um[r], r))
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
