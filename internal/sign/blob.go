package sign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Blob signatures are what `cosign sign-blob --key` writes and `cosign verify-blob --key`
// reads: the base64 (standard alphabet, padded) ASN.1 ECDSA P-256 signature over the
// SHA-256 digest of the file's bytes, with no transparency-log entry.

// maxBlobSignature bounds a signature file: an encoded P-256 signature is under 100 bytes.
const maxBlobSignature = 4 << 10

// ErrBadSignature is a blob signature that does not verify with any of the keys.
var ErrBadSignature = errors.New("signature does not verify")

// SignBlob reads r to its end and returns the base64 signature of its SHA-256 digest.
func SignBlob(r io.Reader, key *PrivateKey) ([]byte, error) {
	sum, err := digestOf(r)
	if err != nil {
		return nil, err
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key.k, sum)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return []byte(b64.EncodeToString(sig)), nil
}

// VerifyBlob checks a base64 signature (as SignBlob or cosign sign-blob wrote it, with
// or without a trailing newline) over r's content against v's keys, and returns the ID
// of the key that made it. A signature that does not verify is ErrBadSignature.
func VerifyBlob(r io.Reader, signature []byte, v *Verifier) (string, error) {
	if v == nil {
		return "", errors.New("no verifier: a key is required")
	}
	if len(signature) > maxBlobSignature {
		return "", fmt.Errorf("signature file is over %d bytes", maxBlobSignature)
	}
	raw, err := decodeB64(string(bytes.TrimSpace(signature)))
	if err != nil {
		return "", fmt.Errorf("signature is not base64: %w", err)
	}
	sum, err := digestOf(r)
	if err != nil {
		return "", err
	}
	for i, k := range v.keys {
		if ecdsa.VerifyASN1(k, sum, raw) {
			return v.ids[i], nil
		}
	}
	return "", ErrBadSignature
}

func digestOf(r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	return h.Sum(nil), nil
}
