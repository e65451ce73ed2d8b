package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// retryCodes are the HTTP statuses a registry request is retried on.
var retryCodes = []int{http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
	http.StatusGatewayTimeout}

func openRegistry(ctx context.Context, im *Image, ref string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return newErr(ErrInvalidRef, im.ref, "write it as [host/]repository[:tag|@digest]", err)
	}
	host := r.Context().RegistryStr()
	insecure := im.opts.isInsecure(host)
	if insecure {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return newErr(ErrInvalidRef, im.ref, "", err)
		}
	}
	rc := &registryClient{ref: im.ref, host: host, repo: r.Context(), opts: im.remoteOptions(insecure, host)}
	desc, err := remote.Get(r, rc.with(ctx)...)
	if err != nil {
		return rc.classify(err)
	}
	manifest, mediaType, digest := desc.Manifest, desc.MediaType, desc.Digest
	if mediaType.IsIndex() {
		idx, err := v1.ParseIndexManifest(strings.NewReader(string(manifest)))
		if err != nil {
			return newErr(ErrNotImage, im.ref, "", fmt.Errorf("index: %w", err))
		}
		child, err := im.pickPlatform(idx)
		if err != nil {
			return err
		}
		im.index = digest
		d, err := remote.Get(r.Context().Digest(child.Digest.String()), rc.with(ctx)...)
		if err != nil {
			return rc.classify(err)
		}
		manifest, mediaType, digest = d.Manifest, d.MediaType, d.Digest
	}
	if mediaType == types.DockerManifestSchema1 || mediaType == types.DockerManifestSchema1Signed {
		return newErr(ErrNotImage, im.ref, "schema 1 manifests are obsolete: rebuild and push the image", nil)
	}
	m, err := parseManifest(im.ref, manifest)
	if err != nil {
		return err
	}
	cfg, err := rc.smallBlob(ctx, m.Config.Digest, im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return err
	}
	im.digest = digest
	srcs := make([]layerSource, len(m.Layers))
	for i, l := range m.Layers {
		srcs[i] = layerSource{open: func(ctx context.Context) (io.ReadCloser, error) { return rc.blob(ctx, l.Digest) }}
	}
	return im.setImage(cfg, m.Layers, srcs)
}

func (o Options) isInsecure(host string) bool {
	for _, h := range o.InsecureRegistries {
		if strings.EqualFold(strings.TrimSuffix(h, "/"), host) {
			return true
		}
	}
	return false
}

func (im *Image) remoteOptions(insecure bool, host string) []remote.Option {
	b := im.opts.Retry
	var rt = im.opts.Transport
	if !insecure {
		rt = httpsOnly{rt}
	}
	return []remote.Option{
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(im.opts.Keychain),
		remote.WithRetryBackoff(remote.Backoff{Duration: b.Duration, Factor: b.Factor, Jitter: b.Jitter, Steps: b.Steps}),
		remote.WithRetryStatusCodes(retryCodes...),
		remote.WithUserAgent("charter"),
	}
}

// errPlainHTTP stops a request to a registry that was not declared insecure from going
// out over plain HTTP (the registry library would otherwise fall back to HTTP for
// loopback and private addresses).
var errPlainHTTP = errors.New("refusing plain HTTP")

type httpsOnly struct{ next http.RoundTripper }

func (t httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return nil, fmt.Errorf("%s: %w", req.URL.Host, errPlainHTTP)
	}
	return t.next.RoundTrip(req)
}

// registryClient fetches blobs of one repository and turns failures into *Error.
type registryClient struct {
	ref, host string
	repo      name.Repository
	opts      []remote.Option
}

func (c *registryClient) with(ctx context.Context) []remote.Option {
	return append(c.opts[:len(c.opts):len(c.opts)], remote.WithContext(ctx))
}

func (c *registryClient) blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	l, err := remote.Layer(c.repo.Digest(h.String()), c.with(ctx)...)
	if err != nil {
		return nil, c.classify(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, c.classify(err)
	}
	return rc, nil
}

func (c *registryClient) smallBlob(ctx context.Context, h v1.Hash, maxBytes int64) ([]byte, error) {
	rc, err := c.blob(ctx, h)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, maxBytes+1))
	if err != nil {
		return nil, c.classify(err)
	}
	if int64(len(b)) > maxBytes {
		return nil, newErr(ErrLimit, c.ref, "", fmt.Errorf("config is over %d bytes (Limits.MaxConfigBytes)", maxBytes))
	}
	if err := checkDigest(b, h); err != nil {
		return nil, withRef(err, c.ref, ErrCorrupt)
	}
	return b, nil
}

// classify maps a registry failure to the kind a user acts on, with the next step.
func (c *registryClient) classify(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return newErr(ErrNotFound, c.ref, "check the repository and tag", err)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return newErr(ErrUnauthorized, c.ref, c.loginHint(), err)
			}
		}
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return newErr(ErrUnauthorized, c.ref, c.loginHint(), err)
		case te.StatusCode == http.StatusNotFound:
			return newErr(ErrNotFound, c.ref, "check the repository and tag", err)
		case te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500:
			return newErr(ErrUnreachable, c.ref, "the registry kept failing after retries; try again later", err)
		}
		return newErr(ErrUnreachable, c.ref, "", err)
	}
	if msg := err.Error(); strings.Contains(msg, "credential") || strings.Contains(msg, "credsStore") {
		return newErr(ErrUnauthorized, c.ref, "the Docker credential helper failed; run `docker login "+c.host+"` again or fix credsStore in ~/.docker/config.json", err)
	}
	if errors.Is(err, http.ErrSchemeMismatch) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return newErr(ErrUnreachable, c.ref, fmt.Sprintf("%s speaks plain HTTP; if you trust it, allow it with --insecure-registry %s", c.host, c.host), err)
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return newErr(ErrUnreachable, c.ref, "the registry's TLS certificate is not trusted; add its CA to the system trust store", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return newErr(ErrUnreachable, c.ref, "", err)
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		return newErr(ErrUnreachable, c.ref, "check the registry address and the network", err)
	}
	if errors.Is(err, errPlainHTTP) {
		// A redirect or token server on plain HTTP, the registry itself being HTTPS.
		return newErr(ErrUnreachable, c.ref, "the registry sent charter to a plain-HTTP address; allow that host with --insecure-registry only if you trust it", err)
	}
	return newErr(ErrUnreachable, c.ref, "", err)
}

func (c *registryClient) loginHint() string {
	return "log in with `docker login " + c.host + "`, or check the credential helper in ~/.docker/config.json"
}
