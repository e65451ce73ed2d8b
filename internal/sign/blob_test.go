package sign

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestBlobRoundTrip(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("charter_linux_amd64 release binary")
	sig, err := SignBlob(bytes.NewReader(data), key)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := VerifyBlob(bytes.NewReader(data), append(sig, '\n'), v); err != nil || id != KeyID(key.Public()) {
		t.Fatalf("verify: %q, %v", id, err)
	}
	if _, err := VerifyBlob(bytes.NewReader(append(data, '!')), sig, v); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed file: %v", err)
	}
	otherSig, err := SignBlob(bytes.NewReader(data), other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBlob(bytes.NewReader(data), otherSig, v); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other key: %v", err)
	}
	if _, err := VerifyBlob(bytes.NewReader(data), []byte("%%%"), v); err == nil || errors.Is(err, ErrBadSignature) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := VerifyBlob(bytes.NewReader(data), []byte(strings.Repeat("A", 5000)), v); err == nil {
		t.Error("oversized signature accepted")
	}
}

// FuzzVerifyBlob: no signature file verifies a changed file, and none makes VerifyBlob
// fail other than with an error.
func FuzzVerifyBlob(f *testing.F) {
	key, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(key.Public())
	if err != nil {
		f.Fatal(err)
	}
	sig, err := SignBlob(strings.NewReader("blob"), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add([]byte("MEUCIQ=="))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, s []byte) {
		if _, err := VerifyBlob(strings.NewReader("another blob"), s, v); err == nil {
			t.Fatalf("signature %q verified a file it was not made for", s)
		}
	})
}
