package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/spf13/cobra"

	"github.com/charterhq/charter/examples"
	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/pack"
)

// demoPassword encrypts the demo's throwaway signing key. It is printed on purpose: the
// key signs nothing but the demo's image in a registry that lives as long as the demo.
const demoPassword = "charter-demo"

// demoTag names the packed image in the demo's OCI layout.
const demoTag = "demo"

// demoStage is one line of the final summary.
type demoStage struct {
	name, result, detail string
	failed               bool
}

// demo is one run of `charter demo`: where its files go and what each stage gave.
type demo struct {
	ctx    context.Context
	env    Env
	out    string // the examples, unpacked
	art    string // what the stages write: OUT/artifacts
	vars   map[string]string
	stages []demoStage
	// set by the pack stage
	packed *pack.Result
	ref    string // oci-dir:…:demo
	queue  string // the poster's queue file on the host
	// defaults is a charter file with nothing in it, for the lint of leaky and hardened
	defaults string
	skip     map[string]bool
	// fallback is set when the demo packed its own executable instead of the poster.
	fallback bool
}

// demoStages are the stages --skip may name, in order.
var demoStages = []string{"lint", "pack", "scan", "sbom", "inventory", "sign", "profile", "runc"}

func newDemoCmd(env Env) *cobra.Command {
	var out string
	var skip []string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run charter's whole lifecycle on its bundled examples, offline",
		Long: "Unpack the bundled examples into --out (default: a new temporary folder, kept and\n" +
			"printed at the end) and run every stage on them, offline:\n" +
			"  lint     examples/leaky must fail, examples/hardened and examples/poster must pass\n" +
			"  pack     examples/poster as a minimal non-root OCI image (go build; see below)\n" +
			"  scan     the image against the bundled OSV snapshot (a database of its own under\n" +
			"           OUT/artifacts/cache: yours is not touched)\n" +
			"  sbom     its CycloneDX SBOM\n" +
			"  inventory  the image recorded in an inventory (OUT/artifacts/inventory.db) with where\n" +
			"           it runs, then asked which images hold Go's standard library and which an\n" +
			"           advisory affects\n" +
			"  sign     a throwaway key pair, then sign, attest and verify the image in a registry\n" +
			"           running inside the demo on 127.0.0.1\n" +
			"  profile  its least-privilege runtime profile from examples/poster/charter.yaml\n" +
			"  runc     the image run under runc with that profile, when runc is on PATH and charter\n" +
			"           runs as root (otherwise the stage says why it was skipped)\n" +
			"and end with a summary of each stage and where its files are.\n\n" +
			"Packing builds examples/poster from charter's source tree (the current directory or a\n" +
			"parent) with the go command, with GOPROXY=off: the module cache must hold charter's\n" +
			"dependencies, as it does after `go run ./cmd/charter demo`. Without a source tree or a\n" +
			"go command, the demo packs its own executable instead, when it is a static binary.\n\n" +
			"Exit 0 when every stage gave the expected result.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			skipped := map[string]bool{}
			for _, s := range skip {
				if !slices.Contains(demoStages, s) {
					return fmt.Errorf("demo: --skip %s: unknown stage (want %s)", s, strings.Join(demoStages, ", "))
				}
				skipped[s] = true
			}
			if out == "" {
				tmp, err := os.MkdirTemp("", "charter-demo-")
				if err != nil {
					return err
				}
				out = tmp
			}
			d := &demo{ctx: cmd.Context(), env: env, out: out, art: filepath.Join(out, "artifacts"), skip: skipped}
			return d.run()
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "unpack the examples and write every output under `DIR` (kept)")
	cmd.Flags().StringSliceVar(&skip, "skip", nil, "leave out `STAGES` (comma-separated: "+strings.Join(demoStages, ", ")+"; without pack, the stages after it have no image)")
	cmd.Flags().StringVar(&out, "keep", "", "same as --out")
	_ = cmd.Flags().MarkHidden("keep")
	return cmd
}

func (d *demo) run() error {
	if err := unpackExamples(d.out); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(d.art, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.vars = map[string]string{"CHARTER_CACHE_DIR": filepath.Join(d.art, "cache"), "CHARTER_PASSWORD": demoPassword, "NO_COLOR": "1"}
	d.queue = filepath.Join(d.out, "poster", "queue.json")
	// leaky and hardened are judged by charter's defaults, whatever charter.yaml the
	// current folder holds (charter's own repository has a strict one).
	d.defaults = filepath.Join(d.out, "defaults.yaml")
	if err := os.WriteFile(d.defaults, []byte("# charter's defaults: no policy beyond them\nversion: 1\n"), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	start := time.Now()
	stages := map[string]func(){"scan": d.scan, "sbom": d.sbom, "inventory": d.inventory, "sign": d.signAndVerify, "profile": d.profile, "runc": d.runc}
	if !d.skip["lint"] {
		d.lint()
	}
	packed := !d.skip["pack"] && d.pack()
	for _, name := range demoStages[2:] {
		switch {
		case d.skip[name]:
			d.record(name, "skipped", "--skip "+name, false)
		case !packed:
			d.record(name, "skipped", "no image: the pack stage did not run", false)
		default:
			stages[name]()
		}
	}
	return d.summary(time.Since(start))
}

// charter runs a charter command in-process with the demo's environment and echoes it.
func (d *demo) charter(args ...string) (int, string) {
	fmt.Fprintf(d.env.Stdout, "$ charter %s\n", strings.Join(d.short(args), " "))
	var buf bytes.Buffer
	env := d.env
	env.Stdin, env.Stdout, env.Stderr = strings.NewReader(""), &buf, &buf
	env.IsTerminal = func(any) bool { return false }
	base := d.env.Getenv
	env.Getenv = func(k string) string {
		if v, ok := d.vars[k]; ok {
			return v
		}
		return base(k)
	}
	code := Run(d.ctx, args, env)
	return code, buf.String()
}

// short writes paths under the output folder as OUT/…, so the transcript reads.
func (d *demo) short(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, d.out, "$OUT")
	}
	return out
}

func (d *demo) show(s string) {
	fmt.Fprint(d.env.Stdout, strings.ReplaceAll(s, d.out, "$OUT"))
	if s != "" && !strings.HasSuffix(s, "\n") {
		fmt.Fprintln(d.env.Stdout)
	}
}

func (d *demo) header(title string) {
	fmt.Fprintf(d.env.Stdout, "\n=== %s\n\n", title)
}

func (d *demo) record(name, result, detail string, failed bool) {
	d.stages = append(d.stages, demoStage{name: name, result: result, detail: strings.ReplaceAll(detail, d.out, "$OUT"), failed: failed})
}

// lint runs the three lint cases: leaky must fail, hardened and poster must pass.
func (d *demo) lint() {
	cases := []struct {
		dir, about string
		want       int
		args       []string
	}{
		{"leaky", "a service image with the mistakes charter exists to catch", ExitFail, []string{"--charter", d.defaults}},
		{"hardened", "the same kind of service, built the way charter expects", ExitPass, []string{"--charter", d.defaults}},
		{"poster", "the example automation job, with its charter.yaml, manifests and compose file", ExitPass,
			[]string{"--charter", filepath.Join(d.out, "poster", "charter.yaml")}},
	}
	var parts []string
	failed := false
	for _, c := range cases {
		d.header("lint examples/" + c.dir + "  (" + c.about + ")")
		code, out := d.charter(append([]string{"lint", filepath.Join(d.out, c.dir)}, c.args...)...)
		d.show(out)
		verdict := map[int]string{ExitPass: "PASS", ExitFail: "FAIL"}[code]
		if verdict == "" {
			verdict = fmt.Sprintf("ERROR (exit %d)", code)
		}
		if code != c.want {
			failed = true
			verdict += " (unexpected)"
		}
		parts = append(parts, c.dir+" "+verdict)
	}
	result := "as expected"
	if failed {
		result = "UNEXPECTED"
	}
	d.record("lint", result, strings.Join(parts, ", "), failed)
}

// unpackExamples writes the embedded example projects under dir.
func unpackExamples(dir string) error {
	return fs.WalkDir(examples.FS, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := examples.FS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

// moduleRoot finds charter's source tree from the working directory up: the folder whose
// go.mod declares charter's module and which holds examples/poster.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(gomod, []byte("module github.com/charterhq/charter\n")) {
			_, err := os.Stat(filepath.Join(dir, "examples", "poster", "main.go"))
			return dir, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// errNoPlatformSupport is returned when nothing can be packed on this machine.
var errNoPlatformSupport = errors.New("no Go toolchain or charter source tree, and this charter executable is not a static binary")

// packOptions decides what the demo packs: examples/poster built from the source tree,
// else charter's own executable.
func (d *demo) packOptions() (pack.Options, string, error) {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	o := pack.Options{Platforms: []v1.Platform{p}, Version: demoTag, Tool: "charter", ToolVersion: version()}
	ca, err := os.ReadFile(defaultCABundle)
	if err != nil {
		ca = []byte("# no CA bundle on the machine that ran charter demo\n")
	}
	o.CABundle = ca
	root, haveSrc := moduleRoot()
	_, goErr := exec.LookPath("go")
	if haveSrc && goErr == nil {
		o.Dir, o.Package = root, "./examples/poster"
		o.Env = append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local")
		src, err := packSource(d.ctx, d.env, root)
		o.Source = src
		return o, "examples/poster, built from " + root, err
	}
	exe, err := os.Executable()
	if err != nil {
		return o, "", errNoPlatformSupport
	}
	o.Name = "charter"
	o.Binaries = map[string]string{"linux/" + runtime.GOARCH: exe}
	o.Source.Epoch = time.Unix(0, 0).UTC()
	why := "no charter source tree here"
	if goErr != nil {
		why = "no go command on PATH"
	}
	return o, "charter's own executable (" + why + ")", nil
}

// pack builds the image into OUT/artifacts/oci. It reports whether there is an image
// for the later stages.
func (d *demo) pack() bool {
	d.header("pack: a minimal, reproducible, non-root image, no daemon")
	o, what, err := d.packOptions()
	if err == nil {
		what := o.Package
		if o.Binaries != nil {
			d.fallback = true
			what = "--binary " + o.Binaries["linux/"+runtime.GOARCH]
		}
		fmt.Fprintf(d.env.Stdout, "$ charter pack %s --oci-layout $OUT/artifacts/oci --tag %s\n", what, demoTag)
		d.packed, err = pack.Pack(d.ctx, o)
	}
	if err == nil {
		err = d.packed.WriteLayout(filepath.Join(d.art, "oci"), demoTag, o.Source.Epoch)
	}
	if err != nil {
		d.show("charter: pack: " + oneLine(err.Error()) + "\n")
		d.record("pack", "FAILED", oneLine(err.Error()), true)
		return false
	}
	var buf bytes.Buffer
	printPacked(&buf, what, o, d.packed)
	d.show(buf.String())
	d.ref = image.SchemeOCIDir + ":" + filepath.Join(d.art, "oci") + ":" + demoTag
	d.record("pack", "built", fmt.Sprintf("%s  %s", d.ref, d.packed.Digest), false)
	return true
}

// scan imports the OSV snapshot into the demo's own database and checks the image.
func (d *demo) scan() {
	d.header("scan: the image against the bundled OSV snapshot")
	code, out := d.charter("db", "update", "--source", filepath.Join(d.out, "osv"), "--offline")
	d.show(out)
	if code != 0 {
		d.record("scan", "FAILED", "db update: exit "+fmt.Sprint(code), true)
		return
	}
	code, out = d.charter("check", d.ref, "--charter", filepath.Join(d.out, "poster", "charter.yaml"), "--offline", "--no-progress")
	d.show(out)
	switch code {
	case ExitPass:
		d.record("scan", "PASS", "check at fail-on LOW (poster/charter.yaml); database in $OUT/artifacts/cache", false)
	case ExitFail:
		d.record("scan", "FAIL", "a finding at or above LOW (see above)", true)
	default:
		d.record("scan", "ERROR", fmt.Sprintf("exit %d", code), true)
	}
}

// sbom writes the image's CycloneDX SBOM and shows its packages.
func (d *demo) sbom() {
	d.header("sbom: every package, with the layer that brought it")
	file := filepath.Join(d.art, "poster.cdx.json")
	code, out := d.charter("sbom", d.ref, "-o", "cyclonedx-json", "--output", file)
	d.show(out)
	if code == 0 {
		var table string
		code, table = d.charter("sbom", d.ref)
		d.show(table)
	}
	if code != 0 {
		d.record("sbom", "FAILED", fmt.Sprintf("exit %d", code), true)
		return
	}
	d.record("sbom", "written", file+" (CycloneDX 1.6; also attached to the image as a referrer)", false)
}

// inventory records the image and where it runs, then asks the questions the next
// advisory raises: which images hold a package, and which an advisory affects (from its
// OSV file, so the stage needs no vulnerability database).
func (d *demo) inventory() {
	d.header("inventory: which images hold what, and where they run")
	db := filepath.Join(d.art, "inventory.db")
	digest := d.packed.Images[0].Digest.String()
	steps := []struct {
		args []string
		want int
	}{
		{[]string{"inventory", "add", "--db", db, d.ref}, 0},
		{[]string{"inventory", "deployed", digest, "--db", db, "--cluster", "demo", "--namespace", "automation",
			"--workload", "CronJob/poster", "--container", "poster"}, 0},
		{[]string{"inventory", "query", "--db", db, "--ecosystem", "golang", "--name", "stdlib"}, 0},
		{[]string{"inventory", "affected", "--db", db, filepath.Join(d.out, "osv", "GO-2025-3595.json")}, 0},
	}
	for _, s := range steps {
		code, out := d.charter(s.args...)
		d.show(out)
		if code != s.want {
			d.record("inventory", "FAILED", fmt.Sprintf("%s %s: exit %d, want %d", s.args[0], s.args[1], code, s.want), true)
			return
		}
	}
	d.record("inventory", "recorded", db+" (the image, its packages, where it runs; GO-2025-3595 affects none)", false)
}

// signAndVerify makes a key pair, pushes the image to a registry inside the demo, signs
// and attests it, and verifies both with the public key.
func (d *demo) signAndVerify() {
	d.header("sign: a key pair, then sign, attest and verify in a registry on 127.0.0.1")
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		d.record("sign", "ERROR", err.Error(), true)
		return
	}
	host := u.Host
	key := filepath.Join(d.art, "cosign")
	steps := [][]string{
		{"keygen", "--output-key-prefix", key},
		{"sign", "--key", key + ".key", "--insecure-registry", host, host + "/poster:" + demoTag},
		{"attest", "--key", key + ".key", "--type", "cyclonedx", "--predicate", filepath.Join(d.art, "poster.cdx.json"), "--insecure-registry", host, host + "/poster:" + demoTag},
		{"verify", "--key", key + ".pub", "--insecure-registry", host, host + "/poster:" + demoTag},
		{"verify-attestation", "--key", key + ".pub", "--type", "cyclonedx", "--insecure-registry", host, host + "/poster:" + demoTag},
	}
	fmt.Fprintf(d.env.Stdout, "(CHARTER_PASSWORD=%s; the image was pushed to %s/poster:%s)\n", demoPassword, host, demoTag)
	ref, err := d.packed.Push(d.ctx, host+"/poster:"+demoTag, image.Options{InsecureRegistries: []string{host}, Getenv: d.env.Getenv}, time.Unix(0, 0))
	if err != nil {
		d.record("sign", "ERROR", "push: "+oneLine(err.Error()), true)
		return
	}
	for _, s := range steps {
		code, out := d.charter(s...)
		d.show(out)
		if code != 0 {
			d.record("sign", "FAILED", fmt.Sprintf("%s: exit %d", s[0], code), true)
			return
		}
	}
	d.record("sign", "verified", "signed, attested and verified "+shortDigestRef(ref)+"; keys "+key+".{key,pub} (password "+demoPassword+")", false)
}

// profile prints the least-privilege profile and writes the OCI bundle's config.json.
func (d *demo) profile() {
	d.header("profile: how to run it with least privilege (from poster/charter.yaml)")
	cf := filepath.Join(d.out, "poster", "charter.yaml")
	code, out := d.charter("profile", d.ref, "--charter", cf, "-o", "docker")
	d.show(out)
	if code == 0 {
		if err := os.WriteFile(filepath.Join(d.art, "profile-docker.sh"), []byte(out), 0o644); err != nil {
			code = ExitError
		}
	}
	if code == 0 {
		if err := os.MkdirAll(filepath.Join(d.art, "bundle"), 0o755); err != nil {
			code = ExitError
		}
	}
	if code == 0 {
		code, out = d.charter("profile", d.ref, "--charter", cf, "-o", "oci", "-q", "--output", filepath.Join(d.art, "bundle", "config.json"))
		d.show(out)
	}
	if code != 0 {
		d.record("profile", "FAILED", fmt.Sprintf("exit %d", code), true)
		return
	}
	d.record("profile", "written", filepath.Join(d.art, "profile-docker.sh")+", "+filepath.Join(d.art, "bundle", "config.json"), false)
}

// summary prints one line per stage and where the outputs are, and fails the demo when a
// stage did not give its expected result.
func (d *demo) summary(took time.Duration) error {
	fmt.Fprintf(d.env.Stdout, "\n=== summary (%s)\n\n", took.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(d.env.Stdout, 0, 0, 2, ' ', 0)
	var bad []string
	for _, s := range d.stages {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name, s.result, s.detail)
		if s.failed {
			bad = append(bad, s.name)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(d.env.Stdout, "\nOUT=%s  (examples in $OUT/{leaky,hardened,poster,osv}, outputs in $OUT/artifacts)\n", d.out)
	fmt.Fprintf(d.env.Stdout, "Try: charter scan oci-dir:%s/artifacts/oci:%s    charter lint %s/leaky -o sarif\n", d.out, demoTag, d.out)
	if len(bad) > 0 {
		return fmt.Errorf("demo: unexpected result in %s (see the transcript above)", strings.Join(bad, ", "))
	}
	return nil
}

// runc runs the packed poster under runc with the profile's config.json, in dry-run
// mode (the profile gives it no network), its queue bind-mounted read-only.
func (d *demo) runc() {
	d.header("runc: the image under its profile (read-only root, 65532, no capabilities, seccomp, limits)")
	runcPath, err := exec.LookPath("runc")
	switch {
	case err != nil:
		d.skipRunc("runc is not on PATH; install it (apt-get install runc) to see this stage")
		return
	case os.Geteuid() != 0:
		d.skipRunc("runc needs root here; run the demo as root to see this stage")
		return
	case d.packed.Images[0].Platform.Architecture != runtime.GOARCH:
		d.skipRunc("the image is not for this machine's architecture")
		return
	}
	bundle := filepath.Join(d.art, "bundle")
	if err := d.prepareBundle(bundle); err != nil {
		d.record("runc", "ERROR", oneLine(err.Error()), true)
		return
	}
	id := fmt.Sprintf("charter-demo-%d", os.Getpid())
	fmt.Fprintf(d.env.Stdout, "$ runc --root $OUT/artifacts/runc run --bundle $OUT/artifacts/bundle %s\n", id)
	ctx, cancel := context.WithTimeout(d.ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, runcPath, "--root", filepath.Join(d.art, "runc"), "run", "--bundle", bundle, id) //nolint:gosec // runc from PATH, arguments are the demo's own
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &buf, &buf, nil
	err = cmd.Run()
	d.show(buf.String())
	if err != nil {
		d.record("runc", "FAILED", "runc run: "+oneLine(err.Error())+" (output above)", true)
		return
	}
	d.record("runc", "ran", "exit 0 under the profile: $OUT/artifacts/bundle (config.json, rootfs/)", false)
}

func (d *demo) skipRunc(why string) {
	fmt.Fprintf(d.env.Stdout, "skipped: %s\n", why)
	d.record("runc", "skipped", why, false)
}

// prepareBundle unpacks the image into bundle/rootfs and adapts the profile's
// config.json for the demo: dry-run mode, the queue mounted read-only.
func (d *demo) prepareBundle(bundle string) error {
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.RemoveAll(rootfs); err != nil {
		return err
	}
	if err := extractImage(d.packed.Images[0].Image, rootfs); err != nil {
		return fmt.Errorf("unpacking the image: %w", err)
	}
	cfgPath := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	proc, _ := spec["process"].(map[string]any)
	if proc == nil {
		return fmt.Errorf("%s: no process", cfgPath)
	}
	env, _ := proc["env"].([]any)
	proc["env"] = append(env, "POSTER_DRY_RUN=1", "POSTER_QUEUE=/etc/poster/queue.json")
	proc["terminal"] = false
	if d.fallback {
		// charter's own executable stands in for the poster: ask it for its version.
		args, _ := proc["args"].([]any)
		proc["args"] = append(args, "version")
	}
	mounts, _ := spec["mounts"].([]any)
	spec["mounts"] = append(mounts, map[string]any{
		"destination": "/etc/poster/queue.json", "type": "bind", "source": d.queue,
		"options": []string{"bind", "ro", "nosuid", "nodev", "noexec"},
	})
	if err := os.MkdirAll(filepath.Join(rootfs, "etc", "poster"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "poster", "queue.json"), nil, 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(cfgPath, b, 0o644)
}

// extractImage writes the image's flattened filesystem under dir, with its owners and
// modes. The image is the demo's own, yet entries are still kept inside dir.
func extractImage(img v1.Image, dir string) error {
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean("/" + h.Name)
		dst := filepath.Join(dir, name)
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			err = writeExtracted(dst, tr)
		default:
			continue // packed images hold only files and directories
		}
		if err == nil {
			err = os.Lchown(dst, h.Uid, h.Gid)
		}
		if err == nil {
			err = os.Chmod(dst, mode&(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid))
		}
		if err != nil {
			return err
		}
	}
}

func writeExtracted(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := io.Copy(f, io.LimitReader(r, 1<<30))
	return errors.Join(werr, f.Close())
}

// shortDigestRef abbreviates HOST/REPO@sha256:<64 hex> for the summary.
func shortDigestRef(ref string) string {
	if i := strings.Index(ref, "@sha256:"); i >= 0 && len(ref) > i+8+12 {
		return ref[:i+8+12] + "…"
	}
	return ref
}
