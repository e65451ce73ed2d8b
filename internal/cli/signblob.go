package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/sign"
)

func newSignBlobCmd(env Env) *cobra.Command {
	var keyPath, output string
	cmd := &cobra.Command{
		Use:   "sign-blob FILE",
		Short: "Sign a file with a cosign key, as cosign sign-blob --key does",
		Long: "Sign FILE's SHA-256 digest with the ECDSA P-256 key and print the base64 signature (or\n" +
			"write it to --output-signature). `cosign verify-blob --key cosign.pub --signature FILE.sig\n" +
			"--insecure-ignore-tlog FILE` accepts it, and charter verify-blob accepts cosign's. No\n" +
			"transparency log is used. The key's password comes from CHARTER_PASSWORD or COSIGN_PASSWORD.",
		Example: "  charter sign-blob --key release.key --output-signature charter_linux_amd64.sig charter_linux_amd64\n" +
			"  charter sign-blob --key release.key SHA256SUMS > SHA256SUMS.sig",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := loadSigningKey(env, keyPath)
			if err != nil {
				return fmt.Errorf("sign-blob: %w", err)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("sign-blob: %w", err)
			}
			defer func() { _ = f.Close() }()
			sig, err := sign.SignBlob(f, key)
			if err != nil {
				return fmt.Errorf("sign-blob: %s: %w", args[0], err)
			}
			if output != "" {
				return writeFileAtomic(output, sig)
			}
			_, err = fmt.Fprintf(env.Stdout, "%s\n", sig)
			return err
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "cosign.key", "private key `FILE`")
	cmd.Flags().StringVar(&output, "output-signature", "", "write the base64 signature to `FILE` instead of standard output")
	return cmd
}

func newVerifyBlobCmd(env Env) *cobra.Command {
	var keys []string
	var sigPath string
	cmd := &cobra.Command{
		Use:   "verify-blob FILE",
		Short: "Verify a file's signature made by charter sign-blob or cosign sign-blob --key",
		Long: "Check that --signature (a base64 signature file) is a signature of FILE's SHA-256 digest\n" +
			"by one of the --key public keys. No transparency log is consulted.\n" +
			"Exit codes: 0 verified, 1 not verified, 2 could not check.",
		Example: "  charter verify-blob --key release.pub --signature charter_linux_amd64.sig charter_linux_amd64",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sigPath == "" {
				return errors.New("verify-blob: --signature FILE is required")
			}
			v, err := loadVerifier(keys, "")
			if err != nil {
				return fmt.Errorf("verify-blob: %w", err)
			}
			sig, err := readSmallFile(sigPath)
			if err != nil {
				return fmt.Errorf("verify-blob: --signature %s: %w", sigPath, err)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("verify-blob: %w", err)
			}
			defer func() { _ = f.Close() }()
			id, err := sign.VerifyBlob(f, sig, v)
			if errors.Is(err, sign.ErrBadSignature) {
				fmt.Fprintf(env.Stderr, "charter: verify-blob: %s: %s is not a valid signature by %v\n", args[0], sigPath, v.KeyIDs())
				return errVerdict
			}
			if err != nil {
				return fmt.Errorf("verify-blob: %s: %w", sigPath, err)
			}
			_, err = fmt.Fprintf(env.Stdout, "Verified OK: %s signed by key %s\n", args[0], id)
			return err
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key `FILE` (repeatable; default: signing.keys in charter.yaml)")
	cmd.Flags().StringVar(&sigPath, "signature", "", "the base64 signature `FILE`")
	return cmd
}
