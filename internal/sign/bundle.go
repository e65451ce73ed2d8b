package sign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Bundle is a Sigstore bundle v0.3 in its JSON form, as far as keyed, offline signing
// needs it: the public-key hint and a DSSE envelope. Bundles made elsewhere may carry
// transparency-log entries, timestamps or a certificate; reading them does not fail, but
// only the key and the envelope are used.
type Bundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial verificationMaterial `json:"verificationMaterial"`
	DSSEEnvelope         *Envelope            `json:"dsseEnvelope,omitempty"`
	MessageSignature     json.RawMessage      `json:"messageSignature,omitempty"`
}

type verificationMaterial struct {
	PublicKey                 *publicKeyHint  `json:"publicKey,omitempty"`
	Certificate               json.RawMessage `json:"certificate,omitempty"`
	X509CertificateChain      json.RawMessage `json:"x509CertificateChain,omitempty"`
	TlogEntries               json.RawMessage `json:"tlogEntries,omitempty"`
	TimestampVerificationData json.RawMessage `json:"timestampVerificationData,omitempty"`
}

type publicKeyHint struct {
	Hint string `json:"hint"`
}

// newBundle wraps a signed envelope for key holder pub.
func newBundle(pub *PrivateKey, e *Envelope) ([]byte, error) {
	b := Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: verificationMaterial{PublicKey: &publicKeyHint{Hint: keyHint(pub.Public())}},
		DSSEEnvelope:         e,
	}
	return json.Marshal(b)
}

// ParseBundle decodes a v0.3 bundle and its DSSE envelope's payload, without checking
// signatures. A bundle without a DSSE envelope (a bare message signature) is refused:
// images are signed with envelopes.
func ParseBundle(data []byte) (*Bundle, []byte, error) {
	var b Bundle
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", jsonErr(err))
	}
	if dec.More() {
		return nil, nil, errors.New("bundle: trailing data after the JSON document")
	}
	if !slices.Contains(bundleMediaTypes, b.MediaType) {
		return nil, nil, fmt.Errorf("bundle: media type %q, want %q", b.MediaType, BundleMediaType)
	}
	if b.DSSEEnvelope == nil {
		if len(b.MessageSignature) > 0 {
			return nil, nil, errors.New("bundle: holds a message signature, not a DSSE envelope (a blob signature, not an image's)")
		}
		return nil, nil, errors.New("bundle: no DSSE envelope")
	}
	e := b.DSSEEnvelope
	if e.PayloadType == "" || len(e.Signatures) == 0 {
		return nil, nil, errors.New("bundle: DSSE envelope has no payload type or no signature")
	}
	if len(e.Signatures) > maxEnvelopeSigs {
		return nil, nil, fmt.Errorf("bundle: %d signatures (at most %d are read)", len(e.Signatures), maxEnvelopeSigs)
	}
	payload, err := decodeB64(e.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: payload: %w", err)
	}
	return &b, payload, nil
}
