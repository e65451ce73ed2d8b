package image

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is a parsed registry reference with the options that reach it the way Open
// does: credentials from Options.Keychain, plain HTTP only for Options.InsecureRegistries,
// retries on 408, 429 and 5xx. Commands that write to a registry (signing, promotion) use
// it so that they authenticate, refuse plain HTTP and retry exactly as scanning does.
type Registry struct {
	// Ref is the parsed reference (insecure when its host is listed as such).
	Ref name.Reference
	// Options are the remote options for every request about Ref's repository; add
	// remote.WithContext per call.
	Options []remote.Option
	// NameOptions parse further references on the same registry (name.Insecure when
	// plain HTTP is allowed there).
	NameOptions []name.Option

	ref, host string
}

// ParseRegistry parses ref (with or without the "registry:" prefix) and returns it with
// the remote options that Open would use for it. Errors are *Error (ErrInvalidRef).
func ParseRegistry(ref string, opts Options) (*Registry, error) {
	opts = opts.withDefaults()
	display := ref
	ref = strings.TrimPrefix(ref, "registry:")
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, newErr(ErrInvalidRef, display, "write it as [host/]repository[:tag|@digest]", err)
	}
	host := r.Context().RegistryStr()
	insecure := opts.isInsecure(host)
	var nameOpts []name.Option
	if insecure {
		nameOpts = append(nameOpts, name.Insecure)
		if r, err = name.ParseReference(ref, nameOpts...); err != nil {
			return nil, newErr(ErrInvalidRef, display, "", err)
		}
	}
	im := &Image{opts: opts}
	return &Registry{Ref: r, Options: im.remoteOptions(insecure, host), NameOptions: nameOpts, ref: display, host: host}, nil
}

// Error turns a failure of a request about this reference into an *Error of the right
// kind (not found, unauthorized, unreachable…) whose message says what to do next.
func (r *Registry) Error(err error) error {
	if err == nil {
		return nil
	}
	c := &registryClient{ref: r.ref, host: r.host, repo: r.Ref.Context()}
	return c.classify(err)
}
