package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
)

// sbomExtraFormats are the -o values of `charter sbom` besides the SBOM encodings.
var sbomExtraFormats = []string{"table", "json"}

func newSbomCmd(env Env) *cobra.Command {
	var (
		format     string
		output     string
		files      bool
		noProgress bool
		imf        imageFlags
	)
	cmd := &cobra.Command{
		Use:   "sbom IMAGE",
		Short: "List every package of an image as CycloneDX, SPDX, charter JSON or a table",
		Long: "Open IMAGE from any source (as `charter scan` does), read every layer once, and list\n" +
			"its packages: OS packages (dpkg, apk, rpm), language packages (Go binaries, Python,\n" +
			"npm, Java, Rust, Ruby, PHP, .NET) and software installed without a package manager.\n" +
			"Each package names the layer and instruction that brought it and whether it comes\n" +
			"from the base image. sbom:FILE converts a CycloneDX or SPDX document instead.\n\n" +
			"Formats: " + strings.Join(sbom.Formats, ", ") + " (a version may follow: cyclonedx-json@1.5),\n" +
			"json (charter.report/v1 with its packages), table. Output is deterministic: the same\n" +
			"image gives the same bytes, with the document's timestamp from SOURCE_DATE_EPOCH when set.\n\n" +
			"Exit codes: 0 the document was written, 2 charter could not read the image or write.",
		Example: "  charter sbom registry:ghcr.io/acme/api:v3\n" +
			"  charter sbom oci-dir:./build/oci:v1 -o cyclonedx-json --output api.cdx.json\n" +
			"  charter sbom docker:api:dev -o spdx-json --base docker:debian:12-slim\n" +
			"  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) charter sbom dir:./rootfs -o spdx-tag-value\n" +
			"  charter sbom sbom:syft.spdx.json -o cyclonedx-xml",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(sbomExtraFormats, format) {
				if _, err := sbom.ParseFormat(format); err != nil {
					return fmt.Errorf("unknown format %q (want %s, %s)", format, strings.Join(sbom.Formats, ", "), strings.Join(sbomExtraFormats, ", "))
				}
			}
			now, err := sbomClock(env)
			if err != nil {
				return err
			}
			a, err := analyze(cmd.Context(), env, args[0], analyzeOptions{sel: selection{inventory: true}, img: imf, noProgress: noProgress})
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := encodeInventory(&buf, a, format, sbom.Options{Now: now, Files: files}); err != nil {
				return err
			}
			if format != "json" {
				for _, w := range a.warnings {
					fmt.Fprintf(env.Stderr, "charter: warning: %s\n", w)
				}
			}
			if output != "" {
				return writeFileAtomic(output, buf.Bytes())
			}
			_, err = env.Stdout.Write(buf.Bytes())
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "o", "table", "output `FORMAT`: "+strings.Join(append(slices.Clone(sbom.Formats), sbomExtraFormats...), ", "))
	fl.StringVar(&output, "output", "", "write the document to `FILE` instead of standard output")
	fl.BoolVar(&files, "files", false, "list each package's files (CycloneDX evidence, SPDX File elements with their digests)")
	fl.BoolVar(&noProgress, "no-progress", false, "never draw progress on the terminal")
	imf.register(cmd, true)
	return cmd
}

// sbomClock is the document's creation time: SOURCE_DATE_EPOCH when set (reproducible
// builds), else the command's clock.
func sbomClock(env Env) (func() time.Time, error) {
	if env.Getenv("SOURCE_DATE_EPOCH") == "" {
		return env.Now, nil
	}
	return sbom.NowFromEnv(env.Getenv)
}

// encodeInventory writes the inventory in one of sbom's formats, as charter JSON, or as
// a table.
func encodeInventory(w io.Writer, a *analysis, format string, opt sbom.Options) error {
	switch format {
	case "json":
		r := report.New(version(), a.target)
		r.Packages = a.inv.Report()
		r.Warnings = a.warnings
		r.Finalize(report.SeverityNone)
		return report.EncodeJSON(w, r)
	case "table":
		return packageTable(w, a.target.Ref, a.inv.Report())
	}
	f, err := sbom.ParseFormat(format)
	if err != nil {
		return err
	}
	return sbom.Encode(w, a.inv, f, opt)
}

// packageTable lists packages by name, one per line, then counts them by ecosystem.
func packageTable(w io.Writer, ref string, pkgs []report.Package) error {
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Ecosystem < b.Ecosystem
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tTYPE\tLAYER\tFROM")
	count := map[string]int{}
	for _, p := range pkgs {
		layer := "-"
		if p.LayerIndex != nil {
			layer = strconv.Itoa(*p.LayerIndex)
		}
		from := "image"
		switch {
		case p.LayerIndex == nil:
			from = "-"
		case p.Base:
			from = "base"
		}
		typ := p.Ecosystem
		if p.Unmanaged {
			typ += " (unmanaged)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, typ, layer, from)
		count[p.Ecosystem]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ecos := make([]string, 0, len(count))
	for e := range count {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	var parts []string
	for _, e := range ecos {
		parts = append(parts, fmt.Sprintf("%s %d", e, count[e]))
	}
	summary := ""
	if len(parts) > 0 {
		summary = " (" + strings.Join(parts, ", ") + ")"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d package(s)%s\n", ref, len(pkgs), summary)
	return err
}
