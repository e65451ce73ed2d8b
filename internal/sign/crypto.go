package sign

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

var (
	b64       = base64.StdEncoding
	b64url    = base64.URLEncoding
	b64raw    = base64.RawStdEncoding
	b64rawurl = base64.RawURLEncoding
)

var errUnexpectedEOF = io.ErrUnexpectedEOF

// signBytes signs msg as cosign does with an ECDSA key: an ASN.1 signature over its
// SHA-256.
func (p *PrivateKey) signBytes(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, p.k, sum[:])
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return sig, nil
}

// Verifier checks signatures against a fixed set of public keys. It cannot exist without
// one: a verifier that accepts anything is never built by accident.
type Verifier struct {
	keys []*ecdsa.PublicKey
	ids  []string
}

// NewVerifier returns a verifier that accepts a signature by any of keys.
func NewVerifier(keys ...*ecdsa.PublicKey) (*Verifier, error) {
	v := &Verifier{}
	for _, k := range keys {
		if k == nil {
			continue
		}
		v.keys = append(v.keys, k)
		v.ids = append(v.ids, KeyID(k))
	}
	if len(v.keys) == 0 {
		return nil, errors.New("no public key to verify with: pass --key cosign.pub or list signing.keys in charter.yaml")
	}
	return v, nil
}

// KeyIDs names the keys the verifier accepts.
func (v *Verifier) KeyIDs() []string { return append([]string(nil), v.ids...) }

// verifyBytes reports which key (by KeyID) made sig over msg, if any.
func (v *Verifier) verifyBytes(msg, sig []byte) (string, bool) {
	sum := sha256.Sum256(msg)
	for i, k := range v.keys {
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return v.ids[i], true
		}
	}
	return "", false
}
