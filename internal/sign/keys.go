package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PEM block types of the private keys cosign writes: the current one, and the one older
// cosign releases wrote. Both hold the same encrypted document.
const (
	PrivateKeyPEMType       = "ENCRYPTED SIGSTORE PRIVATE KEY"
	LegacyPrivateKeyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"
	PublicKeyPEMType        = "PUBLIC KEY"
)

// ErrWrongPassword is returned when an encrypted key does not open with the password.
var ErrWrongPassword = errors.New("wrong password for the private key")

// ErrKey marks a key file that is not a usable key (wrong PEM type, not ECDSA P-256,
// corrupt).
var ErrKey = errors.New("unusable key")

// PrivateKey is an ECDSA P-256 signing key. It never shows its secret: fmt, slog and
// encoding/json all print a placeholder.
type PrivateKey struct {
	k *ecdsa.PrivateKey
}

const redactedKey = "sign.PrivateKey(REDACTED)"

// String hides the key.
func (p *PrivateKey) String() string { return redactedKey }

// GoString hides the key from %#v.
func (p *PrivateKey) GoString() string { return redactedKey }

// Format hides the key from every fmt verb.
func (p *PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redactedKey)) }

// LogValue hides the key from slog.
func (p *PrivateKey) LogValue() slog.Value { return slog.StringValue(redactedKey) }

// MarshalJSON hides the key from encoding/json.
func (p *PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redactedKey + `"`), nil }

// Public returns the key's public half.
func (p *PrivateKey) Public() *ecdsa.PublicKey { return &p.k.PublicKey }

// GenerateKey makes a new ECDSA P-256 key, the kind cosign generate-key-pair makes.
func GenerateKey() (*PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// EncryptKey returns the key as cosign.key: a PEM "ENCRYPTED SIGSTORE PRIVATE KEY" block
// holding scrypt + NaCl secretbox over the key's PKCS #8 encoding.
func EncryptKey(key *PrivateKey, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key.k)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	defer clear(der)
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PrivateKeyPEMType, Bytes: enc}), nil
}

// maxKeyFile bounds a key file: real ones are well under 1 KiB.
const maxKeyFile = 64 << 10

// DecryptKey opens a cosign private key (either PEM type) with password. A password that
// does not open it is ErrWrongPassword; anything that is not such a key is ErrKey.
func DecryptKey(pemBytes, password []byte) (*PrivateKey, error) {
	if len(pemBytes) > maxKeyFile {
		return nil, fmt.Errorf("%w: key file is over %d bytes", ErrKey, maxKeyFile)
	}
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM block (want %q, as cosign generate-key-pair or charter keygen write)", ErrKey, PrivateKeyPEMType)
	}
	if b.Type != PrivateKeyPEMType && b.Type != LegacyPrivateKeyPEMType {
		return nil, fmt.Errorf("%w: PEM block is %q, want %q", ErrKey, b.Type, PrivateKeyPEMType)
	}
	der, err := encrypted.Decrypt(b.Bytes, password)
	if err != nil {
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: %s; charter signs with ECDSA P-256 keys only", ErrKey, keyKind(k))
	}
	return &PrivateKey{k: ek}, nil
}

func keyKind(k any) string {
	if ek, ok := k.(*ecdsa.PrivateKey); ok {
		return "ECDSA " + ek.Curve.Params().Name
	}
	if ek, ok := k.(*ecdsa.PublicKey); ok {
		return "ECDSA " + ek.Curve.Params().Name
	}
	return fmt.Sprintf("%T", k)
}

// MarshalPublicKey returns pub as cosign.pub: a PEM "PUBLIC KEY" block (PKIX).
func MarshalPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyPEMType, Bytes: der}), nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block holding an ECDSA P-256 key.
func ParsePublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	if len(pemBytes) > maxKeyFile {
		return nil, fmt.Errorf("%w: key file is over %d bytes", ErrKey, maxKeyFile)
	}
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM block (want %q, such as cosign.pub)", ErrKey, PublicKeyPEMType)
	}
	if b.Type != PublicKeyPEMType {
		hint := ""
		if strings.Contains(b.Type, "PRIVATE") {
			hint = "; this is a private key: pass the .pub file"
		}
		return nil, fmt.Errorf("%w: PEM block is %q, want %q%s", ErrKey, b.Type, PublicKeyPEMType, hint)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: %s; charter verifies ECDSA P-256 keys only", ErrKey, keyKind(k))
	}
	return ek, nil
}

// KeyID names a public key: the hex SHA-256 of its PKIX encoding, short enough for a log
// line and the same for cosign's key and charter's.
func KeyID(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// keyHint is the bundle's public-key hint as cosign writes it: base64 of the SHA-256 of
// the PKIX encoding.
func keyHint(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return b64.EncodeToString(sum[:])
}
