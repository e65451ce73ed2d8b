package sign

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pw := []byte("hunter2-but-longer")
	priv, err := EncryptKey(key, pw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(priv)
	if b == nil || b.Type != PrivateKeyPEMType {
		t.Fatalf("PEM block %v", b)
	}
	// The document cosign writes: scrypt parameters, salt, secretbox nonce, ciphertext.
	var doc struct {
		KDF struct {
			Name   string                `json:"name"`
			Params struct{ N, R, P int } `json:"params"`
			Salt   []byte                `json:"salt"`
		} `json:"kdf"`
		Cipher struct {
			Name  string `json:"name"`
			Nonce []byte `json:"nonce"`
		} `json:"cipher"`
		Ciphertext []byte `json:"ciphertext"`
	}
	if err := json.Unmarshal(b.Bytes, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.KDF.Name != "scrypt" || doc.KDF.Params.N != 65536 || doc.KDF.Params.R != 8 || doc.KDF.Params.P != 1 ||
		len(doc.KDF.Salt) != 32 || doc.Cipher.Name != "nacl/secretbox" || len(doc.Cipher.Nonce) != 24 {
		t.Fatalf("encrypted document %+v", doc)
	}
	got, err := DecryptKey(priv, pw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.k.Equal(key.k) {
		t.Fatal("decrypted another key")
	}
	if _, err := DecryptKey(priv, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	// cosign's older PEM type holds the same document.
	legacy := pem.EncodeToMemory(&pem.Block{Type: LegacyPrivateKeyPEMType, Bytes: b.Bytes})
	if _, err := DecryptKey(legacy, pw); err != nil {
		t.Fatalf("legacy PEM type: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("not pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})} {
		if _, err := DecryptKey(bad, pw); !errors.Is(err, ErrKey) {
			t.Errorf("DecryptKey(%.20q): %v; want ErrKey", bad, err)
		}
	}
	pub, err := MarshalPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePublicKey(pub)
	if err != nil || !back.Equal(key.Public()) {
		t.Fatalf("public key round trip: %v", err)
	}
	if _, err := ParsePublicKey(priv); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("a private key given as public: %v", err)
	}
}

func TestPrivateKeyNeverPrints(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := key.k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secret := new(big.Int).SetBytes(raw).String()
	secretHex := fmt.Sprintf("%x", raw)
	var buf bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", key)
	}
	j, _ := json.Marshal(struct{ K *PrivateKey }{key})
	buf.Write(j)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("signing", "key", key)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("signing", "key", key)
	out := buf.String()
	if strings.Contains(out, secret) || strings.Contains(out, secretHex) {
		t.Fatalf("the private scalar was printed:\n%s", out)
	}
	if strings.Count(out, "REDACTED") < 10 {
		t.Fatalf("expected the placeholder everywhere:\n%s", out)
	}
}

func TestVerifierNeedsAKey(t *testing.T) {
	if _, err := NewVerifier(); err == nil {
		t.Fatal("a verifier without keys was built")
	}
	if _, err := NewVerifier(nil); err == nil {
		t.Fatal("a verifier with a nil key was built")
	}
}
