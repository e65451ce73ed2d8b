package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/pack"
	"github.com/charterhq/charter/internal/sign"
)

// defaultCABundle is where Debian, Ubuntu, Alpine and Arch keep the system CA bundle.
const defaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

// packFlags are `charter pack`'s flags.
type packFlags struct {
	platforms []string
	layout    string
	push      string
	tag       string
	name      string
	binDir    string
	ldflags   string
	version   string
	caBundle  string
	binaries  []string
	sbomOut   string
	key       string
	rf        registryFlags
	label     string // the package as the user named it
}

func newPackCmd(env Env) *cobra.Command {
	var f packFlags
	cmd := &cobra.Command{
		Use:   "pack [PACKAGE]",
		Short: "Build a minimal, reproducible, non-root OCI image for a Go main package, without a daemon",
		Long: "Build PACKAGE (default: the current directory) as a static binary (CGO_ENABLED=0, -trimpath,\n" +
			"-ldflags \"-s -w -buildid=\") for each --platform and put it at /app/NAME on a base layer holding\n" +
			"only /etc/passwd and /etc/group (user nonroot, 65532), the CA certificates, /tmp and\n" +
			"/home/nonroot: no shell, no package manager. The image runs as 65532:65532.\n\n" +
			"The CA bundle is copied from the build machine (" + defaultCABundle + ") unless\n" +
			"--ca-bundle names another file. Every timestamp is SOURCE_DATE_EPOCH, else the commit time of\n" +
			"the git checkout, else 0: the same source and Go toolchain give the same digest.\n\n" +
			"A CycloneDX SBOM and a SLSA v1 provenance statement are attached to each image as OCI 1.1\n" +
			"referrers. With --push and --key, the image is also signed and both documents are attested\n" +
			"(cosign-compatible). Writes an OCI layout (--oci-layout), pushes (--push), or both.\n\n" +
			"Exit codes: 0 packed, 2 the build, the write or the push failed.",
		Example: "  charter pack ./cmd/app --oci-layout build/oci --tag v1.4.2\n" +
			"  charter pack ./cmd/app --platform linux/amd64,linux/arm64 --push registry.example.com/app:v1.4.2 --key cosign.key\n" +
			"  charter scan oci-dir:build/oci:v1.4.2",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pkg := "."
			if len(args) == 1 {
				pkg = args[0]
			}
			if f.layout == "" && f.push == "" {
				return errors.New("pack: say where the image goes: --oci-layout DIR, --push REF, or both")
			}
			if f.key != "" && f.push == "" {
				return errors.New("pack: --key signs in a registry: add --push REF (an OCI layout carries the unsigned SBOM and provenance)")
			}
			f.label = pkg
			if len(f.binaries) > 0 {
				f.label = "prebuilt " + strings.Join(f.binaries, ", ")
			}
			opts, err := f.options(env, pkg)
			if err != nil {
				return fmt.Errorf("pack: %w", err)
			}
			return runPack(cmd.Context(), env, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.platforms, "platform", []string{"linux/amd64"}, "build for `OS/ARCH[/VARIANT]` (comma-separated or repeated; several make an index)")
	fl.StringVar(&f.layout, "oci-layout", "", "write the image into the OCI layout `DIR` (created if missing)")
	fl.StringVar(&f.push, "push", "", "push the image to `REF` (HOST/REPO:TAG)")
	fl.StringVar(&f.tag, "tag", "", "the image's name in the OCI layout (default: --version, else dev)")
	fl.StringVar(&f.name, "name", "", "the program's file name (default: the package directory's name)")
	fl.StringVar(&f.binDir, "bin-dir", "/app", "the `DIR` the program goes in")
	fl.StringVar(&f.ldflags, "ldflags", "", "extra linker `FLAGS`, e.g. \"-X main.version=1.4.2\" (after -s -w -buildid=)")
	fl.StringVar(&f.version, "version", "", "the image's org.opencontainers.image.version")
	fl.StringVar(&f.caBundle, "ca-bundle", defaultCABundle, "PEM CA bundle `FILE` copied into the image")
	fl.StringArrayVar(&f.binaries, "binary", nil, "pack prebuilt static binaries instead of building: `FILE` for one --platform, or OS/ARCH=FILE per platform (repeatable)")
	fl.StringVar(&f.sbomOut, "sbom-output", "", "also write the CycloneDX SBOM to `FILE` (one per platform: FILE with -OS-ARCH before the extension)")
	fl.StringVar(&f.key, "key", "", "sign the pushed image and attest its SBOM and provenance with this cosign private key `FILE`")
	f.rf.register(cmd)
	return cmd
}

// options turns the flags into pack.Options.
func (f *packFlags) options(env Env, pkg string) (pack.Options, error) {
	dir := "."
	if st, err := os.Stat(pkg); err == nil && st.IsDir() && isLocalPath(pkg) {
		// A directory: build there, so that its module is the one used.
		dir, pkg = pkg, "."
	}
	o := pack.Options{Dir: dir, Package: pkg, Name: f.name, BinDir: f.binDir, LDFlags: f.ldflags, Version: f.version,
		Tool: "charter", ToolVersion: version()}
	for _, s := range f.platforms {
		p, err := pack.ParsePlatform(s)
		if err != nil {
			return o, fmt.Errorf("--platform: %w", err)
		}
		o.Platforms = append(o.Platforms, p)
	}
	if len(f.binaries) > 0 {
		bins, err := parseBinaries(f.binaries, f.platforms)
		if err != nil {
			return o, fmt.Errorf("--binary: %w", err)
		}
		o.Binaries = bins
		if o.Name == "" {
			o.Name = filepath.Base(bins[f.platforms[0]])
		}
	}
	ca, err := readSmallFile(f.caBundle)
	if err != nil {
		return o, fmt.Errorf("--ca-bundle %s: %w (pass --ca-bundle FILE with a PEM bundle)", f.caBundle, err)
	}
	o.CABundle = ca
	src, err := packSource(context.Background(), env, dir)
	if err != nil {
		return o, err
	}
	o.Source = src
	return o, nil
}

// parseBinaries reads --binary: one FILE for a single platform, else OS/ARCH=FILE for
// every platform asked for.
func parseBinaries(list, platforms []string) (map[string]string, error) {
	out := map[string]string{}
	if len(list) == 1 && !strings.Contains(list[0], "=") {
		if len(platforms) != 1 {
			return nil, errors.New("a single FILE packs one platform: give one --platform, or write OS/ARCH=FILE for each")
		}
		out[platforms[0]] = list[0]
		return out, nil
	}
	for _, b := range list {
		p, file, ok := strings.Cut(b, "=")
		if !ok || file == "" {
			return nil, fmt.Errorf("%q: want OS/ARCH=FILE", b)
		}
		out[p] = file
	}
	for _, p := range platforms {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("no binary for --platform %s", p)
		}
	}
	return out, nil
}

// isLocalPath tells a directory path from an import path, as the go command does.
func isLocalPath(p string) bool {
	return p == "." || p == ".." || filepath.IsAbs(p) || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../")
}

// packSource is the git checkout's origin and revision, with the epoch from
// SOURCE_DATE_EPOCH, else the commit time, else 0.
func packSource(ctx context.Context, env Env, dir string) (pack.SourceInfo, error) {
	src := pack.GitSource(ctx, dir)
	t, ok, err := pack.EpochFromEnv(env.Getenv)
	if err != nil {
		return src, err
	}
	switch {
	case ok:
		src.Epoch = t
	case src.Epoch.IsZero():
		src.Epoch = time.Unix(0, 0).UTC()
	}
	return src, nil
}

// runPack packs and writes the image where the flags say, then prints where it went.
func runPack(ctx context.Context, env Env, f packFlags, o pack.Options) error {
	res, err := pack.Pack(ctx, o)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	printPacked(env.Stderr, f.label, o, res)
	if f.sbomOut != "" {
		if err := writeSBOMs(f.sbomOut, res); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
	}
	if f.layout != "" {
		tag := packTag(f)
		if err := res.WriteLayout(f.layout, tag, o.Source.Epoch); err != nil {
			return fmt.Errorf("pack: --oci-layout %s: %w", f.layout, err)
		}
		fmt.Fprintf(env.Stdout, "oci-dir:%s:%s\n", f.layout, tag)
	}
	if f.push == "" {
		return nil
	}
	ref, err := res.Push(ctx, f.push, f.rf.options(env), o.Source.Epoch)
	if err != nil {
		return fmt.Errorf("pack: --push: %w", err)
	}
	if f.key != "" {
		if err := signPacked(ctx, env, f, res, ref); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
	}
	fmt.Fprintln(env.Stdout, ref)
	return nil
}

// packTag names the image in the layout.
func packTag(f packFlags) string {
	switch {
	case f.tag != "":
		return f.tag
	case f.version != "":
		return f.version
	}
	return "dev"
}

// signPacked signs each pushed image (and the index) and attests its SBOM and
// provenance with the key.
func signPacked(ctx context.Context, env Env, f packFlags, res *pack.Result, ref string) error {
	key, err := loadSigningKey(env, f.key)
	if err != nil {
		return err
	}
	opts := sign.Options{Image: f.rf.options(env), Now: env.Now}
	repo := strings.SplitN(ref, "@", 2)[0]
	if res.Index != nil {
		if _, err := sign.Sign(ctx, ref, key, opts); err != nil {
			return err
		}
	}
	for _, b := range res.Images {
		img := repo + "@" + b.Digest.String()
		if _, err := sign.Sign(ctx, img, key, opts); err != nil {
			return err
		}
		if _, err := sign.Attest(ctx, img, key, "cyclonedx", b.SBOM, opts); err != nil {
			return fmt.Errorf("attesting the SBOM: %w", err)
		}
		pred, err := provenancePredicate(b.Provenance)
		if err != nil {
			return err
		}
		if _, err := sign.Attest(ctx, img, key, pack.SLSAProvenanceV1, pred, opts); err != nil {
			return fmt.Errorf("attesting the provenance: %w", err)
		}
		fmt.Fprintf(env.Stderr, "signed %s; attested its SBOM and provenance\n", img)
	}
	return nil
}

// provenancePredicate takes the predicate out of the provenance statement: Attest makes
// its own statement, naming the pushed repository.
func provenancePredicate(statement []byte) ([]byte, error) {
	var st struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(statement, &st); err != nil {
		return nil, err
	}
	return st.Predicate, nil
}

// writeSBOMs writes each image's SBOM: FILE for one platform, FILE-OS-ARCH.EXT for more.
func writeSBOMs(file string, res *pack.Result) error {
	for _, b := range res.Images {
		out := file
		if len(res.Images) > 1 {
			ext := filepath.Ext(file)
			out = strings.TrimSuffix(file, ext) + "-" + platformSuffix(b.Platform) + ext
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return fmt.Errorf("--sbom-output: %w", err)
		}
		if err := writeFileAtomic(out, b.SBOM); err != nil {
			return fmt.Errorf("--sbom-output %s: %w", out, errors.Unwrap(err))
		}
	}
	return nil
}

func platformSuffix(p v1.Platform) string {
	s := p.OS + "-" + p.Architecture
	if p.Variant != "" {
		s += "-" + p.Variant
	}
	return s
}

// printPacked says what was built, on stderr.
func printPacked(w io.Writer, label string, o pack.Options, res *pack.Result) {
	fmt.Fprintf(w, "packed %s as %s, running as 65532:65532 (epoch %s)\n", label, res.BinPath, o.Source.Epoch.UTC().Format(time.RFC3339))
	for _, b := range res.Images {
		fmt.Fprintf(w, "  %-14s %s  binary sha256:%.12s…  SBOM and provenance attached\n", platformSuffix(b.Platform), b.Digest, b.BinarySHA256)
	}
	if res.Index != nil {
		fmt.Fprintf(w, "  %-14s %s\n", "index", res.Digest)
	}
}
