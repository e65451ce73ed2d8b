package cli

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/report"
)

// scannersBuilt are the --scanners values this build runs; scannersPlanned are the ones
// the design names that are not built yet. Asking for a planned one is an error, never
// a silent pass.
var (
	scannersBuilt   = []string{"config", "secret", "file"}
	scannersPlanned = []string{"package", "vuln"}
)

func newScanCmd(env Env) *cobra.Command {
	var (
		rf       reportFlags
		platform string
		insecure []string
		noCache  bool
		scanners []string
	)
	cmd := &cobra.Command{
		Use:   "scan IMAGE",
		Short: "Scan an image's config, history and every layer for what it gives away",
		Long: "Open IMAGE from any source (registry:, docker:, podman:, docker-archive:, oci-dir:,\n" +
			"oci-archive:, dir:, or a bare name: the daemon if it has it, else the registry), read\n" +
			"every layer once, and check the config, the history, the final filesystem and the\n" +
			"files later layers deleted (IMG001–IMG008, IMG010). One report per run.\n\n" +
			"Scanners: config (user, exposed SSH), secret (config, history, files, deleted files),\n" +
			"file (setuid, world-writable, SSH server, shells and package managers, layer anomalies).",
		Example: "  charter scan registry:ghcr.io/acme/api:v3\n" +
			"  charter scan docker:api:dev --fail-on critical\n" +
			"  charter scan oci-dir:./build/oci:v1 -o sarif --output charter.sarif\n" +
			"  charter scan registry:localhost:5000/app:1 --insecure-registry localhost:5000\n" +
			"  charter scan docker-archive:app.tar --scanners secret",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.validate(); err != nil {
				return err
			}
			sel, err := parseScanners(scanners)
			if err != nil {
				return err
			}
			cat := catalog()
			pf, err := rf.loadCharter(cat)
			if err != nil {
				return err
			}
			bars := newLayerBars(newProgress(env, rf.noProgress))
			im, err := image.Open(cmd.Context(), args[0], image.Options{
				Platform: platform, InsecureRegistries: insecure, NoCache: noCache,
				Getenv: env.Getenv, Progress: bars.report,
			})
			if err != nil {
				return err
			}
			defer func() { _ = im.Close() }()
			bars.start(im.Layers())
			idx, err := im.Walk(cmd.Context(), imagecheck.Analyzers(sel)...)
			bars.done()
			if err != nil {
				return err
			}
			target := report.Target{Kind: "image", Ref: args[0]}
			if d := im.Digest(); d.Hex != "" {
				target.Digest = d.String()
			}
			r := report.New(version(), target)
			r.Findings = append(r.Findings, imagecheck.Check(im, idx, sel)...)
			pf.Apply(r, cat, env.Now())
			r.Finalize(rf.threshold(cmd, pf))
			return rf.write(env, r, cat)
		},
	}
	rf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&platform, "platform", "", "pick `OS/ARCH[/VARIANT]` from a multi-platform image (default: linux on this machine's architecture)")
	fl.StringArrayVar(&insecure, "insecure-registry", nil, "allow plain HTTP to `HOST[:PORT]` (repeatable); every other registry must speak HTTPS")
	fl.BoolVar(&noCache, "no-cache", false, "read every layer again and write nothing to the layer cache")
	fl.StringSliceVar(&scanners, "scanners", scannersBuilt, "run only these `SCANNERS`: "+strings.Join(scannersBuilt, ", "))
	return cmd
}

// parseScanners turns --scanners into a selection; a scanner that is planned but not
// built, or unknown, is an error (exit 2).
func parseScanners(list []string) (imagecheck.Scanners, error) {
	var s imagecheck.Scanners
	if len(list) == 0 {
		return s, fmt.Errorf("--scanners: name at least one of %s", strings.Join(scannersBuilt, ", "))
	}
	for _, name := range list {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "config":
			s.Config = true
		case "secret":
			s.Secret = true
		case "file":
			s.File = true
		default:
			n := strings.ToLower(strings.TrimSpace(name))
			if slices.Contains(scannersPlanned, n) {
				return s, fmt.Errorf("--scanners %s: the %s scanner is not built into this version of charter; "+
					"drop it from --scanners (available: %s) and use another tool for it until it lands", n, n, strings.Join(scannersBuilt, ", "))
			}
			return s, fmt.Errorf("--scanners: unknown scanner %q (available: %s)", name, strings.Join(scannersBuilt, ", "))
		}
	}
	return s, nil
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
