package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// MaxBody bounds an AdmissionReview request body. The API server's own limit on an
// object is 3 MiB (etcd's request limit rounded), so a larger body is no real request.
const MaxBody = 3 << 20

// The AdmissionReview version this webhook speaks.
const (
	reviewAPIVersion = "admission.k8s.io/v1"
	reviewKind       = "AdmissionReview"
)

// badRequest is a request that is not an AdmissionReview this webhook can answer: it
// gets HTTP 400, which the API server treats as a webhook failure (denied under
// failurePolicy: Fail).
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// readReview reads and checks an AdmissionReview request: POST, JSON, at most MaxBody
// bytes, apiVersion admission.k8s.io/v1, kind AdmissionReview, a request with a UID.
func readReview(r *http.Request) (*admissionv1.AdmissionReview, error) {
	if r.Method != http.MethodPost {
		return nil, badf("method %s: an AdmissionReview is POSTed", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, badf("content type %q: want application/json", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, badf("reading the body: %v", err)
	}
	if len(body) > MaxBody {
		return nil, badf("body over %d bytes", MaxBody)
	}
	return decodeReview(body)
}

// decodeReview parses an AdmissionReview request body.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var rev admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &rev); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, badf("malformed JSON at byte %d", se.Offset)
		}
		return nil, badf("not an AdmissionReview: %s", clip(err.Error(), 200))
	}
	if rev.APIVersion != reviewAPIVersion || rev.Kind != reviewKind {
		return nil, badf("apiVersion %q kind %q: want %s %s", clip(rev.APIVersion, 60), clip(rev.Kind, 60), reviewAPIVersion, reviewKind)
	}
	if rev.Request == nil {
		return nil, badf("AdmissionReview without a request")
	}
	if rev.Request.UID == "" {
		return nil, badf("AdmissionReview request without a uid")
	}
	if len(rev.Request.UID) > 128 {
		return nil, badf("AdmissionReview request uid longer than 128 bytes")
	}
	return &rev, nil
}

// response wraps an answer in the AdmissionReview the API server expects back.
func response(uid types.UID, resp *admissionv1.AdmissionResponse) *admissionv1.AdmissionReview {
	resp.UID = uid
	return &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: reviewAPIVersion, Kind: reviewKind},
		Response: resp,
	}
}

// deny is a refusal with the message kubectl shows after "denied the request: ".
func deny(msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg,
	}}
}

// clip shortens s to at most n bytes on a character boundary, for messages that quote
// hostile input.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if i > n {
			break
		}
		cut = i
	}
	return s[:cut] + "…"
}
