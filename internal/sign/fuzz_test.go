package sign

import (
	"bytes"
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func fuzzSeeds(f *testing.F) (envelope, bundle []byte) {
	f.Helper()
	key, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	d := v1.Hash{Algorithm: "sha256", Hex: "ae874241934929ee6e15bf3ad1052cdc7de31dde9bc6f2839702a078c1849f1b"}
	payload, err := marshalStatement(newStatement("reg/app", d, PredicateVerdict, json.RawMessage(`{"a":1}`)))
	if err != nil {
		f.Fatal(err)
	}
	env, err := signEnvelope(key, InTotoPayloadType, payload)
	if err != nil {
		f.Fatal(err)
	}
	envelope, _ = json.Marshal(env)
	bundle, err = newBundle(key, env)
	if err != nil {
		f.Fatal(err)
	}
	return envelope, bundle
}

// FuzzParseEnvelope: no input panics the envelope parser, and what it accepts has a
// payload type, at least one and at most maxEnvelopeSigs signatures, and a payload that
// round-trips through base64.
func FuzzParseEnvelope(f *testing.F) {
	env, _ := fuzzSeeds(f)
	f.Add(env)
	f.Add(env[:len(env)/2])
	f.Add([]byte(`{"payloadType":"x","payload":"","signatures":[{"sig":""}]}`))
	f.Add([]byte(`{"payloadType":"x","payload":"%%%","signatures":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, payload, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		if e.PayloadType == "" || len(e.Signatures) == 0 || len(e.Signatures) > maxEnvelopeSigs {
			t.Fatalf("accepted an envelope without type or with %d signatures", len(e.Signatures))
		}
		again, err := decodeB64(b64.EncodeToString(payload))
		if err != nil || !bytes.Equal(again, payload) {
			t.Fatal("payload does not round-trip")
		}
		// Statements inside are parsed with the same care.
		if st, err := parseStatement(e.PayloadType, payload); err == nil && len(st.Subject) > maxSubjects {
			t.Fatal("too many subjects accepted")
		}
	})
}

// FuzzParseBundle: no input panics the bundle parser; an accepted bundle re-encodes to a
// bundle that parses to the same payload.
func FuzzParseBundle(f *testing.F) {
	_, b := fuzzSeeds(f)
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.3","dsseEnvelope":{"payloadType":"a","payload":"","signatures":[{"sig":"AA"}]}}{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		bu, payload, err := ParseBundle(data)
		if err != nil {
			return
		}
		re, err := json.Marshal(bu)
		if err != nil {
			t.Fatal(err)
		}
		_, p2, err := ParseBundle(re)
		if err != nil || !bytes.Equal(p2, payload) {
			t.Fatalf("re-encoded bundle: %v", err)
		}
	})
}
