package sign

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var benchDigest = v1.Hash{Algorithm: "sha256", Hex: "ae874241934929ee6e15bf3ad1052cdc7de31dde9bc6f2839702a078c1849f1b"}

// BenchmarkVerifyCachedClassic is the admission path: a classic signature already in
// memory, checked against the key and the digest (goal: ≥ 1,000/s).
func BenchmarkVerifyCachedClassic(b *testing.B) {
	key, err := GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	v, _ := NewVerifier(key.Public())
	payload, _ := simpleSigningPayload("registry.example.com/app", benchDigest, map[string]string{"git": "3f2c1e0"})
	sig, _ := key.signBytes(payload)
	want := map[string]string{"git": "3f2c1e0"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyPayload(payload, sig, benchDigest, want); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCachedBundle: the same for a bundle (parse, DSSE, statement).
func BenchmarkVerifyCachedBundle(b *testing.B) {
	key, err := GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	v, _ := NewVerifier(key.Public())
	payload, _ := marshalStatement(newStatement("", benchDigest, SignPredicateType, nil))
	env, _ := signEnvelope(key, InTotoPayloadType, payload)
	data, _ := newBundle(key, env)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyBundle(data, benchDigest, SignPredicateType); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRegistry signs (both layouts) and pushes to a loopback registry.
func BenchmarkSignRegistry(b *testing.B) {
	r := newRegistry(b, true)
	r.push(b, "app:v1")
	key, _ := GenerateKey()
	ctx := context.Background()
	for b.Loop() {
		if _, err := Sign(ctx, r.ref("app:v1"), key, r.opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRegistry verifies both layouts against a loopback registry.
func BenchmarkVerifyRegistry(b *testing.B) {
	r := newRegistry(b, true)
	r.push(b, "app:v1")
	key, _ := GenerateKey()
	v, _ := NewVerifier(key.Public())
	ctx := context.Background()
	if _, err := Sign(ctx, r.ref("app:v1"), key, r.opts); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Verify(ctx, r.ref("app:v1"), v, r.opts); err != nil {
			b.Fatal(err)
		}
	}
}
