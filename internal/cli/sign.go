package cli

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/sign"
)

// registryFlags are the registry-access flags of the signing commands.
type registryFlags struct {
	insecure []string
}

func (f *registryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.insecure, "insecure-registry", nil, "allow plain HTTP to `HOST[:PORT]` (repeatable); every other registry must speak HTTPS")
}

func (f *registryFlags) options(env Env) image.Options {
	return image.Options{InsecureRegistries: f.insecure, Getenv: env.Getenv}
}

// loadSigningKey reads and decrypts a cosign private key. A wrong password or an unusable
// file is exit 2, with the path named and the password never shown.
func loadSigningKey(env Env, path string) (*sign.PrivateKey, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	password, err := readPassword(env, false)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	defer clear(password)
	key, err := sign.DecryptKey(data, password)
	if errors.Is(err, sign.ErrWrongPassword) {
		return nil, fmt.Errorf("--key %s: wrong password (check CHARTER_PASSWORD or COSIGN_PASSWORD)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	return key, nil
}

// loadVerifier builds a verifier from --key files, else the charter file's signing.keys.
// Without either there is no verifier: nothing is ever verified against no key.
func loadVerifier(keys []string, charterPath string) (*sign.Verifier, error) {
	paths := keys
	if len(paths) == 0 {
		path := charterPath
		if path == "" {
			if p, ok := policy.Find("."); ok {
				path = p
			}
		}
		if path != "" {
			pf, err := policy.Load(path)
			if err != nil {
				return nil, err
			}
			paths = pf.KeyRefs()
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("no public key: pass --key cosign.pub, or list signing.keys in charter.yaml")
	}
	list := make([]*ecdsa.PublicKey, 0, len(paths))
	for _, p := range paths {
		if strings.Contains(p, "://") {
			return nil, fmt.Errorf("key %s: only key files are supported (no KMS or URL keys)", p)
		}
		data, err := readSmallFile(p)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", p, err)
		}
		k, err := sign.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", p, err)
		}
		list = append(list, k)
	}
	return sign.NewVerifier(list...)
}

// readSmallFile reads a key or predicate file, bounded; "-" is not accepted here.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	const limit = 64 << 20
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("over %d MiB", limit>>20)
	}
	return b, nil
}

// parseAnnotations reads repeated -a KEY=VALUE flags.
func parseAnnotations(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, a := range list {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("annotation %q: want KEY=VALUE", a)
		}
		m[k] = v
	}
	return m, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// notVerified prints why a verification said no and turns it into exit 1; any other
// error (could not check) passes through to exit 2.
func notVerified(env Env, cmd string, err error) error {
	var ve *sign.VerifyError
	if errors.As(err, &ve) {
		fmt.Fprintf(env.Stderr, "charter: %s: %s\n", cmd, oneLine(ve.Error()))
		return errVerdict
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

func newSignCmd(env Env) *cobra.Command {
	var rf registryFlags
	var keyPath, format string
	var asJSON bool
	var annotations []string
	cmd := &cobra.Command{
		Use:   "sign IMAGE...",
		Short: "Sign images by digest, in the layouts cosign reads",
		Long: "Sign each image with a cosign key. A tag is resolved to its digest first, the digest is\n" +
			"what gets signed, and it is printed. The signature is stored as cosign stores it:\n" +
			"  classic  the sha256-<hex>.sig tag (simple-signing payload, dev.cosignproject.cosign/signature)\n" +
			"  bundle   a Sigstore bundle v0.3 as an OCI 1.1 referrer (sha256-<hex> index tag where the\n" +
			"           registry has no referrers API)\n" +
			"No transparency log is used: verification is offline, with the public key.",
		Example: "  charter sign --key cosign.key registry.example.com/app:1.4.2\n" +
			"  charter sign --key cosign.key --format classic -a git=$(git rev-parse HEAD) localhost:5000/app:dev --insecure-registry localhost:5000",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sign.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("sign: --format: %w", err)
			}
			ann, err := parseAnnotations(annotations)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			key, err := loadSigningKey(env, keyPath)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			opts := sign.Options{Format: f, Annotations: ann, Image: rf.options(env), Now: env.Now}
			for _, ref := range args {
				s, err := sign.Sign(cmd.Context(), ref, key, opts)
				if err != nil {
					return fmt.Errorf("sign: %w", err)
				}
				if asJSON {
					if err := printJSON(env.Stdout, s); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintln(env.Stdout, s.Ref)
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&keyPath, "key", "cosign.key", "private key `FILE` (cosign.key from charter keygen or cosign generate-key-pair)")
	cmd.Flags().StringVar(&format, "format", "both", "signature layouts to write: classic, bundle or both")
	cmd.Flags().StringArrayVarP(&annotations, "annotation", "a", nil, "add `KEY=VALUE` to the signed payload (classic layout; repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was signed and where as JSON (default: the signed IMAGE@DIGEST)")
	return cmd
}
