package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sign"
)

func newAttestCmd(env Env) *cobra.Command {
	var rf registryFlags
	var keyPath, format, typ, predicate string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "attest IMAGE",
		Short: "Attach a signed in-toto attestation (SBOM, scan, verdict) to an image",
		Long: "Sign an in-toto statement about the image's digest, in a DSSE envelope, and store it as\n" +
			"cosign attest does (classic sha256-<hex>.att tag, or a bundle referrer, or both).\n\n" +
			"Predicate types (--type):\n" +
			"  cyclonedx   a CycloneDX JSON SBOM (charter sbom -o cyclonedx-json)\n" +
			"  spdx        an SPDX JSON SBOM (spdxjson is the same)\n" +
			"  vuln        a charter JSON report, in cosign's vulnerability-scan predicate\n" +
			"  verdict     a charter JSON report's verdict, with the time it was attested\n" +
			"  custom, or any predicate-type URI: a JSON object, as it is\n" +
			"A report about another digest than the image's is refused.",
		Example: "  charter scan registry.example.com/app:1.4.2 -o json --output report.json\n" +
			"  charter attest --key cosign.key --type verdict --predicate report.json registry.example.com/app:1.4.2\n" +
			"  charter sbom app:1.4.2 -o cyclonedx-json | charter attest --key cosign.key --type cyclonedx --predicate - app:1.4.2",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sign.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("attest: --format: %w", err)
			}
			if _, err := sign.ParsePredicateType(typ); err != nil {
				return fmt.Errorf("attest: --type: %w", err)
			}
			if predicate == "" {
				return fmt.Errorf("attest: --predicate FILE is required (- for standard input)")
			}
			input, err := readPredicate(env, predicate)
			if err != nil {
				return fmt.Errorf("attest: --predicate %s: %w", predicate, err)
			}
			key, err := loadSigningKey(env, keyPath)
			if err != nil {
				return fmt.Errorf("attest: %w", err)
			}
			opts := sign.Options{Format: f, Image: rf.options(env), Now: env.Now}
			s, err := sign.Attest(cmd.Context(), args[0], key, typ, input, opts)
			if err != nil {
				return fmt.Errorf("attest: %w", err)
			}
			if asJSON {
				return printJSON(env.Stdout, s)
			}
			fmt.Fprintln(env.Stdout, s.Ref)
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&keyPath, "key", "cosign.key", "private key `FILE`")
	cmd.Flags().StringVar(&format, "format", "both", "attestation layouts to write: classic, bundle or both")
	cmd.Flags().StringVar(&typ, "type", "custom", "predicate `TYPE`: "+strings.Join(sign.PredicateTypes(), ", ")+", or a URI")
	cmd.Flags().StringVar(&predicate, "predicate", "", "predicate `FILE` (- for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was attested and where as JSON")
	return cmd
}

func readPredicate(env Env, path string) ([]byte, error) {
	if path != "-" {
		return readSmallFile(path)
	}
	const limit = 64 << 20
	b, err := io.ReadAll(io.LimitReader(env.Stdin, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("over %d MiB", limit>>20)
	}
	return b, nil
}

// verdictFlags are the verdict requirements of verify-attestation and promote.
type verdictFlags struct {
	failOn string
	maxAge string
}

func (f *verdictFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.failOn, "fail-on", "high", "the verdict must have passed with this `SEVERITY` threshold or a stricter one"+what)
	cmd.Flags().StringVar(&f.maxAge, "max-age", "", "the scan must be at most `AGE` old (7d, 36h, 90m)")
}

func (f *verdictFlags) policy(env Env) (sign.VerdictPolicy, error) {
	s, err := report.ParseSeverity(f.failOn)
	if err != nil {
		return sign.VerdictPolicy{}, fmt.Errorf("--fail-on: %w", err)
	}
	age, err := parseAge(f.maxAge)
	if err != nil {
		return sign.VerdictPolicy{}, fmt.Errorf("--max-age: %w", err)
	}
	return sign.VerdictPolicy{FailOn: s, MaxAge: age, Now: env.Now()}, nil
}

// parseAge reads a duration that may be in days: 7d, 36h, 90m.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want a positive number of days, such as 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a duration such as 7d, 36h or 90m", s)
	}
	return d, nil
}

func newVerifyAttestationCmd(env Env) *cobra.Command {
	var rf registryFlags
	var vf verdictFlags
	var keys []string
	var charterPath, typ, layout string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify-attestation IMAGE",
		Short: "Verify an image's attestations of one predicate type, and the verdict inside",
		Long: "Verify the image's attestations of --type with a public key, offline: the DSSE signature\n" +
			"over the exact statement, the statement's subject digest, its predicate type. For the\n" +
			"verdict type (and vuln, when --fail-on or --max-age is given) the newest attestation's\n" +
			"verdict is evaluated too: it must have passed, with --fail-on or a stricter threshold,\n" +
			"within --max-age.\n\n" +
			"Exit codes: 0 verified, 1 not verified or the verdict fails (the reason on stderr),\n" +
			"2 could not check.",
		Example: "  charter verify-attestation --key cosign.pub --type verdict --fail-on high --max-age 7d registry.example.com/app:1.4.2\n" +
			"  charter verify-attestation --key cosign.pub --type cyclonedx --json app@sha256:…",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := parseLayout(layout)
			if err != nil {
				return fmt.Errorf("verify-attestation: %w", err)
			}
			pt, err := sign.ParsePredicateType(typ)
			if err != nil {
				return fmt.Errorf("verify-attestation: --type: %w", err)
			}
			p, err := vf.policy(env)
			if err != nil {
				return fmt.Errorf("verify-attestation: %w", err)
			}
			v, err := loadVerifier(keys, charterPath)
			if err != nil {
				return fmt.Errorf("verify-attestation: %w", err)
			}
			opts := sign.Options{Format: f, Image: rf.options(env)}
			evaluate := pt == sign.PredicateVerdict ||
				(pt == sign.PredicateVuln && (cmd.Flags().Changed("fail-on") || cmd.Flags().Changed("max-age")))
			if evaluate {
				c, err := sign.CheckVerdict(cmd.Context(), args[0], v, pt, p, opts)
				if err != nil {
					return notVerified(env, "verify-attestation", err)
				}
				if asJSON {
					return printJSON(env.Stdout, c)
				}
				fmt.Fprintf(env.Stdout, "Verified %s: %s attestation (%s) by key %s; verdict passed with failOn %s, scanned %s\n",
					args[0], typ, c.Attestation.Layout, shortKey(c.Attestation.KeyID), c.Verdict.Verdict.FailOn,
					c.Verdict.ScannedAt.UTC().Format(time.RFC3339))
				return nil
			}
			got, err := sign.VerifyAttestations(cmd.Context(), args[0], v, pt, opts)
			if err != nil {
				return notVerified(env, "verify-attestation", err)
			}
			if asJSON {
				return printJSON(env.Stdout, got)
			}
			var sigs []sign.Signature
			for _, a := range got.Attestations {
				sigs = append(sigs, a.Signature)
			}
			fmt.Fprintf(env.Stdout, "Verified %s%s: %s of type %s\n", got.Ref, tagNote(got.Tag),
				strings.Replace(describeSignatures(sigs), "signature", "attestation", 1), pt)
			return nil
		},
	}
	rf.register(cmd)
	vf.register(cmd, " (verdict and vuln types)")
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key `FILE` (repeatable)")
	cmd.Flags().StringVar(&charterPath, "charter", "", "charter file whose signing.keys to use (default ./charter.yaml when present)")
	cmd.Flags().StringVar(&typ, "type", "custom", "predicate `TYPE`: "+strings.Join(sign.PredicateTypes(), ", ")+", or a URI")
	cmd.Flags().StringVar(&layout, "layout", "any", "attestation layouts to accept: any, classic or bundle")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verified attestations as JSON")
	return cmd
}
