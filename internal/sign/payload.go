package sign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Media types and annotation keys of the layouts cosign reads.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"
	BundleMediaType        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	InTotoPayloadType      = "application/vnd.in-toto+json"
	SignatureAnnotation    = "dev.cosignproject.cosign/signature"
	emptyMediaType         = "application/vnd.oci.empty.v1+json"
	simpleSigningType      = "cosign container image signature"
	statementTypeV1        = "https://in-toto.io/Statement/v1"
	statementTypeV01       = "https://in-toto.io/Statement/v0.1"
	// SignPredicateType is the predicate of the statement a bundle signature signs.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
)

// bundleMediaTypes are the spellings of the v0.3 bundle media type.
var bundleMediaTypes = []string{BundleMediaType, "application/vnd.dev.sigstore.bundle+json;version=0.3"}

// simpleSigning is the payload of a classic signature (the "simple signing" format of
// containers/image, as cosign writes it).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

func simpleSigningPayload(repo string, digest v1.Hash, annotations map[string]string) ([]byte, error) {
	var p simpleSigning
	p.Critical.Identity.DockerReference = repo
	p.Critical.Image.DockerManifestDigest = digest.String()
	p.Critical.Type = simpleSigningType
	if len(annotations) > 0 {
		p.Optional = map[string]any{}
		for k, v := range annotations {
			p.Optional[k] = v
		}
	}
	return json.Marshal(p)
}

// checkSimpleSigning checks a verified payload's claims: the type, the digest binding and
// the annotations the caller requires.
func checkSimpleSigning(payload []byte, digest v1.Hash, want map[string]string) (map[string]string, error) {
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("payload is not a simple-signing document: %w", err)
	}
	if p.Critical.Type != simpleSigningType {
		return nil, fmt.Errorf("payload type is %q, want %q", p.Critical.Type, simpleSigningType)
	}
	if got := p.Critical.Image.DockerManifestDigest; got != digest.String() {
		return nil, fmt.Errorf("signature is for %s, not %s (copied from another image?)", orNone(got), digest)
	}
	ann := map[string]string{}
	for k, v := range p.Optional {
		ann[k] = annotationString(v)
	}
	return ann, checkAnnotations(ann, want)
}

func annotationString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func checkAnnotations(have, want map[string]string) error {
	var missing []string
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			missing = append(missing, k+"="+v)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("required annotation missing or different: %s", strings.Join(missing, ", "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no digest"
	}
	return s
}

// Envelope is a DSSE envelope (https://github.com/secure-systems-lab/dsse).
type Envelope struct {
	PayloadType string        `json:"payloadType"`
	Payload     string        `json:"payload"`
	Signatures  []EnvelopeSig `json:"signatures"`
}

// EnvelopeSig is one signature of an Envelope.
type EnvelopeSig struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// pae is DSSE's pre-authentication encoding: what is actually signed.
func pae(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

func signEnvelope(key *PrivateKey, payloadType string, payload []byte) (*Envelope, error) {
	sig, err := key.signBytes(pae(payloadType, payload))
	if err != nil {
		return nil, err
	}
	return &Envelope{PayloadType: payloadType, Payload: b64.EncodeToString(payload),
		Signatures: []EnvelopeSig{{Sig: b64.EncodeToString(sig)}}}, nil
}

// maxEnvelopeSigs bounds the signatures tried on one envelope.
const maxEnvelopeSigs = 16

// ParseEnvelope decodes a DSSE envelope and its payload, without checking signatures.
func ParseEnvelope(b []byte) (*Envelope, []byte, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, nil, fmt.Errorf("DSSE envelope: %w", jsonErr(err))
	}
	if e.PayloadType == "" {
		return nil, nil, errors.New("DSSE envelope: no payloadType")
	}
	if len(e.Signatures) == 0 {
		return nil, nil, errors.New("DSSE envelope: no signatures")
	}
	if len(e.Signatures) > maxEnvelopeSigs {
		return nil, nil, fmt.Errorf("DSSE envelope: %d signatures (at most %d are read)", len(e.Signatures), maxEnvelopeSigs)
	}
	payload, err := decodeB64(e.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("DSSE envelope: payload: %w", err)
	}
	return &e, payload, nil
}

// verifyEnvelope checks that one of the envelope's signatures is by one of v's keys,
// over the PAE of its exact payload.
func (v *Verifier) verifyEnvelope(e *Envelope, payload []byte) (string, error) {
	msg := pae(e.PayloadType, payload)
	for _, s := range e.Signatures {
		sig, err := decodeB64(s.Sig)
		if err != nil {
			continue
		}
		if id, ok := v.verifyBytes(msg, sig); ok {
			return id, nil
		}
	}
	return "", errBadSignature
}

var errBadSignature = errors.New("signature does not verify with the given key(s): signed by another key, or the payload was altered")

// decodeB64 accepts standard and URL-safe base64, padded or not, as protobuf JSON does.
func decodeB64(s string) ([]byte, error) {
	for _, enc := range []interface{ DecodeString(string) ([]byte, error) }{b64, b64url, b64raw, b64rawurl} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// jsonErr shortens encoding/json's errors, which can quote a whole hostile document.
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d (truncated or corrupt)", se.Offset)
	}
	if errors.Is(err, errUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input") {
		return errors.New("invalid JSON: truncated")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("invalid JSON: field %q has the wrong type", te.Field)
	}
	return err
}

// Statement is an in-toto statement (v1; v0.1 is read too).
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

func newStatement(name string, digest v1.Hash, predicateType string, predicate json.RawMessage) Statement {
	return Statement{
		Type:          statementTypeV1,
		Subject:       []Subject{{Name: name, Digest: map[string]string{digest.Algorithm: digest.Hex}}},
		PredicateType: predicateType,
		Predicate:     predicate,
	}
}

// maxSubjects bounds the subjects looked at in one statement.
const maxSubjects = 1024

func parseStatement(payloadType string, payload []byte) (*Statement, error) {
	if payloadType != InTotoPayloadType {
		return nil, fmt.Errorf("payload type is %q, want %q", payloadType, InTotoPayloadType)
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", jsonErr(err))
	}
	if st.Type != statementTypeV1 && st.Type != statementTypeV01 {
		return nil, fmt.Errorf("in-toto statement: _type is %q", st.Type)
	}
	if len(st.Subject) > maxSubjects {
		return nil, fmt.Errorf("in-toto statement: %d subjects (at most %d)", len(st.Subject), maxSubjects)
	}
	return &st, nil
}

// about checks that the statement names digest among its subjects.
func (st *Statement) about(digest v1.Hash) error {
	var seen []string
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest[digest.Algorithm], digest.Hex) {
			return nil
		}
		for alg, hex := range s.Digest {
			if len(seen) < 3 {
				seen = append(seen, alg+":"+hex)
			}
		}
	}
	if len(seen) == 0 {
		return fmt.Errorf("statement has no subject digest, want %s", digest)
	}
	return fmt.Errorf("statement is about %s, not %s (copied from another image?)", strings.Join(seen, ", "), digest)
}

func marshalStatement(st Statement) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	return b, nil
}
