package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	pkgcat "github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/inventory"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
	"github.com/charterhq/charter/internal/vulndb"
)

// inventoryFormats are the -o values of the inventory's listing commands.
var inventoryFormats = []string{"table", "json", "csv"}

// inventorySchema names the JSON the listing commands write.
const inventorySchema = "charter.inventory/v1"

func newInventoryCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Record which images hold which packages, and ask which are affected by an advisory",
		Long: "The inventory keeps every added image's packages (with their purls, layers and paths)\n" +
			"and where the images run, in SQLite (default: $XDG_DATA_HOME/charter/inventory.db, or\n" +
			"~/.local/share/charter/inventory.db) or PostgreSQL (--db postgres://…, or\n" +
			"CHARTER_INVENTORY_DB for every command). When the next Log4Shell is published,\n" +
			"`charter inventory affected ID` lists the affected images in a second.",
		Example: "  charter inventory add registry:ghcr.io/acme/api:v3 sbom:worker.cdx.json\n" +
			"  charter scan registry:ghcr.io/acme/api:v3 --inventory\n" +
			"  charter inventory affected CVE-2021-44228\n" +
			"  charter inventory query --purl pkg:maven/org.apache.logging.log4j/log4j-core --range '<2.17.1'",
	}
	cmd.AddCommand(newInventoryAddCmd(env), newInventoryAffectedCmd(env), newInventoryQueryCmd(env),
		newInventoryListCmd(env), newInventoryRemoveCmd(env), newInventoryDeployedCmd(env), newInventoryPruneCmd(env))
	return cmd
}

// dbFlag is --db: where the inventory lives.
type dbFlag struct{ location string }

func (f *dbFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.location, "db", "", "the inventory: a SQLite `FILE` or a postgres://USER@HOST/DB URL (default $"+inventory.EnvDB+", else the user data directory)")
}

func (f *dbFlag) open(ctx context.Context, env Env) (inventory.Store, error) {
	loc := f.location
	if loc == "" {
		var err error
		if loc, err = inventory.DefaultLocation(env.Getenv); err != nil {
			return nil, err
		}
	}
	return inventory.Open(ctx, loc)
}

func newInventoryAddCmd(env Env) *cobra.Command {
	var (
		db         dbFlag
		imf        imageFlags
		jobs       int
		quiet      bool
		noProgress bool
	)
	cmd := &cobra.Command{
		Use:   "add IMAGE|sbom:FILE...",
		Short: "Record images (any source) or SBOMs and their packages",
		Long: "Read each image once (any source `charter scan` reads) or each CycloneDX/SPDX document,\n" +
			"and record its digest, creation time, layers and packages. An image already recorded\n" +
			"(same digest) keeps its packages and takes the new reference, so adding is idempotent.\n" +
			"An image that cannot be read is reported and the others are still added (exit 2).",
		Example: "  charter inventory add registry:ghcr.io/acme/api:v3 registry:ghcr.io/acme/worker:v7\n" +
			"  charter inventory add sbom:sboms/*.cdx.json --db postgres://charter@db.internal/inventory\n" +
			"  charter inventory add oci-dir:./build/oci:v1 --jobs 4",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := imf.checkOffline(args...); err != nil {
				return err
			}
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			out := env.Stdout
			if quiet {
				out = io.Discard
			}
			return addImages(cmd.Context(), env, store, args, addOptions{imf: imf, jobs: jobs, out: out, prog: newProgress(env, noProgress)})
		},
	}
	db.register(cmd)
	imf.register(cmd, true)
	fl := cmd.Flags()
	fl.IntVar(&jobs, "jobs", min(4, runtime.NumCPU()), "read up to `N` images at a time")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	fl.BoolVar(&noProgress, "no-progress", false, "never draw progress on the terminal")
	return cmd
}

// addBatch is the most images one transaction of a bulk add records.
const addBatch = 64

type addOptions struct {
	imf  imageFlags
	jobs int
	out  io.Writer
	prog *progress
}

// addImages reads the references with up to o.jobs workers and records each as soon as
// it is read; one writer keeps SQLite's single-writer rule simple.
func addImages(ctx context.Context, env Env, store inventory.Store, refs []string, o addOptions) error {
	type read struct {
		ref string
		img *inventory.Image
		err error
	}
	work := make(chan string)
	done := make(chan read)
	var wg sync.WaitGroup
	for range max(1, o.jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				img, err := readForInventory(ctx, env, ref, o.imf)
				done <- read{ref, img, err}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, ref := range refs {
			select {
			case work <- ref:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	var failed []string
	var added, present int
	fail := func(ref string, err error) {
		failed = append(failed, ref)
		o.prog.done()
		fmt.Fprintf(env.Stderr, "charter: %s: %s\n", ref, oneLine(err.Error()))
	}
	var batch []read
	flush := func() {
		imgs := make([]*inventory.Image, len(batch))
		for i := range batch {
			imgs[i] = batch[i].img
		}
		isNew, err := store.AddAll(ctx, imgs)
		for i, r := range batch {
			switch {
			case err != nil:
				fail(r.ref, err)
			case isNew[i]:
				added++
				fmt.Fprintf(o.out, "added    %s  %s  (%d packages)\n", shortDigest(r.img.Digest), r.ref, len(r.img.Packages))
			default:
				present++
				fmt.Fprintf(o.out, "present  %s  %s\n", shortDigest(r.img.Digest), r.ref)
			}
		}
		batch = batch[:0]
		o.prog.update("inventory: %d/%d images (%d added, %d already present, %d failed)", added+present+len(failed), len(refs), added, present, len(failed))
	}
	for r := range done {
		if r.err != nil {
			fail(r.ref, r.err)
			continue
		}
		batch = append(batch, r)
		// commit what the readers have ready, up to addBatch images in one transaction
	drain:
		for len(batch) < addBatch {
			select {
			case more, ok := <-done:
				if !ok {
					break drain
				}
				if more.err != nil {
					fail(more.ref, more.err)
					continue
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		flush()
	}
	o.prog.done()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d image(s) could not be added: %s", len(failed), len(refs), strings.Join(failed, ", "))
	}
	return nil
}

// readForInventory reads an image's or an SBOM's packages into an inventory image.
func readForInventory(ctx context.Context, env Env, ref string, imf imageFlags) (*inventory.Image, error) {
	if strings.HasPrefix(ref, sbomScheme) {
		a, err := analyzeSBOM(ref)
		if err != nil {
			return nil, err
		}
		return inventoryImage(ref, a.target.Digest, time.Time{}, a.inv), nil
	}
	r, err := readImage(ctx, env, ref, imf, nil, imagecheck.Scanners{})
	if err != nil {
		return nil, err
	}
	img := inventoryImage(ref, r.digest, r.created(), r.inv)
	img.Index = r.index
	return img, nil
}

// imageRead is what one walk of an image yields for the inventory and for diff.
type imageRead struct {
	ref      string
	digest   string
	index    string // the image index ref named, if any
	config   *v1.ConfigFile
	layers   []image.Layer
	inv      *sbom.Inventory
	findings []report.Finding
	warnings []string
}

func (r *imageRead) created() time.Time {
	if r.config == nil {
		return time.Time{}
	}
	return r.config.Created.Time
}

// readImage opens ref, walks every layer once for the catalogers and the selected image
// checks, and keeps the config and layers (which the shared analysis does not).
// bars, when not nil, draws the layer reads.
func readImage(ctx context.Context, env Env, ref string, imf imageFlags, bars *layerBars, checks imagecheck.Scanners) (*imageRead, error) {
	if err := imf.checkOffline(ref, imf.base); err != nil {
		return nil, err
	}
	var progress func(image.Progress)
	if bars != nil {
		progress = bars.report
	}
	im, err := image.Open(ctx, ref, imf.options(env, progress, true))
	if err != nil {
		return nil, err
	}
	defer func() { _ = im.Close() }()
	baseLayers, err := imf.baseLayers(ctx, env, im)
	if err != nil {
		return nil, err
	}
	analyzers := append(imagecheck.Analyzers(checks), pkgcat.Analyzers()...)
	if bars != nil {
		bars.start(im.Layers())
	}
	idx, err := im.Walk(ctx, analyzers...)
	if bars != nil {
		bars.done()
	}
	if err != nil {
		return nil, err
	}
	r := &imageRead{ref: ref, index: im.IndexDigest(), config: im.ConfigFile(), layers: im.Layers()}
	if d := im.Digest(); d.Hex != "" {
		r.digest = d.String()
	}
	if checks != (imagecheck.Scanners{}) {
		r.findings = imagecheck.Check(im, idx, checks)
	}
	res := pkgcat.Build(idx, pkgcat.Options{BaseLayers: baseLayers})
	r.inv = sbom.FromCatalog(res, sbomImage(im, ref), report.Tool{Name: "charter", Version: version()}, baseLayers)
	redactInventory(r.inv)
	r.warnings = res.Warnings
	return r, nil
}

// inventoryImage turns an SBOM inventory into what the store records.
func inventoryImage(ref, digest string, created time.Time, inv *sbom.Inventory) *inventory.Image {
	img := &inventory.Image{Digest: digest, Reference: ref, Created: created}
	if inv == nil {
		return img
	}
	if img.Digest == "" {
		img.Digest = inv.Image.Digest
	}
	if d := inv.Distro; d != nil && d.ID != "" {
		img.Distro = strings.TrimSuffix(d.ID+"-"+d.VersionID, "-")
	}
	for _, l := range inv.Layers {
		img.Layers = append(img.Layers, l.DiffID)
	}
	for i := range inv.Packages {
		p := &inv.Packages[i].Package
		ip := inventory.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version, PURL: p.PURL, LayerIndex: -1}
		if p.Source != nil {
			ip.SourceName, ip.SourceVersion = p.Source.Name, p.Source.Version
		}
		if p.LayerIndex != nil {
			ip.LayerIndex = *p.LayerIndex
		}
		if len(p.Locations) > 0 {
			ip.Path = p.Locations[0]
		}
		img.Packages = append(img.Packages, ip)
	}
	return img
}

func shortDigest(d string) string {
	if d == "" {
		return "(no digest)        "
	}
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// listFlags are the output flags of affected, query and list.
type listFlags struct {
	format string
	output string
}

func (f *listFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.format, "format", "o", "table", "output format: "+strings.Join(inventoryFormats, ", "))
	cmd.Flags().StringVar(&f.output, "output", "", "write to `FILE` instead of standard output")
}

func (f *listFlags) validate() error {
	for _, v := range inventoryFormats {
		if f.format == v {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (want %s)", f.format, strings.Join(inventoryFormats, ", "))
}

// write sends the encoded output to --output or stdout.
func (f *listFlags) write(env Env, encode func(io.Writer) error) error {
	var b strings.Builder
	if err := encode(&b); err != nil {
		return err
	}
	if f.output != "" {
		return writeFileAtomic(f.output, []byte(b.String()))
	}
	_, err := io.WriteString(env.Stdout, b.String())
	return err
}

func newInventoryAffectedCmd(env Env) *cobra.Command {
	var (
		db dbFlag
		lf listFlags
	)
	cmd := &cobra.Command{
		Use:   "affected ADVISORY",
		Short: "List the recorded images an advisory affects",
		Long: "ADVISORY is an ID from the local vulnerability database (CVE-…, GHSA-…, GO-…, DSA-…:\n" +
			"every record with that ID or alias counts) or an OSV JSON file, for an advisory the\n" +
			"database does not have yet. Each candidate package is tested against the advisory's\n" +
			"ranges in its ecosystem's version order, as a scan would. The listing names the image,\n" +
			"digest, package, installed and fixed versions, layer, path, and where the image runs.\n\n" +
			"Exit codes: 0 no recorded image is affected, 1 at least one is, 2 charter could not\n" +
			"answer (no such advisory, no database, unreadable file).",
		Example: "  charter inventory affected CVE-2021-44228\n" +
			"  charter inventory affected GHSA-jfh8-c2jx-5x3c -o csv --output log4shell.csv\n" +
			"  charter inventory affected ./new-advisory.osv.json -o json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lf.validate(); err != nil {
				return err
			}
			adv, err := loadAdvisory(env, args[0])
			if err != nil {
				return err
			}
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			res, err := inventory.Affected(cmd.Context(), store, adv)
			if err != nil {
				return err
			}
			title := adv.ID
			if len(adv.Aliases) > 0 {
				title += " (" + strings.Join(adv.Aliases, ", ") + ")"
			}
			if adv.Summary != "" {
				title += ": " + adv.Summary
			}
			if err := lf.write(env, func(w io.Writer) error {
				return encodeResults(w, lf.format, resultsDoc{Advisory: adv, Results: res}, title, true)
			}); err != nil {
				return err
			}
			if len(res) > 0 {
				return errVerdict
			}
			return nil
		},
	}
	db.register(cmd)
	lf.register(cmd)
	return cmd
}

// maxAdvisoryFile bounds an OSV document read from a file (the database's own limit).
const maxAdvisoryFile = 8 << 20

// loadAdvisory reads an OSV JSON file, or looks the ID up in the local database.
func loadAdvisory(env Env, arg string) (*vulndb.Advisory, error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() || strings.HasSuffix(arg, ".json") {
		f, err := os.Open(arg) //nolint:gosec // the user names the advisory file
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		data, err := io.ReadAll(io.LimitReader(f, maxAdvisoryFile+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		if len(data) > maxAdvisoryFile {
			return nil, fmt.Errorf("%s: larger than %d MiB: not an OSV record", arg, maxAdvisoryFile>>20)
		}
		adv, err := vulndb.ParseAdvisory(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		return adv, nil
	}
	db, err := openVulnDB(env, "charter inventory affected", ", or pass the advisory as an OSV JSON file")
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	return db.Advisory(arg)
}

func newInventoryQueryCmd(env Env) *cobra.Command {
	var (
		db  dbFlag
		lf  listFlags
		q   inventory.Query
		rng string
	)
	cmd := &cobra.Command{
		Use:   "query --purl PURL | --name NAME [--ecosystem TYPE] [--range RANGE]",
		Short: "List the recorded images that hold a package, optionally in a version range",
		Long: "Select packages by package URL (type, namespace and name; a version in it means that\n" +
			"version; its qualifiers must all match) or by name (the package's name, its source\n" +
			"package's, or its namespaced name: group:artifact, @scope/name, a Go module path),\n" +
			"and keep the versions in --range: comparisons (<, <=, >, >=, =, !=) joined by commas\n" +
			"or spaces all hold, alternatives are separated by ||. Versions are ordered the way the\n" +
			"package's ecosystem orders them (dpkg, Maven, PEP 440, semver…).\n\n" +
			"Exit codes: 0 the query ran (with or without results: it is a search, not a verdict),\n" +
			"2 charter could not run it (bad purl or range, unreachable database).",
		Example: "  charter inventory query --purl pkg:maven/org.apache.logging.log4j/log4j-core --range '<2.17.1'\n" +
			"  charter inventory query --ecosystem deb --name openssl --range '<3.0.11-1~deb12u2'\n" +
			"  charter inventory query --name golang.org/x/net --range '<0.38.0' -o csv",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lf.validate(); err != nil {
				return err
			}
			r, err := inventory.ParseRange(rng)
			if err != nil {
				return fmt.Errorf("--range: %w", err)
			}
			q.Range = r
			if q.PURL != "" && q.Name != "" {
				return errors.New("--purl and --name both name the package: use one")
			}
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			res, err := inventory.Search(cmd.Context(), store, q)
			if err != nil {
				return err
			}
			title := q.PURL
			if title == "" {
				title = strings.TrimPrefix(q.Ecosystem+" "+q.Name, " ")
			}
			if !r.Empty() {
				title += " " + r.String()
			}
			return lf.write(env, func(w io.Writer) error {
				return encodeResults(w, lf.format, resultsDoc{Query: &queryDoc{PURL: q.PURL, Ecosystem: q.Ecosystem, Name: q.Name, Range: r.String()}, Results: res}, title, false)
			})
		},
	}
	db.register(cmd)
	lf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&q.PURL, "purl", "", "the package's `PURL` (pkg:TYPE/NAMESPACE/NAME[@VERSION][?QUALIFIERS])")
	fl.StringVar(&q.Name, "name", "", "the package's `NAME`")
	fl.StringVar(&q.Ecosystem, "ecosystem", "", "with --name: the package `TYPE` (deb, apk, rpm, maven, npm, pypi, golang, gem, cargo, nuget, composer)")
	fl.StringVar(&rng, "range", "", "keep versions in `RANGE` ('<2.17.1', '>=2.0-beta9, <2.15.0 || =2.16.0')")
	return cmd
}

type queryDoc struct {
	PURL      string `json:"purl,omitempty"`
	Ecosystem string `json:"ecosystem,omitempty"`
	Name      string `json:"name,omitempty"`
	Range     string `json:"range,omitempty"`
}

// resultsDoc is the JSON of affected and query.
type resultsDoc struct {
	Schema   string             `json:"schema"`
	Advisory *vulndb.Advisory   `json:"advisory,omitempty"`
	Query    *queryDoc          `json:"query,omitempty"`
	Images   int                `json:"images"`
	Results  []inventory.Result `json:"results"`
}

func distinctImages(res []inventory.Result) int {
	seen := map[string]bool{}
	for _, r := range res {
		seen[r.Image.Digest+"\x00"+r.Image.Reference] = true
	}
	return len(seen)
}

func encodeResults(w io.Writer, format string, doc resultsDoc, title string, affected bool) error {
	doc.Schema, doc.Images = inventorySchema, distinctImages(doc.Results)
	if doc.Results == nil {
		doc.Results = []inventory.Result{}
	}
	switch format {
	case "json":
		return writeJSONDoc(w, doc)
	case "csv":
		return resultsCSV(w, doc.Results)
	}
	return resultsTable(w, doc.Results, title, affected)
}

// writeJSONDoc writes v as indented JSON, with <, > and & as they are.
func writeJSONDoc(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCSV writes a header and rows, each cell made safe for spreadsheets (csvCell).
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTable writes a header and rows as aligned columns, control characters replaced.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		for i := range row {
			row[i] = safeText(row[i])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func resultsTable(w io.Writer, res []inventory.Result, title string, affected bool) error {
	fmt.Fprintln(w, safeText(title))
	if len(res) == 0 {
		if affected {
			_, err := fmt.Fprintln(w, "no recorded image is affected")
			return err
		}
		_, err := fmt.Fprintln(w, "no recorded image holds it")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "IMAGE\tDIGEST\tPACKAGE\tINSTALLED\t"
	if affected {
		head += "FIXED\t"
	}
	fmt.Fprintln(tw, head+"LAYER\tPATH\tRUNS IN")
	running := map[string]bool{}
	for _, r := range res {
		row := []string{r.Image.Reference, shortDigest(r.Image.Digest), r.Package.Name, r.Package.Version}
		if affected {
			row = append(row, orDash(r.Fixed, "no fix"))
		}
		layer := "-"
		if r.Package.LayerIndex >= 0 {
			layer = strconv.Itoa(r.Package.LayerIndex)
		}
		row = append(row, layer, orDash(r.Package.Path, "-"), orDash(whereText(r.Image.Deployments), "-"))
		for i := range row {
			row[i] = safeText(row[i])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
		if len(r.Image.Deployments) > 0 {
			running[r.Image.Digest] = true
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "hold it"
	if affected {
		verb = "affected"
	}
	_, err := fmt.Fprintf(w, "\n%d image(s) %s (%d package(s)); %d of them running\n", distinctImages(res), verb, len(res), len(running))
	return err
}

func orDash(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

// whereText lists deployments as cluster/namespace/workload, with the containers that
// run the image when known: prod/payments/Deployment/api (api, migrate).
func whereText(ds []inventory.Deployment) string {
	var out []string
	for _, d := range ds {
		s := strings.TrimPrefix(d.Cluster+"/"+d.Namespace+"/"+d.Workload, "/")
		if len(d.Containers) > 0 {
			s += " (" + strings.Join(d.Containers, ", ") + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// safeText keeps terminal control sequences that package metadata may carry out of a
// table.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// csvCell keeps spreadsheet formulas out of CSV cells: image metadata is untrusted.
func csvCell(s string) string {
	s = safeText(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

func resultsCSV(w io.Writer, res []inventory.Result) error {
	rows := make([][]string, 0, len(res))
	for _, r := range res {
		rows = append(rows, []string{r.Image.Reference, r.Image.Digest, r.Package.Ecosystem, r.Package.Name, r.Package.Version, r.Fixed, r.Severity,
			r.Package.PURL, r.Layer, strconv.Itoa(r.Package.LayerIndex), r.Package.Path, whereText(r.Image.Deployments)})
	}
	return writeCSV(w, []string{"reference", "digest", "ecosystem", "package", "version", "fixed", "severity", "purl", "layer", "layer_index", "path", "deployments"}, rows)
}

func newInventoryListCmd(env Env) *cobra.Command {
	var (
		db         dbFlag
		lf         listFlags
		unrecorded bool
	)
	cmd := &cobra.Command{
		Use:   "list [--unrecorded]",
		Short: "List the recorded images, newest first, with where they run",
		Long: "List the recorded images, newest first, with where they run. Images that run\n" +
			"(recorded by the admission webhook or `charter inventory deployed`) but were never\n" +
			"added are blind spots: `affected` and `query` cannot answer for them. The table\n" +
			"counts them, JSON lists them under \"unrecorded\", and --unrecorded lists only them.",
		Example: "  charter inventory list\n" +
			"  charter inventory list --unrecorded -o csv",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.validate(); err != nil {
				return err
			}
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			imgs, deps, err := store.ImagesAndPlaces(cmd.Context())
			if err != nil {
				return err
			}
			missing := inventory.Unrecorded(imgs, deps)
			if unrecorded {
				return lf.write(env, func(w io.Writer) error { return encodeUnrecorded(w, lf.format, missing) })
			}
			return lf.write(env, func(w io.Writer) error { return encodeImages(w, lf.format, imgs, missing) })
		},
	}
	db.register(cmd)
	lf.register(cmd)
	cmd.Flags().BoolVar(&unrecorded, "unrecorded", false, "list only the places that run an image the inventory does not hold")
	return cmd
}

func encodeImages(w io.Writer, format string, imgs []inventory.Summary, unrecorded []inventory.Deployment) error {
	switch format {
	case "json":
		if imgs == nil {
			imgs = []inventory.Summary{}
		}
		if unrecorded == nil {
			unrecorded = []inventory.Deployment{}
		}
		return writeJSONDoc(w, struct {
			Schema     string                 `json:"schema"`
			Images     []inventory.Summary    `json:"images"`
			Unrecorded []inventory.Deployment `json:"unrecorded"`
		}{inventorySchema, imgs, unrecorded})
	case "csv":
		rows := make([][]string, 0, len(imgs))
		for _, im := range imgs {
			rows = append(rows, []string{im.Reference, im.Digest, timeText(im.Created), timeText(im.Added), im.Distro, strconv.Itoa(im.Packages), whereText(im.Deployments)})
		}
		return writeCSV(w, []string{"reference", "digest", "created", "added", "distro", "packages", "deployments"}, rows)
	}
	rows := make([][]string, 0, len(imgs))
	for _, im := range imgs {
		rows = append(rows, []string{im.Reference, shortDigest(im.Digest), orDash(timeText(im.Created), "-"), timeText(im.Added), orDash(im.Distro, "-"),
			strconv.Itoa(im.Packages), orDash(whereText(im.Deployments), "-")})
	}
	if err := writeTable(w, []string{"IMAGE", "DIGEST", "CREATED", "ADDED", "DISTRO", "PACKAGES", "RUNS IN"}, rows); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%d image(s)\n", len(imgs)); err != nil {
		return err
	}
	if len(unrecorded) > 0 {
		_, err := fmt.Fprintf(w, "%d place(s) run an image that is not in the inventory: charter inventory list --unrecorded\n", len(unrecorded))
		return err
	}
	return nil
}

// encodeUnrecorded lists the places whose image the inventory does not hold.
func encodeUnrecorded(w io.Writer, format string, deps []inventory.Deployment) error {
	switch format {
	case "json":
		if deps == nil {
			deps = []inventory.Deployment{}
		}
		return writeJSONDoc(w, struct {
			Schema     string                 `json:"schema"`
			Unrecorded []inventory.Deployment `json:"unrecorded"`
		}{inventorySchema, deps})
	case "csv":
		rows := make([][]string, 0, len(deps))
		for _, d := range deps {
			rows = append(rows, []string{d.Cluster, d.Namespace, d.Workload, strings.Join(d.Containers, " "), d.Digest, timeText(d.FirstSeen), timeText(d.LastSeen)})
		}
		return writeCSV(w, []string{"cluster", "namespace", "workload", "containers", "digest", "first_seen", "last_seen"}, rows)
	}
	rows := make([][]string, 0, len(deps))
	for _, d := range deps {
		rows = append(rows, []string{whereText([]inventory.Deployment{d}), d.Digest, timeText(d.FirstSeen), timeText(d.LastSeen)})
	}
	if err := writeTable(w, []string{"RUNS IN", "DIGEST", "FIRST SEEN", "LAST SEEN"}, rows); err != nil {
		return err
	}
	msg := "every running image is in the inventory\n"
	if len(deps) > 0 {
		msg = fmt.Sprintf("%d place(s) run an image that is not in the inventory: add it with charter inventory add IMAGE@DIGEST\n", len(deps))
	}
	_, err := io.WriteString(w, msg)
	return err
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func newInventoryRemoveCmd(env Env) *cobra.Command {
	var db dbFlag
	cmd := &cobra.Command{
		Use:   "remove DIGEST|REFERENCE...",
		Short: "Forget recorded images (by digest or by the reference they were added by)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			var missing []string
			for _, ref := range args {
				n, err := store.Remove(cmd.Context(), ref)
				if err != nil {
					return err
				}
				if n == 0 {
					missing = append(missing, ref)
					continue
				}
				fmt.Fprintf(env.Stdout, "removed  %s (%d image(s))\n", ref, n)
			}
			if len(missing) > 0 {
				return fmt.Errorf("not in the inventory: %s (see `charter inventory list`)", strings.Join(missing, ", "))
			}
			return nil
		},
	}
	db.register(cmd)
	return cmd
}

func newInventoryDeployedCmd(env Env) *cobra.Command {
	var (
		db  dbFlag
		dep inventory.Deployment
	)
	cmd := &cobra.Command{
		Use:   "deployed DIGEST --namespace NS --workload KIND/NAME [--cluster NAME]",
		Short: "Record that an image runs somewhere (what the admission webhook records by itself)",
		Long: "Record that the image with DIGEST runs in a namespace and workload (and cluster), for\n" +
			"places the admission webhook does not see. Recording the same place again updates\n" +
			"its last-seen time.",
		Example: "  charter inventory deployed sha256:4f1c… --cluster prod-eu --namespace payments --workload Deployment/api",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dep.Digest = args[0]
			if !strings.HasPrefix(dep.Digest, "sha256:") {
				return fmt.Errorf("%q is not a digest (sha256:…)", args[0])
			}
			dep.LastSeen = env.Now()
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			return store.RecordDeployment(cmd.Context(), dep)
		},
	}
	db.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&dep.Cluster, "cluster", "", "the `CLUSTER`'s name")
	fl.StringVar(&dep.Namespace, "namespace", "", "the `NAMESPACE`")
	fl.StringVar(&dep.Workload, "workload", "", "the workload, as `KIND/NAME` (Deployment/api)")
	fl.StringArrayVar(&dep.Containers, "container", nil, "a `NAME` of a container that runs the image (repeatable)")
	return cmd
}

func newInventoryPruneCmd(env Env) *cobra.Command {
	var (
		db     dbFlag
		unseen string
	)
	cmd := &cobra.Command{
		Use:   "prune --unseen-for AGE",
		Short: "Forget the places an image ran that were not seen for a while",
		Long: "Forget where images ran when that place was last seen longer ago than AGE (7d, 36h):\n" +
			"a workload deleted or moved to another image stops being seen. Images and their\n" +
			"packages stay; `charter inventory remove` forgets those. The admission webhook sees\n" +
			"a running place again whenever it is re-admitted (a rollout, a restart of a bare pod),\n" +
			"so choose an AGE longer than the longest time your workloads go unchanged.",
		Example: "  charter inventory prune --unseen-for 30d",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if unseen == "" {
				return errors.New("--unseen-for is required (an age such as 30d)")
			}
			age, err := parseAge(unseen)
			if err != nil {
				return fmt.Errorf("--unseen-for %w", err)
			}
			store, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			before := env.Now().Add(-age).UTC()
			n, err := store.PruneDeployments(cmd.Context(), before)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "forgot %d place(s) last seen before %s\n", n, before.Format(time.RFC3339))
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&unseen, "unseen-for", "", "forget places last seen longer ago than `AGE` (7d, 36h, 90m)")
	return cmd
}

// inventoryFlags are scan's --inventory and --inventory-db.
type inventoryFlags struct {
	enabled bool
	db      dbFlag
}

func (f *inventoryFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "inventory", false, "also record the image and its packages in the inventory (see charter inventory --help)")
	cmd.Flags().StringVar(&f.db.location, "inventory-db", "", "with --inventory: the inventory `FILE` or postgres:// URL (default: as charter inventory's --db)")
}

// record adds a scan's packages to the inventory.
func (f *inventoryFlags) record(ctx context.Context, env Env, ref string, a *analysis) error {
	if !f.enabled || a == nil {
		return nil
	}
	store, err := f.db.open(ctx, env)
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	img := inventoryImage(ref, a.target.Digest, a.created, a.inv)
	img.Index = a.index
	_, err = store.Add(ctx, img)
	return err
}
