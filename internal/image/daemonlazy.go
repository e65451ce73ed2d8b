package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fromCachedConfig sets the image up from a config cached on an earlier scan, when the
// daemon's image ID is that config's digest (the classic image store). The export then
// happens only if Walk needs a layer the layer cache lacks: a warm re-scan of a daemon
// image never exports it.
func (im *Image) fromCachedConfig(c *daemonClient, ref string, id v1.Hash, scratch string) bool {
	raw, ok := im.cachedConfig(id)
	if !ok {
		return false
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	n := len(cfg.RootFS.DiffIDs)
	lazy := &lazyExport{c: c, ref: ref, id: id, scratch: scratch, im: im}
	srcs := make([]layerSource, n)
	descs := make([]v1.Descriptor, n)
	for i := range srcs {
		srcs[i] = layerSource{open: func(ctx context.Context) (io.ReadCloser, error) { return lazy.open(ctx, i) }}
		descs[i].Size = -1
	}
	return im.setImage(raw, descs, srcs) == nil
}

// lazyExport exports a daemon image the first time one of its layers is needed.
type lazyExport struct {
	c       *daemonClient
	ref     string
	id      v1.Hash
	scratch string
	im      *Image
	once    sync.Once
	store   *tarStore
	layers  []string
	err     error
}

func (l *lazyExport) open(ctx context.Context, i int) (io.ReadCloser, error) {
	l.once.Do(func() { l.err = l.export(ctx) })
	if l.err != nil {
		return nil, l.err
	}
	if i >= len(l.layers) {
		return nil, fmt.Errorf("the export lists %d layers", len(l.layers))
	}
	rc, _, err := l.store.open(l.layers[i])
	return rc, err
}

func (l *lazyExport) export(ctx context.Context) error {
	if err := l.c.export(ctx, l.ref, l.scratch, l.im.opts.Limits.MaxImageBytes); err != nil {
		return err
	}
	s, err := openTarStore(l.scratch, l.im.opts.Limits.MaxFiles)
	if err != nil {
		return err
	}
	l.store = s
	l.im.closeMu.Lock()
	l.im.closers = append(l.im.closers, s.f.Close)
	l.im.closeMu.Unlock()
	raw, err := readAll(s, "manifest.json", l.im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return err
	}
	var ms []dockerManifest
	if err := decodeJSON("manifest.json", raw, &ms); err != nil {
		return err
	}
	if len(ms) != 1 {
		return fmt.Errorf("the export holds %d images", len(ms))
	}
	cfg, err := readAll(s, ms[0].Config, l.im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return err
	}
	if checkDigest(cfg, l.id) != nil {
		return &Error{Kind: ErrCorrupt, Hint: "the image changed while it was being read; scan again",
			Err: errors.New("the exported config is not the inspected image's")}
	}
	l.layers = ms[0].Layers
	return nil
}

// inspect returns the daemon's ID for an image (GET /images/{name}/json); zero when the
// engine's IDs are not config digests.
func (c *daemonClient) inspect(ctx context.Context, ref string) (v1.Hash, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/images/"+ref+"/json", nil)
	if err != nil {
		return v1.Hash{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return v1.Hash{}, newErr(ErrUnreachable, "", "", fmt.Errorf("%s: %w", c.host, err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return v1.Hash{}, c.apiError(resp)
	}
	var body struct {
		ID string `json:"Id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return v1.Hash{}, newErr(ErrUnreachable, "", "", fmt.Errorf("%s: image inspect: %w", c.host, err))
	}
	h, err := v1.NewHash(body.ID)
	if err != nil {
		return v1.Hash{}, nil
	}
	return h, nil
}
