package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/diff"
	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
	"github.com/charterhq/charter/internal/vulndb"
)

func newDiffCmd(env Env) *cobra.Command {
	var (
		imf        imageFlags
		lf         listFlags
		failOnNew  string
		noVuln     bool
		noProgress bool
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed between two images: packages, findings, config and layers",
		Long: "Read both images once each (any source `charter scan` reads; sbom:FILE compares\n" +
			"packages and vulnerabilities only) and show what B changes: packages added, removed\n" +
			"and changed with their versions; findings B brings and findings it fixes (config,\n" +
			"secrets, files, and vulnerabilities when a local database exists); config changes\n" +
			"(user, entrypoint, cmd, workdir, environment variable names — never their values —,\n" +
			"ports, labels, volumes, healthcheck); and the layers both share (the base, by diffID),\n" +
			"add and drop, with sizes.\n\n" +
			"Exit codes: 0 done (and no new finding at --fail-on-new), 1 B brings a new finding at\n" +
			"or above --fail-on-new, 2 charter could not read an image.",
		Example: "  charter diff registry:ghcr.io/acme/api:v3.1 registry:ghcr.io/acme/api:v3.2\n" +
			"  charter diff oci-dir:base:1 oci-dir:app:1 -o json\n" +
			"  charter diff registry:ghcr.io/acme/api:prod registry:ghcr.io/acme/api:rc --fail-on-new high",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lf.format != "table" && lf.format != "json" {
				return fmt.Errorf("unknown format %q (want table, json)", lf.format)
			}
			threshold, err := report.ParseSeverity(failOnNew)
			if err != nil {
				return fmt.Errorf("--fail-on-new: %w", err)
			}
			if err := imf.checkOffline(args...); err != nil {
				return err
			}
			var db vulnMatcher
			if !noVuln {
				vdb, err := openVulnIfPresent(env)
				if err != nil {
					return err
				}
				if vdb != nil {
					defer func() { _ = vdb.Close() }()
					db = vdb
				}
			}
			sides := make([]*diff.Side, 2)
			for i, ref := range args {
				if sides[i], err = readSide(cmd.Context(), env, ref, imf, db, noProgress); err != nil {
					return err
				}
			}
			red := secrets.NewRedactor(nil, secrets.WithScan())
			res := diff.Compare(sides[0], sides[1], diff.Options{Redact: red.String})
			redactDiff(res, red)
			if err := lf.write(env, func(w io.Writer) error { return encodeDiff(w, lf.format, res, threshold) }); err != nil {
				return err
			}
			if len(res.NewAtOrAbove(threshold)) > 0 {
				return errVerdict
			}
			return nil
		},
	}
	imf.register(cmd, true)
	cmd.Flags().StringVarP(&lf.format, "format", "o", "table", "output format: table, json")
	cmd.Flags().StringVar(&lf.output, "output", "", "write to `FILE` instead of standard output")
	cmd.Flags().StringVar(&failOnNew, "fail-on-new", "none", "exit 1 when B brings a new finding at or above `SEVERITY` (critical, high, medium, low, info, none)")
	cmd.Flags().BoolVar(&noVuln, "no-vuln", false, "leave vulnerabilities out even when a local database exists")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "never draw progress on the terminal")
	return cmd
}

// openVulnIfPresent opens the local vulnerability database, or returns nil with a note
// on stderr when there is none: a diff is still useful without it.
func openVulnIfPresent(env Env) (*vulndb.DB, error) {
	dir, err := vulnDBDir(env)
	if err != nil {
		return nil, err
	}
	db, err := vulndb.Open(dir)
	if errors.Is(err, vulndb.ErrNoDatabase) {
		fmt.Fprintln(env.Stderr, "charter: note: no vulnerability database, so findings cover config, secrets and files only (`charter db update` builds one)")
		return nil, nil
	}
	return db, err
}

// readSide reads one image (or SBOM) for diff: every image check, the packages, and the
// vulnerabilities when db is not nil.
func readSide(ctx context.Context, env Env, ref string, imf imageFlags, db vulnMatcher, noProgress bool) (*diff.Side, error) {
	side := &diff.Side{Ref: ref}
	if strings.HasPrefix(ref, sbomScheme) {
		a, err := analyzeSBOM(ref)
		if err != nil {
			return nil, err
		}
		side.Digest = a.target.Digest
		for _, l := range a.inv.Layers {
			side.Layers = append(side.Layers, diff.Layer{DiffID: l.DiffID, Size: -1, CreatedBy: l.CreatedBy})
		}
		side.Packages = a.inv.Report()
		fs, _, err := matchVulns(ctx, db, a.inv, vulnFlags{})
		side.Findings = fs
		return side, err
	}
	r, err := readImage(ctx, env, ref, imf, newLayerBars(newProgress(env, noProgress)), imagecheck.All())
	if err != nil {
		return nil, err
	}
	side.Digest, side.Config, side.Findings = r.digest, r.config, r.findings
	red := secrets.NewRedactor(nil, secrets.WithScan())
	for _, l := range r.layers {
		side.Layers = append(side.Layers, diff.Layer{DiffID: l.DiffID.String(), Size: l.Size, CreatedBy: redactInstruction(red, l.CreatedBy())})
	}
	side.Packages = r.inv.Report()
	fs, _, err := matchVulns(ctx, db, r.inv, vulnFlags{})
	side.Findings = append(side.Findings, fs...)
	return side, err
}

// redactDiff passes every free-text field through the secrets scanner before output.
func redactDiff(r *diff.Result, red *secrets.Redactor) {
	for _, fs := range [][]report.Finding{r.Findings.New, r.Findings.Fixed} {
		for i := range fs {
			fs[i].Message = red.String(fs[i].Message)
			fs[i].Location.Instruction = red.String(fs[i].Location.Instruction)
		}
	}
	for _, ls := range [][]diff.Layer{r.Layers.Added, r.Layers.Removed} {
		for i := range ls {
			ls[i].CreatedBy = red.String(ls[i].CreatedBy)
		}
	}
	for i := range r.Config {
		if r.Config[i].Field != "env" {
			r.Config[i].From, r.Config[i].To = red.String(r.Config[i].From), red.String(r.Config[i].To)
		}
	}
}

func encodeDiff(w io.Writer, format string, r *diff.Result, threshold report.Severity) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("A  %s  %s\nB  %s  %s\n", safeText(r.A.Ref), shortDigest(r.A.Digest), safeText(r.B.Ref), shortDigest(r.B.Digest))
	pk := r.Packages
	p("\nPackages: %d added, %d removed, %d changed\n", len(pk.Added), len(pk.Removed), len(pk.Changed))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range pk.Changed {
		fmt.Fprintf(tw, "  ~ %s\t%s\t%s → %s\n", c.Ecosystem, safeText(c.Name), safeText(c.From), safeText(c.To))
	}
	for _, a := range pk.Added {
		fmt.Fprintf(tw, "  + %s\t%s\t%s\n", a.Ecosystem, safeText(a.Name), safeText(a.Version))
	}
	for _, a := range pk.Removed {
		fmt.Fprintf(tw, "  - %s\t%s\t%s\n", a.Ecosystem, safeText(a.Name), safeText(a.Version))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p("\nFindings: %d new, %d fixed\n", len(r.Findings.New), len(r.Findings.Fixed))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range r.Findings.New {
		fmt.Fprintf(tw, "  new\t%s\t%s\t%s\n", f.Severity, f.Rule, safeText(f.Message))
	}
	for _, f := range r.Findings.Fixed {
		fmt.Fprintf(tw, "  fixed\t%s\t%s\t%s\n", f.Severity, f.Rule, safeText(f.Message))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p("\nConfig: %d change(s)\n", len(r.Config))
	for _, c := range r.Config {
		p("  %s\n", safeText(configLine(c)))
	}
	l := r.Layers
	p("\nLayers: %d shared (%d as the common base), %d added, %d removed; size %s → %s\n",
		l.Shared, l.SharedPrefix, len(l.Added), len(l.Removed), sizeText(l.SizeA), sizeText(l.SizeB))
	for _, x := range l.Added {
		p("  + %s  %s  %s\n", shortDigest(x.DiffID), sizeText(x.Size), safeText(clipText(x.CreatedBy, 80)))
	}
	for _, x := range l.Removed {
		p("  - %s  %s  %s\n", shortDigest(x.DiffID), sizeText(x.Size), safeText(clipText(x.CreatedBy, 80)))
	}
	if threshold != report.SeverityNone {
		n := len(r.NewAtOrAbove(threshold))
		if n > 0 {
			p("\nFAIL (fail-on-new %s): B brings %d new finding(s) at or above the threshold\n", threshold, n)
		} else {
			p("\nPASS (fail-on-new %s): no new finding at or above the threshold\n", threshold)
		}
	}
	return nil
}

func configLine(c diff.ConfigChange) string {
	name := c.Field
	if c.Key != "" {
		name += " " + c.Key
	}
	switch {
	case c.Field == "env" && c.Change == "changed":
		return "~ " + name + " (value changed)"
	case c.Change == "added":
		return strings.TrimSpace("+ " + name + " " + c.To)
	case c.Change == "removed":
		return strings.TrimSpace("- " + name + " " + c.From)
	}
	return "~ " + name + ": " + c.From + " → " + c.To
}

func sizeText(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n < 1<<20:
		return fmt.Sprintf("%.1f kB", float64(n)/1024)
	}
	return mb(n) + " MB"
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
