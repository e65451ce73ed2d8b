package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Walk reads every layer once (or takes it from the layer cache), builds each layer's
// file index, serves the analyzers from the same pass, and squashes the layers into the
// final view. Layers are read Options.Jobs at a time; the result does not depend on it.
func (im *Image) Walk(ctx context.Context, analyzers ...Analyzer) (*Index, error) {
	if err := checkAnalyzers(analyzers); err != nil {
		return nil, err
	}
	b := &budget{}
	b.left.Store(im.opts.Limits.MaxImageBytes)
	layers := make([]*Layer, len(im.layers))
	errs := make([]error, len(im.layers))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, im.opts.Jobs)
	var wg sync.WaitGroup
	for i := range im.layers {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			layers[i], errs[i] = im.walkLayer(ctx, i, analyzers, b)
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	final, hidden := squash(layers)
	sort.Slice(hidden, func(i, j int) bool {
		a, b := hidden[i], hidden[j]
		if a.File.Layer != b.File.Layer {
			return a.File.Layer < b.File.Layer
		}
		return a.File.Path < b.File.Path
	})
	return &Index{Layers: layers, Hidden: hidden, final: final}, nil
}

// firstError prefers a real failure over the cancellations it caused in other layers.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (im *Image) walkLayer(ctx context.Context, i int, as []Analyzer, b *budget) (*Layer, error) {
	meta := im.layers[i]
	l := &Layer{Index: i, Digest: meta.Digest, DiffID: meta.DiffID, MediaType: meta.MediaType,
		Size: meta.Size, History: meta.History}
	if im.cache != nil && im.cache.load(l, as) {
		l.Cached = true
		im.progress(Progress{Layer: i, DiffID: l.DiffID, Total: l.Size, Done: l.Size, Cached: true, Finished: true})
		return l, nil
	}
	if err := im.readLayer(ctx, l, as, b); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, layerErr(im.ref, l, ErrCorrupt, err)
	}
	if im.cache != nil {
		if err := im.cache.store(l, as); err != nil {
			im.opts.Logger.Warn("layer cache not written", "layer", l.DiffID.String(), "err", err)
		}
	}
	return l, nil
}

// readLayer streams one layer: blob digest, decompression, diffID, tar index and
// analyzers, all in one pass.
func (im *Image) readLayer(ctx context.Context, l *Layer, as []Analyzer, b *budget) error {
	if im.root != nil {
		return im.walkDir(ctx, l, as)
	}
	rc, err := im.sources[l.Index].open(ctx)
	if err != nil {
		return err
	}
	pr := &progressReader{r: rc, ctx: ctx, im: im, p: Progress{Layer: l.Index, DiffID: l.DiffID, Total: l.Size}}
	s, err := openStream(readCloser{pr, rc}, &im.opts.Limits, b)
	if err != nil {
		_ = rc.Close()
		return err
	}
	defer func() { _ = s.Close() }()
	w := &layerWalk{lim: &im.opts.Limits, as: as, layer: l, records: make([][]Record, len(as))}
	if err := w.entries(ctx, tar.NewReader(s.raw)); err != nil {
		return err
	}
	blob, diffID, err := s.finish()
	if err != nil {
		return err
	}
	if err := verify(l, blob, diffID); err != nil {
		return err
	}
	for _, r := range w.records {
		l.Records = append(l.Records, r...)
	}
	pr.p.Finished = true
	im.progress(pr.p)
	return nil
}

func verify(l *Layer, blob, diffID v1.Hash) error {
	if l.Digest.Hex != "" && blob != l.Digest {
		return fmt.Errorf("blob digest is %s, the manifest says %s: the layer was altered or truncated", blob, l.Digest)
	}
	if l.DiffID.Hex != "" && diffID != l.DiffID {
		return fmt.Errorf("uncompressed digest is %s, the config says %s: the layer was altered", diffID, l.DiffID)
	}
	if l.Digest.Hex == "" {
		l.Digest = blob
	}
	if l.DiffID.Hex == "" {
		l.DiffID = diffID
	}
	return nil
}

// layerWalk is the state of one layer's pass over its tar entries.
type layerWalk struct {
	lim     *Limits
	as      []Analyzer
	layer   *Layer
	records [][]Record // per analyzer, so cached and fresh walks order them alike
	buf     []byte
	want    []int64
}

func (w *layerWalk) entries(ctx context.Context, tr entryReader) error {
	bld := newLayerBuilder(w.layer, *w.lim)
	w.want = make([]int64, len(w.as))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		i, err := bld.add(h)
		if err != nil {
			return &Error{Kind: ErrLimit, Err: err}
		}
		if i >= 0 && len(w.as) > 0 {
			if err := w.analyze(tr, w.layer.Files[i]); err != nil {
				return err
			}
		}
	}
}

// analyze asks each analyzer about f, reads the most content any of them wants (once),
// and hands each its share.
func (w *layerWalk) analyze(r io.Reader, f File) error {
	var most int64
	wanted := false
	for i, a := range w.as {
		ok, n := a.Need(&f)
		w.want[i] = -1
		if ok {
			wanted = true
			w.want[i] = min(max(n, 0), w.lim.MaxContent)
			most = max(most, w.want[i])
		}
	}
	if !wanted {
		return nil
	}
	var content []byte
	if f.Regular() && !f.Hardlink && most > 0 && f.Size > 0 {
		n := min(most, f.Size)
		if int64(cap(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		got, err := io.ReadFull(r, w.buf[:n])
		if err != nil {
			return fmt.Errorf("reading %s: %w", clip(f.Path), err)
		}
		content = w.buf[:got]
	}
	for i, a := range w.as {
		if w.want[i] < 0 {
			continue
		}
		c := content
		if int64(len(c)) > w.want[i] {
			c = c[:w.want[i]]
		}
		recs, err := a.Analyze(&f, c)
		if err != nil {
			return &Error{Kind: ErrAnalyzer, Err: fmt.Errorf("%s on %s: %w", a.ID(), clip(f.Path), err)}
		}
		for _, r := range recs {
			r.Analyzer, r.Layer, r.Path = a.ID(), f.Layer, f.Path
			w.records[i] = append(w.records[i], r)
		}
	}
	return nil
}

// progressReader reports blob bytes and stops reading when ctx is done.
type progressReader struct {
	r    io.Reader
	ctx  context.Context //nolint:containedctx // scoped to one layer read, never outlives it
	im   *Image
	p    Progress
	last int64
}

func (pr *progressReader) Read(b []byte) (int, error) {
	if err := pr.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := pr.r.Read(b)
	pr.p.Done += int64(n)
	if pr.p.Done-pr.last >= progressStep {
		pr.last = pr.p.Done
		pr.im.progress(pr.p)
	}
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}
