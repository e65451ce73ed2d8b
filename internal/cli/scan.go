package cli

import (
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
)

func newScanCmd(env Env) *cobra.Command {
	var (
		rf       reportFlags
		imf      imageFlags
		vf       vulnFlags
		invf     inventoryFlags
		scanners []string
	)
	cmd := &cobra.Command{
		Use:   "scan IMAGE",
		Short: "Scan an image's config, history, every layer, packages and vulnerabilities",
		Long: "Open IMAGE from any source (registry:, docker:, podman:, docker-archive:, oci-dir:,\n" +
			"oci-archive:, dir:, or a bare name: the daemon if it has it, else the registry), read\n" +
			"every layer once, and check the config, the history, the final filesystem and the\n" +
			"files later layers deleted (IMG001–IMG010), the packages and their vulnerabilities.\n" +
			"sbom:FILE reads a CycloneDX or SPDX document instead (packages and vulnerabilities).\n" +
			"One report per run.\n\n" +
			"Scanners: config (user, exposed SSH), secret (config, history, files, deleted files),\n" +
			"file (setuid, world-writable, SSH server, shells and package managers, layer anomalies),\n" +
			"package (every package into the report's packages; IMG009 integrity), vuln (the\n" +
			"packages against the local vulnerability database: `charter db update` builds it;\n" +
			"without one the scan exits 2).",
		Example: "  charter scan registry:ghcr.io/acme/api:v3\n" +
			"  charter scan docker:api:dev --fail-on critical\n" +
			"  charter scan oci-dir:./build/oci:v1 -o sarif --output charter.sarif\n" +
			"  charter scan registry:localhost:5000/app:1 --insecure-registry localhost:5000\n" +
			"  charter scan docker-archive:app.tar --scanners secret\n" +
			"  charter scan sbom:app.cdx.json --only-fixable",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.validate(); err != nil {
				return err
			}
			sel, err := parseScanners(scanners)
			if err != nil {
				return err
			}
			if strings.HasPrefix(args[0], sbomScheme) {
				if sel, err = sel.forSBOM(cmd.Flags().Changed("scanners")); err != nil {
					return err
				}
			}
			sel.inventory = invf.enabled
			cat := catalog()
			pf, err := rf.loadCharter(cat)
			if err != nil {
				return err
			}
			opts := analyzeOptions{sel: sel, img: imf, vf: vf, noProgress: rf.noProgress}
			if sel.vuln {
				db, err := openVulnDB(env, "the vuln scanner", ", or leave it out: --scanners config,secret,file,package")
				if err != nil {
					return err
				}
				defer func() { _ = db.Close() }()
				opts.db = db
			}
			a, err := analyze(cmd.Context(), env, args[0], opts)
			if err != nil {
				return err
			}
			if err := invf.record(cmd.Context(), env, args[0], a); err != nil {
				return err
			}
			r := report.New(version(), a.target)
			r.Findings = append(r.Findings, a.findings...)
			if sel.pkg {
				r.Packages = imagePackages(a.inv)
			}
			r.Warnings = append(r.Warnings, a.warnings...)
			if err := vf.applyVEX(r, pf); err != nil {
				return err
			}
			pf.Apply(r, cat, env.Now())
			r.Finalize(rf.threshold(cmd, pf))
			if err := vf.writePredicate(env, r, opts.db, append([]string{"scan"}, args...)); err != nil {
				return err
			}
			return rf.write(env, r, cat)
		},
	}
	rf.register(cmd)
	imf.register(cmd, true)
	vf.register(cmd)
	invf.register(cmd)
	cmd.Flags().StringSliceVar(&scanners, "scanners", scannerNames, "run only these `SCANNERS`: "+strings.Join(scannerNames, ", "))
	return cmd
}

// layerBars draws the layer reads on the progress line: how many layers are done, a bar
// of the blob bytes read across all of them, and the bytes of the layer being read.
type layerBars struct {
	p        *progress
	mu       sync.Mutex
	total    []int64 // blob size per layer, -1 when unknown
	read     []int64
	finished []bool
	cached   int
}

func newLayerBars(p *progress) *layerBars { return &layerBars{p: p} }

// start sizes the bars from the image's layer list; reports before it are dropped.
func (b *layerBars) start(layers []image.Layer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = make([]int64, len(layers))
	b.read = make([]int64, len(layers))
	b.finished = make([]bool, len(layers))
	for i, l := range layers {
		b.total[i] = l.Size
	}
}

func (b *layerBars) report(pr image.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pr.Layer < 0 || pr.Layer >= len(b.total) {
		return
	}
	b.read[pr.Layer] = pr.Done
	if pr.Total > 0 {
		b.total[pr.Layer] = pr.Total
	}
	if pr.Finished && !b.finished[pr.Layer] {
		b.finished[pr.Layer] = true
		if pr.Cached {
			b.cached++
		}
	}
	b.p.update("%s", b.line(pr))
}

func (b *layerBars) line(cur image.Progress) string {
	var done, read, total int64
	known := true
	for i := range b.total {
		if b.finished[i] {
			done++
		}
		read += b.read[i]
		if b.total[i] < 0 {
			known = false
		} else {
			total += b.total[i]
		}
	}
	s := fmt.Sprintf("layers %d/%d ", done, len(b.total))
	if known && total > 0 {
		const width = 20
		fill := int(min(read, total) * width / total)
		s += "[" + strings.Repeat("=", fill) + strings.Repeat(" ", width-fill) + "] " + mb(read) + "/" + mb(total) + " MB"
	} else {
		s += mb(read) + " MB"
	}
	if b.cached > 0 {
		s += fmt.Sprintf(" (%d cached)", b.cached)
	}
	if !cur.Finished {
		s += fmt.Sprintf("  layer %d: %s", cur.Layer, mb(cur.Done))
		if cur.Total > 0 {
			s += "/" + mb(cur.Total)
		}
		s += " MB"
	}
	return s
}

func (b *layerBars) done() { b.p.done() }

func mb(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
