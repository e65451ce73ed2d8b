package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/lint"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
)

func newCheckCmd(env Env) *cobra.Command {
	var (
		rf         reportFlags
		imf        imageFlags
		vf         vulnFlags
		lintPath   string
		sbomOutput string
		sbomFormat string
	)
	cmd := &cobra.Command{
		Use:   "check IMAGE|sbom:FILE",
		Short: "The CI gate: everything the charter file asks of an image, one verdict",
		Long: "Check IMAGE against the contract in charter.yaml (or --charter), in one pass over its\n" +
			"layers: the config and history, secrets (in the config, the history, every file and\n" +
			"the files later layers deleted), the filesystem, every package and its integrity\n" +
			"(IMG009), and every package's known vulnerabilities. The charter file's policy\n" +
			"(failOn, rule severities, ignores with reasons and expiry dates) decides one verdict.\n" +
			"sbom:FILE checks the packages of a CycloneDX or SPDX document instead.\n\n" +
			"The local vulnerability database is required: with none, check exits 2 and says how\n" +
			"to build one (`charter db update`); one older than 24 h is used with a warning on\n" +
			"stderr. check never updates it, and with --offline it touches no network at all.\n\n" +
			"Exit codes: 0 the verdict passed, 1 it failed (a finding at or above the threshold,\n" +
			"not ignored), 2 charter could not check (no database, unreadable image, bad input).",
		Example: "  charter db update && charter check registry:ghcr.io/acme/api:v3\n" +
			"  charter check docker:api:dev --charter deploy/charter.yaml --lint .\n" +
			"  charter check oci-archive:api.tar --offline -o sarif --output charter.sarif\n" +
			"  charter check sbom:api.cdx.json --only-fixable\n" +
			"  charter check registry:ghcr.io/acme/api:v3 --vex vex/api.openvex.json\n" +
			"  charter check oci-dir:./build/oci:v1 --sbom-output api.cdx.json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.validate(); err != nil {
				return err
			}
			if sbomOutput != "" {
				if _, err := sbom.ParseFormat(sbomFormat); err != nil {
					return fmt.Errorf("--sbom-format: %w (want %s)", err, strings.Join(sbom.Formats, ", "))
				}
			}
			ref := args[0]
			if err := imf.checkOffline(ref, imf.base); err != nil {
				return err
			}
			cat := catalog()
			pf, err := rf.loadCharter(cat)
			if err != nil {
				return err
			}
			db, err := openVulnDB(env, "check", "")
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			sel := selection{image: imagecheck.All(), pkg: true, vuln: true}
			if strings.HasPrefix(ref, sbomScheme) {
				sel, _ = sel.forSBOM(false)
			}
			a, err := analyze(cmd.Context(), env, ref, analyzeOptions{sel: sel, img: imf, vf: vf, noProgress: rf.noProgress, db: db})
			if err != nil {
				return err
			}
			r := report.New(version(), a.target)
			r.Findings = append(r.Findings, a.findings...)
			r.Packages = imagePackages(a.inv)
			r.Warnings = append(r.Warnings, a.warnings...)
			if lintPath != "" {
				if err := lintInto(cmd, env, r, lintPath, pf, rf.noProgress); err != nil {
					return err
				}
			}
			if sbomOutput != "" {
				if err := writeSBOM(env, a, sbomOutput, sbomFormat); err != nil {
					return err
				}
			}
			if err := vf.applyVEX(r, pf); err != nil {
				return err
			}
			pf.Apply(r, cat, env.Now())
			r.Finalize(rf.threshold(cmd, pf))
			if err := vf.writePredicate(env, r, db, append([]string{"check"}, args...)); err != nil {
				return err
			}
			return rf.write(env, r, cat)
		},
	}
	rf.register(cmd)
	imf.register(cmd, true)
	vf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&lintPath, "lint", "", "also lint the Dockerfiles and build contexts under `PATH` (a folder or one Dockerfile), as charter lint does")
	fl.StringVar(&sbomOutput, "sbom-output", "", "also write the image's SBOM to `FILE`, from the same pass")
	fl.StringVar(&sbomFormat, "sbom-format", sbom.CycloneDXJSON, "format of --sbom-output: "+strings.Join(sbom.Formats, ", "))
	return cmd
}

// lintInto lints path as `charter lint` does and adds its findings to the check's report.
func lintInto(cmd *cobra.Command, env Env, r *report.Report, path string, pf *policy.File, noProgress bool) error {
	prog := newProgress(env, noProgress)
	lr, err := lint.Run(cmd.Context(), path, lint.Options{
		Version: version(), Charter: pf, Stdin: env.Stdin,
		Progress: func(done, total int, p string) { prog.update("linting %d/%d %s", done+1, total, p) },
	})
	prog.done()
	if err != nil {
		return fmt.Errorf("--lint: %w", err)
	}
	r.Findings = append(r.Findings, lr.Findings...)
	r.Warnings = append(r.Warnings, lr.Warnings...)
	return nil
}

// writeSBOM writes the checked inventory as an SBOM beside the report.
func writeSBOM(env Env, a *analysis, path, format string) error {
	if a.inv == nil {
		return nil
	}
	now, err := sbomClock(env)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := encodeInventory(&buf, a, format, sbom.Options{Now: now}); err != nil {
		return err
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("--sbom-output: %w", err)
	}
	return nil
}
