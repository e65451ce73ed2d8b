package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/charterhq/charter/internal/sign"
)

func newKeygenCmd(env Env) *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate a cosign-compatible key pair (cosign.key, cosign.pub)",
		Long: "Generate an ECDSA P-256 key pair in the current directory, as cosign generate-key-pair does:\n" +
			"cosign.key is encrypted with a password (scrypt and NaCl secretbox) and cosign.pub is the\n" +
			"public key to verify with. Either tool reads the other's keys.\n\n" +
			"The password comes from CHARTER_PASSWORD, else COSIGN_PASSWORD, else a prompt on the\n" +
			"terminal. It is never printed.",
		Example: "  charter keygen\n" +
			"  CHARTER_PASSWORD=… charter keygen --output-key-prefix release",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keyPath, pubPath := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{keyPath, pubPath} {
					if _, err := os.Stat(p); err == nil {
						return fmt.Errorf("keygen: %s already exists; move it away or pass --force to overwrite it", p)
					}
				}
			}
			password, err := readPassword(env, true)
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			defer clear(password)
			key, err := sign.GenerateKey()
			if err != nil {
				return err
			}
			priv, err := sign.EncryptKey(key, password)
			if err != nil {
				return err
			}
			pub, err := sign.MarshalPublicKey(key.Public())
			if err != nil {
				return err
			}
			if err := writeKeyFile(keyPath, priv, 0o600); err != nil {
				return err
			}
			if err := writeKeyFile(pubPath, pub, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "write `PREFIX`.key and PREFIX.pub")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "overwrite existing key files")
	return cmd
}

// writeKeyFile writes a key file with its final mode from the start, so the private key
// is never readable by others, not even for a moment.
func writeKeyFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("keygen: %s: %w", path, err)
	}
	return os.Chmod(path, mode)
}

// errNoPassword says where a password may come from.
var errNoPassword = errors.New("no password: set CHARTER_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be asked")

// readPassword takes the key password from CHARTER_PASSWORD, COSIGN_PASSWORD, or a
// prompt on the terminal (twice when confirm is set, for a new key).
func readPassword(env Env, confirm bool) ([]byte, error) {
	for _, name := range []string{"CHARTER_PASSWORD", "COSIGN_PASSWORD"} {
		if p := env.Getenv(name); p != "" {
			return []byte(p), nil
		}
	}
	if !env.IsTerminal(env.Stdin) {
		return nil, errNoPassword
	}
	p, err := prompt(env, "Enter password for private key: ")
	if err != nil {
		return nil, err
	}
	if confirm {
		again, err := prompt(env, "Enter password for private key again: ")
		if err != nil {
			return nil, err
		}
		defer clear(again)
		if !bytes.Equal(p, again) {
			clear(p)
			return nil, errors.New("passwords do not match")
		}
	}
	return p, nil
}

// prompt asks on stderr and reads a line from the terminal without echoing it.
func prompt(env Env, question string) ([]byte, error) {
	fmt.Fprint(env.Stderr, question)
	defer fmt.Fprintln(env.Stderr)
	if f, ok := env.Stdin.(*os.File); ok {
		p, err := term.ReadPassword(int(f.Fd()))
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
		return p, nil
	}
	// Byte by byte, so that a second prompt finds its own line still unread.
	var line []byte
	b := make([]byte, 1)
	for len(line) < 4096 {
		n, err := env.Stdin.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
	}
	return bytes.TrimRight(line, "\r"), nil
}
