package image

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options tune Open and Walk. The zero value is ready to use.
type Options struct {
	// Platform picks an image from a multi-platform index: "linux/arm64", "linux/arm/v7".
	// Default: linux on the host's architecture.
	Platform string
	// InsecureRegistries lists registries (host or host:port) that may be reached over
	// plain HTTP. Every other registry must speak HTTPS, loopback ones included.
	InsecureRegistries []string
	// Keychain supplies registry credentials. Default: authn.DefaultKeychain, which reads
	// $DOCKER_CONFIG/config.json or ~/.docker/config.json and its credential helpers.
	Keychain authn.Keychain
	// Transport is the HTTP transport for registries. Default: http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the backoff for registry requests that fail with 408, 429, 5xx or a
	// temporary network error. Default: 5 tries, from 500ms doubling, with jitter.
	Retry *Backoff
	// CacheDir holds the per-layer cache and scratch files. Default: $CHARTER_CACHE_DIR,
	// else the user cache directory + "/charter".
	CacheDir string
	// NoCache reads every layer even when the cache knows it, and writes nothing to it.
	NoCache bool
	// Limits bound the work a hostile image can cause.
	Limits Limits
	// Jobs is how many layers Walk reads at once. Default: 2.
	Jobs int
	// Progress, when set, is told how far each layer has been read. Calls never overlap.
	Progress func(Progress)
	// Logger receives diagnostics (a cache that cannot be written, a retry). Default:
	// discarded.
	Logger *slog.Logger
	// Getenv reads DOCKER_HOST, CONTAINER_HOST, CHARTER_CACHE_DIR, XDG_RUNTIME_DIR.
	// Default: os.Getenv. The CLI passes its injected environment.
	Getenv func(string) string
}

// Backoff is the retry schedule for registry requests: Steps tries, waiting Duration,
// then Duration×Factor… each wait stretched by up to Jitter×itself at random.
type Backoff struct {
	Duration time.Duration
	Factor   float64
	Jitter   float64
	Steps    int
}

// Progress is one report on reading a layer.
type Progress struct {
	Layer  int
	DiffID v1.Hash
	Total  int64 // blob bytes; -1 when unknown
	Done   int64 // blob bytes read so far
	Cached bool  // served from the layer cache; nothing was read
	// Finished is set on the last report of a layer.
	Finished bool
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Retry == nil {
		o.Retry = &Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 5}
	}
	if o.Jobs <= 0 {
		o.Jobs = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// cacheDir is the directory for the layer cache and scratch files.
func (o Options) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	if d := o.Getenv("CHARTER_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set CHARTER_CACHE_DIR (%w)", err)
	}
	return d + string(os.PathSeparator) + "charter", nil
}

func (o Options) platform() (v1.Platform, error) {
	if o.Platform == "" {
		p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		if p.Architecture == "arm" {
			p.Variant = "v7"
		}
		return p, nil
	}
	p, err := v1.ParsePlatform(o.Platform)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], such as linux/arm64", o.Platform)
	}
	return *p, nil
}

// Image is an opened image: its config and the list of its layers, ready to Walk.
// Close it to release the files and connections it holds.
type Image struct {
	ref       string
	scheme    string
	digest    v1.Hash
	index     v1.Hash // the image index the reference named, when it named one
	rawConfig []byte
	config    *v1.ConfigFile
	layers    []*Layer // metadata only
	sources   []layerSource
	root      *os.Root // dir: only
	opts      Options
	cache     *cache
	closers   []func() error
	closeMu   sync.Mutex // closers grows during Walk when a daemon export is lazy
	progMu    sync.Mutex
}

// layerSource opens one layer's blob as stored.
type layerSource struct {
	open func(ctx context.Context) (io.ReadCloser, error)
}

// Ref is the reference Open was given.
func (im *Image) Ref() string { return im.ref }

// Scheme is the source the reference resolved to: "registry", "docker", "podman",
// "docker-archive", "oci-dir", "oci-archive" or "dir".
func (im *Image) Scheme() string { return im.scheme }

// Digest is the manifest digest, zero when the source has none (docker-archive, dir:).
func (im *Image) Digest() v1.Hash { return im.digest }

// IndexDigest is the digest of the image index (multi-platform image) the reference
// named and Digest's image was picked from; "" when the reference named an image.
func (im *Image) IndexDigest() string {
	if im.index.Hex == "" {
		return ""
	}
	return im.index.String()
}

// ConfigFile is the parsed image config; nil for dir:.
func (im *Image) ConfigFile() *v1.ConfigFile { return im.config }

// RawConfig is the config exactly as stored; nil for dir:.
func (im *Image) RawConfig() []byte { return im.rawConfig }

// Layers describes the layers, lowest first, before any Walk: index, digests, media
// type, size and history entry.
func (im *Image) Layers() []Layer {
	out := make([]Layer, len(im.layers))
	for i, l := range im.layers {
		out[i] = *l
	}
	return out
}

// Close releases what Open acquired (open archives, scratch files).
func (im *Image) Close() error {
	im.closeMu.Lock()
	defer im.closeMu.Unlock()
	var first error
	for i := len(im.closers) - 1; i >= 0; i-- {
		if err := im.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	im.closers = nil
	return first
}

func (im *Image) progress(p Progress) {
	if im.opts.Progress == nil {
		return
	}
	im.progMu.Lock()
	defer im.progMu.Unlock()
	im.opts.Progress(p)
}

// The source schemes a reference may start with.
const (
	SchemeRegistry      = "registry"
	SchemeDocker        = "docker"
	SchemePodman        = "podman"
	SchemeDockerArchive = "docker-archive"
	SchemeOCIDir        = "oci-dir"
	SchemeOCIArchive    = "oci-archive"
	SchemeDir           = "dir"
)

var schemes = []string{SchemeRegistry, SchemeDocker, SchemePodman, SchemeDockerArchive,
	SchemeOCIDir, SchemeOCIArchive, SchemeDir}

// splitRef separates a scheme from the rest; a bare reference has scheme "".
func splitRef(ref string) (scheme, rest string) {
	for _, s := range schemes {
		if r, ok := strings.CutPrefix(ref, s+":"); ok {
			return s, r
		}
	}
	return "", ref
}

// Open resolves ref and reads what it takes to describe the image: the manifest (for a
// multi-platform index, the one for Options.Platform), the config and the list of
// layers. Layers themselves are read by Walk. Errors are *Error values.
func Open(ctx context.Context, ref string, opts Options) (*Image, error) {
	opts = opts.withDefaults()
	scheme, rest := splitRef(ref)
	if rest == "" {
		return nil, newErr(ErrInvalidRef, ref, "give an image name or a path after the scheme", nil)
	}
	im := &Image{ref: ref, scheme: scheme, opts: opts}
	var err error
	switch scheme {
	case SchemeRegistry:
		err = openRegistry(ctx, im, rest)
	case SchemeDocker:
		err = openDaemon(ctx, im, rest, dockerEngine)
	case SchemePodman:
		err = openDaemon(ctx, im, rest, podmanEngine)
	case SchemeDockerArchive:
		err = openDockerArchive(im, rest)
	case SchemeOCIDir:
		err = openOCIDir(im, rest)
	case SchemeOCIArchive:
		err = openOCIArchive(im, rest)
	case SchemeDir:
		err = openDir(im, rest)
	default:
		err = openBare(ctx, im, rest)
	}
	if err != nil {
		_ = im.Close()
		return nil, err
	}
	if !opts.NoCache && im.scheme != SchemeDir {
		dir, err := opts.cacheDir()
		if err == nil {
			im.cache, err = openCache(dir)
		}
		if err != nil {
			opts.Logger.Warn("layer cache disabled", "err", err)
		}
	}
	return im, nil
}

// openBare tries the Docker daemon, then the registry, as docker pull users expect.
func openBare(ctx context.Context, im *Image, ref string) error {
	if err := openDaemon(ctx, im, ref, dockerEngine); err == nil {
		im.scheme = SchemeDocker
		return nil
	}
	for _, c := range im.closers {
		_ = c()
	}
	im.closers = nil
	im.scheme = SchemeRegistry
	return openRegistry(ctx, im, ref)
}

// setImage fills the image from a parsed config and the layer blobs' descriptors.
// descs may be shorter than the diffIDs only when the source gives no descriptors
// (then each layer's digest and media type are unknown).
func (im *Image) setImage(rawConfig []byte, descs []v1.Descriptor, sources []layerSource) error {
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(rawConfig)))
	if err != nil {
		return newErr(ErrNotImage, im.ref, "", fmt.Errorf("image config: %w", err))
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) != len(sources) {
		return newErr(ErrCorrupt, im.ref, "", fmt.Errorf("config lists %d layers, the manifest %d", len(diffIDs), len(sources)))
	}
	hist := layerHistory(cfg.History, len(diffIDs))
	im.rawConfig, im.config, im.sources = rawConfig, cfg, sources
	im.layers = make([]*Layer, len(diffIDs))
	for i := range diffIDs {
		l := &Layer{Index: i, DiffID: diffIDs[i], Size: -1, History: hist[i]}
		if i < len(descs) {
			l.Digest, l.MediaType, l.Size = descs[i].Digest, descs[i].MediaType, descs[i].Size
		}
		im.layers[i] = l
	}
	return nil
}

// layerHistory maps layers to the history entries that made them. Entries marked
// empty_layer made no layer; when what is left does not line up one-to-one, no layer
// gets an entry rather than a wrong one.
func layerHistory(h []v1.History, n int) []*v1.History {
	out := make([]*v1.History, n)
	var made []*v1.History
	for i := range h {
		if !h[i].EmptyLayer {
			made = append(made, &h[i])
		}
	}
	if len(made) != n {
		return out
	}
	copy(out, made)
	return out
}

var knownLayerTypes = map[types.MediaType]bool{
	types.DockerLayer: true, types.DockerUncompressedLayer: true, types.OCILayer: true,
	types.OCIUncompressedLayer: true, types.OCILayerZStd: true,
	types.DockerForeignLayer: true, types.OCIRestrictedLayer: true, types.OCIUncompressedRestrictedLayer: true,
}
