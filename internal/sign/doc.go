// Package sign makes and checks cosign-compatible keyed signatures and in-toto
// attestations for container images, offline and with a key: no transparency log, no
// certificate authority.
//
// # Keys
//
// GenerateKey and EncryptKey write the key pair cosign writes: cosign.key is a PEM block
// "ENCRYPTED SIGSTORE PRIVATE KEY" holding a JSON document (scrypt key derivation, NaCl
// secretbox) over the PKCS #8 encoding of an ECDSA P-256 key, and cosign.pub a PKIX
// "PUBLIC KEY". DecryptKey also reads cosign's older "ENCRYPTED COSIGN PRIVATE KEY"
// blocks. A *PrivateKey never prints, logs or marshals its secret.
//
// # Layouts
//
// A signature is stored in one or both of the layouts cosign reads:
//
//   - classic: the image HOST/REPO@sha256:H is signed by the manifest tagged
//     sha256-H.sig in the same repository, one layer per signature. Each layer is a
//     simple-signing payload (application/vnd.dev.cosign.simplesigning.v1+json) naming
//     the image's digest, and its annotation dev.cosignproject.cosign/signature holds the
//     base64 ECDSA signature over the layer's exact bytes. Attestations live at
//     sha256-H.att, one DSSE envelope per layer.
//   - bundle: a Sigstore bundle v0.3 (application/vnd.dev.sigstore.bundle.v0.3+json) in an
//     OCI 1.1 referrer manifest whose subject is the image. The bundle holds a DSSE
//     envelope over an in-toto statement about the digest: predicate type
//     https://sigstore.dev/cosign/sign/v1 for a signature, the attested type otherwise.
//     Registries without the referrers API get the sha256-H index tag instead.
//
// # Verification
//
// A Verifier cannot be built without a key. Verify resolves a tag to its digest once and
// checks everything against that digest: the signature over the exact payload bytes,
// the payload's digest binding and type, and any annotations the caller requires. A
// check that fails is a *VerifyError (errors.Is ErrNotVerified): "verified: no", with a
// reason per signature looked at. Anything that stops the check itself (registry
// unreachable, unauthorized, unreadable key) is another error: "could not check".
//
// Every blob read from a registry is bounded (Limits) and its digest checked before it
// is parsed.
package sign
