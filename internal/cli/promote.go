package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/sign"
)

func newPromoteCmd(env Env) *cobra.Command {
	var rf registryFlags
	var vf verdictFlags
	var keys []string
	var charterPath, typ, logPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "promote SRC DST-TAG",
		Short: "Point a release tag at a verified, passing image, by digest",
		Long: "Promote SRC to DST-TAG (a tag of the same repository, or HOST/REPO:TAG) only if SRC is\n" +
			"signed by one of the keys and its newest verdict attestation passed with --fail-on or\n" +
			"stricter, within --max-age. SRC is resolved to its digest once, and that digest is what\n" +
			"gets checked and tagged; across repositories its signatures and attestations are copied\n" +
			"along. Rollback is promoting an earlier digest.\n\n" +
			"Every promotion prints the new and the previous digest of DST-TAG; --log appends the\n" +
			"same record as a JSON line to a file.\n" +
			"Exit codes: 0 promoted, 1 refused (the reason on stderr), 2 could not check or copy.",
		Example: "  charter promote --key cosign.pub --max-age 7d registry.example.com/app:1.4.2 stable\n" +
			"  charter promote --key cosign.pub registry.example.com/app@sha256:… stable   # rollback\n" +
			"  charter promote --key cosign.pub --log promotions.jsonl staging.example.com/app:1.4.2 registry.example.com/app:stable",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := vf.policy(env)
			if err != nil {
				return fmt.Errorf("promote: %w", err)
			}
			if _, err := sign.ParsePredicateType(typ); err != nil {
				return fmt.Errorf("promote: --type: %w", err)
			}
			v, err := loadVerifier(keys, charterPath)
			if err != nil {
				return fmt.Errorf("promote: %w", err)
			}
			opts := sign.PromoteOptions{
				Options:       sign.Options{Image: rf.options(env), Now: env.Now},
				Verdict:       p,
				PredicateType: typ,
			}
			pr, err := sign.Promote(cmd.Context(), args[0], args[1], v, opts)
			if err != nil {
				return notVerified(env, "promote", err)
			}
			if logPath != "" {
				if err := appendLog(logPath, pr); err != nil {
					return fmt.Errorf("promote: promoted, but --log %s: %w", logPath, err)
				}
			}
			if asJSON {
				return printJSON(env.Stdout, pr)
			}
			prev := "none"
			if pr.Previous != "" {
				prev = pr.Previous
			}
			fmt.Fprintf(env.Stdout, "Promoted %s to %s (was %s); verdict passed with failOn %s, scanned %s\n",
				pr.Source, pr.Destination, prev, pr.FailOn, pr.ScannedAt.UTC().Format(time.RFC3339))
			return nil
		},
	}
	rf.register(cmd)
	vf.register(cmd, "")
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key `FILE` (repeatable)")
	cmd.Flags().StringVar(&charterPath, "charter", "", "charter file whose signing.keys to use (default ./charter.yaml when present)")
	cmd.Flags().StringVar(&typ, "type", "verdict", "attestation holding the verdict: verdict or vuln")
	cmd.Flags().StringVar(&logPath, "log", "", "append each promotion as a JSON line to `FILE`")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the promotion record as JSON")
	return cmd
}

// appendLog adds one JSON line to the promotion log.
func appendLog(path string, p *sign.Promotion) error {
	line, err := json.Marshal(p)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644) //nolint:gosec // an audit log meant to be read
	if err != nil {
		return err
	}
	_, werr := f.Write(append(line, '\n'))
	return errors.Join(werr, f.Close())
}
