package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/sign"
)

func newVerifyCmd(env Env) *cobra.Command {
	var rf registryFlags
	var keys, annotations []string
	var charterPath, layout string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify IMAGE...",
		Short: "Verify images' signatures with a public key, offline",
		Long: "Verify that each image is signed by one of the keys: the signature over the exact\n" +
			"payload, the payload bound to the image's digest, and any required annotations. A tag\n" +
			"is resolved to its digest first; signatures made with charter sign or cosign sign, in\n" +
			"the classic or the bundle layout, are accepted. No transparency log is consulted.\n\n" +
			"Keys come from --key, else signing.keys in the charter file.\n" +
			"Exit codes: 0 verified, 1 not verified (the reason on stderr), 2 could not check.",
		Example: "  charter verify --key cosign.pub registry.example.com/app:1.4.2\n" +
			"  charter verify --key cosign.pub -a git=3f2c1e0 localhost:5000/app@sha256:… --insecure-registry localhost:5000",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := parseLayout(layout)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			ann, err := parseAnnotations(annotations)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			v, err := loadVerifier(keys, charterPath)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			opts := sign.Options{Format: f, Annotations: ann, Image: rf.options(env)}
			for _, ref := range args {
				got, err := sign.Verify(cmd.Context(), ref, v, opts)
				if err != nil {
					return notVerified(env, "verify", err)
				}
				if asJSON {
					if err := printJSON(env.Stdout, got); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(env.Stdout, "Verified %s%s: %s\n", got.Ref, tagNote(got.Tag), describeSignatures(got.Signatures))
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key `FILE` (cosign.pub; repeatable: any one of them may have signed)")
	cmd.Flags().StringVar(&charterPath, "charter", "", "charter file whose signing.keys to use (default ./charter.yaml when present)")
	cmd.Flags().StringArrayVarP(&annotations, "annotation", "a", nil, "require `KEY=VALUE` in the signed payload (repeatable; classic layout only)")
	cmd.Flags().StringVar(&layout, "layout", "any", "signature layouts to accept: any, classic or bundle")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verified signatures as JSON")
	return cmd
}

// parseLayout reads --layout: which stored layouts a verification accepts.
func parseLayout(s string) (sign.Format, error) {
	switch strings.ToLower(s) {
	case "any", "both", "":
		return sign.FormatBoth, nil
	case "classic":
		return sign.FormatClassic, nil
	case "bundle":
		return sign.FormatBundle, nil
	}
	return "", fmt.Errorf("--layout %q: want any, classic or bundle", s)
}

func tagNote(tag string) string {
	if tag == "" {
		return ""
	}
	return " (tag " + tag + ")"
}

// describeSignatures summarises verified signatures: how many, which layouts, which keys.
func describeSignatures(sigs []sign.Signature) string {
	var layouts, keys []string
	for _, s := range sigs {
		if !contains(layouts, s.Layout) {
			layouts = append(layouts, s.Layout)
		}
		if k := shortKey(s.KeyID); !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	n := "signature"
	if len(sigs) != 1 {
		n += "s"
	}
	return fmt.Sprintf("%d %s (%s) by key %s", len(sigs), n, strings.Join(layouts, ", "), strings.Join(keys, ", "))
}

func shortKey(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
