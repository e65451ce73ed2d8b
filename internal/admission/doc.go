// Package admission is charter's Kubernetes admission webhook: an HTTPS server for
// AdmissionReview v1 that admits a pod (or any workload with a pod template) only when
// every image is signed by one of the charter file's keys, resolved to the digest that
// was verified, and the pod passes the MAN and Pod Security Standards checks the charter
// file asks for.
//
// /validate answers allowed or denied, with a message that says why and how to fix it.
// /mutate rewrites image tags to the digests it verified, so what was verified is what
// the kubelet pulls. Verdicts are cached by reference and digest for a TTL; concurrent
// requests for one image share one registry lookup; the registry work for a request is
// bounded by a timeout past which the namespace's failure policy decides (closed, by
// default: deny).
//
// Every decision is one JSON audit line (images and reasons, nothing secret), and
// /metrics exposes latency, decisions, cache hits and misses, and registry errors.
package admission
