package vulndb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// importSource brings one source's records into b: incrementally when the source has a
// modified_id.csv and the last import left a cursor, else whole (replacing every record
// the source brought before).
func (u *updater) importSource(ctx context.Context, b *bolt.DB, src Source, last *SourceStatus) (SourceStatus, ImportStats, error) {
	stats := ImportStats{Source: src.name(), mu: &sync.Mutex{}}
	st := SourceStatus{Name: src.name(), Location: src.Location, Updated: u.opts.Now().UTC()}
	if strings.ContainsRune(st.Name, 0) || src.Location == "" {
		return st, stats, errors.New("a source needs a location and a name without NUL")
	}
	f, err := openFeed(src, &feedConfig{
		lim: &u.lim, warn: stats.warn, client: u.opts.HTTPClient, tmpDir: u.dir, insecureHTTP: u.opts.InsecureHTTP,
	})
	if err != nil {
		return st, stats, err
	}
	defer func() { _ = f.close() }()
	csv, err := f.modified(ctx)
	if err != nil {
		return st, stats, err
	}
	w := &writer{db: b, src: st.Name, lim: &u.lim, stats: &stats, progress: u.opts.Progress}
	defer w.rollback()
	var cursor time.Time
	if last != nil && last.Cursor != "" && !u.opts.Full {
		cursor, _ = time.Parse(time.RFC3339Nano, last.Cursor)
	}
	var rows []csvRow
	var newest time.Time
	csvOK := false
	if csv != nil {
		rows, newest, csvOK = changedSince(csv, cursor, stats.warn)
	}
	if csvOK && !cursor.IsZero() && len(rows) <= u.lim.MaxIncremental {
		stats.Incremental, st.Incremental = true, true
		err = u.importRows(ctx, f, w, rows)
	} else {
		err = u.importAll(ctx, f, w)
	}
	if err == nil {
		err = w.commit()
	}
	if err != nil {
		return st, stats, err
	}
	if csvOK && !newest.IsZero() {
		st.Cursor = newest.UTC().Format(time.RFC3339Nano)
	}
	st.Records, err = countSource(b, st.Name)
	if err == nil && st.Records == 0 && !stats.Incremental {
		err = fmt.Errorf("no usable OSV record in %s (%d read); the database keeps its current records", src.Location, stats.Read)
	}
	u.log.Info("imported advisories", "source", st.Name, "records", st.Records, "read", stats.Read,
		"incremental", stats.Incremental, "skipped", stats.Warnings())
	return st, stats, err
}

func (u *updater) importAll(ctx context.Context, f feed, w *writer) error {
	if _, err := w.removeSource(); err != nil {
		return err
	}
	seen := map[string]bool{}
	return parseInParallel(ctx, f, w.lim, func(d *decoded) error {
		return w.store(d, seen)
	})
}

// decoded is one document read from a feed and parsed, with the warnings parsing gave.
type decoded struct {
	name  string
	data  []byte
	p     *parsed
	err   error
	warns [][2]string
	done  chan struct{}
}

// parseWorkers parse documents while the writer stores earlier ones: parsing (JSON,
// versions) is most of an import's work, and bbolt takes one writer.
const parseWorkers = 4

// parseInParallel reads the feed, parses its documents on parseWorkers goroutines and
// hands them to store one at a time, in the feed's order (so duplicates and warnings
// come out as a sequential import gives them). An error from store or the feed stops
// everything.
func parseInParallel(ctx context.Context, f feed, lim *Limits, store func(*decoded) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *decoded, 4*parseWorkers)
	order := make(chan *decoded, 4*parseWorkers)
	for range parseWorkers {
		go func() {
			for d := range jobs {
				d.p, d.err = parseOSV(d.data, lim, func(reason, detail string) {
					d.warns = append(d.warns, [2]string{reason, detail})
				})
				d.data = nil
				close(d.done)
			}
		}()
	}
	feedErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		feedErr <- f.all(ctx, func(name string, data []byte) error {
			d := &decoded{name: name, data: data, done: make(chan struct{})}
			select {
			case jobs <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case order <- d:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var storeErr error
	for d := range order {
		<-d.done
		if storeErr == nil {
			if storeErr = store(d); storeErr != nil {
				cancel()
			}
		}
	}
	if err := <-feedErr; storeErr == nil && err != nil {
		return err
	}
	return storeErr
}

func (u *updater) importRows(ctx context.Context, f feed, w *writer, rows []csvRow) error {
	seen := map[string]bool{}
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := f.one(ctx, r.id)
		var s *skip
		switch {
		case errors.As(err, &s):
			w.stats.warn(s.reason, s.detail)
			continue
		case errors.Is(err, fs.ErrNotExist):
			// listed but gone; OSV retires records by withdrawing them, so keep ours
			w.stats.warn("listed in modified_id.csv but missing", shorten(r.id))
			continue
		case err != nil:
			return err
		}
		if err := w.add(data, r.id, seen); err != nil {
			return err
		}
	}
	return nil
}

// writer stores records in batched write transactions.
type writer struct {
	db       *bolt.DB
	tx       *bolt.Tx
	src      string
	lim      *Limits
	stats    *ImportStats
	pending  int
	progress func(string, int)
}

func (w *writer) begin() error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.db.Begin(true)
	if err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	w.tx = tx
	return nil
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx, w.pending = nil, 0
	if err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	return nil
}

func (w *writer) rollback() {
	if w.tx != nil {
		_ = w.tx.Rollback()
		w.tx = nil
	}
}

func (w *writer) step() error {
	if w.pending++; w.pending >= batchRecords {
		return w.commit()
	}
	return nil
}

// add parses one document and stores, replaces or (when withdrawn) removes its record.
func (w *writer) add(data []byte, name string, seen map[string]bool) error {
	d := &decoded{name: name}
	d.p, d.err = parseOSV(data, w.lim, func(reason, detail string) {
		d.warns = append(d.warns, [2]string{reason, detail})
	})
	return w.store(d, seen)
}

// store stores, replaces or (when withdrawn) removes a parsed document's record.
func (w *writer) store(d *decoded, seen map[string]bool) error {
	w.stats.Read++
	if w.progress != nil && w.stats.Read%5000 == 0 {
		w.progress(w.src, w.stats.Read)
	}
	for _, wr := range d.warns {
		w.stats.warn(wr[0], wr[1])
	}
	p, err, name := d.p, d.err, d.name
	var s *skip
	if errors.As(err, &s) {
		w.stats.warn(s.reason, shorten(name)+": "+s.detail)
		return nil
	}
	if err != nil {
		return err
	}
	if seen[p.rec.ID] {
		w.stats.warn(SkipDuplicate, p.rec.ID)
	}
	seen[p.rec.ID] = true
	if err := w.begin(); err != nil {
		return err
	}
	if err := w.remove(p.rec.ID); err != nil {
		return err
	}
	if p.withdrawn {
		w.stats.Withdrawn++
		return w.step()
	}
	if err := w.put(p); err != nil {
		return err
	}
	w.stats.Imported++
	return w.step()
}

func recordKey(src, id string) []byte { return []byte(src + "\x00" + id) }

// recordKeyOf returns the records-bucket key an index key points at.
func recordKeyOf(indexKey []byte) []byte {
	parts := bytes.Split(indexKey, []byte{0})
	if len(parts) != 4 {
		return nil
	}
	k := make([]byte, 0, len(parts[2])+1+len(parts[3]))
	return append(append(append(k, parts[2]...), 0), parts[3]...)
}

// recordKeyOfName returns the records-bucket key an ID entry points at.
func recordKeyOfName(idKey []byte) []byte {
	_, rest, ok := bytes.Cut(idKey, []byte{0})
	if !ok || bytes.Count(rest, []byte{0}) != 1 {
		return nil
	}
	return rest
}

// idKeys are the keys of a record's ID entries: its ID and each alias, once.
func idKeys(src string, r *record) [][]byte {
	out := [][]byte{[]byte(r.ID + "\x00" + src + "\x00" + r.ID)}
	seen := map[string]bool{r.ID: true}
	for _, a := range r.Aliases {
		if seen[a] || a == "" || strings.IndexByte(a, 0) >= 0 {
			continue
		}
		seen[a] = true
		out = append(out, []byte(a+"\x00"+src+"\x00"+r.ID))
	}
	return out
}

func (w *writer) put(p *parsed) error {
	recs, idx, ids := w.tx.Bucket(bucketRecords), w.tx.Bucket(bucketIndex), w.tx.Bucket(bucketIDs)
	for _, k := range p.rec.Keys {
		if err := idx.Put([]byte(k+"\x00"+w.src+"\x00"+p.rec.ID), encodeEntry(p.entries[k])); err != nil {
			return fmt.Errorf("write database: %w", err)
		}
	}
	for _, n := range idKeys(w.src, &p.rec) {
		if err := ids.Put(n, nil); err != nil {
			return fmt.Errorf("write database: %w", err)
		}
	}
	if err := recs.Put(recordKey(w.src, p.rec.ID), encodeRecord(&p.rec)); err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	return nil
}

// remove deletes a record of this source and its index entries, if stored.
func (w *writer) remove(id string) error {
	recs, idx := w.tx.Bucket(bucketRecords), w.tx.Bucket(bucketIndex)
	rk := recordKey(w.src, id)
	v := recs.Get(rk)
	if v == nil {
		return nil
	}
	r, err := decodeRecord(v)
	if err != nil {
		return fmt.Errorf("stored record %s: %w", id, err)
	}
	for _, k := range r.Keys {
		if err := idx.Delete([]byte(k + "\x00" + w.src + "\x00" + id)); err != nil {
			return err
		}
	}
	ids := w.tx.Bucket(bucketIDs)
	for _, n := range idKeys(w.src, &r) {
		if err := ids.Delete(n); err != nil {
			return err
		}
	}
	return recs.Delete(rk)
}

// removeSource deletes every record this source brought, in batches.
func (w *writer) removeSource() (int, error) {
	prefix := []byte(w.src + "\x00")
	total := 0
	for {
		if err := w.begin(); err != nil {
			return total, err
		}
		var ids []string
		c := w.tx.Bucket(bucketRecords).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(ids) < batchRecords; k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		for _, id := range ids {
			if err := w.remove(id); err != nil {
				return total, err
			}
		}
		total += len(ids)
		if err := w.commit(); err != nil || len(ids) < batchRecords {
			return total, err
		}
	}
}

func countSource(b *bolt.DB, src string) (int, error) {
	prefix := []byte(src + "\x00")
	n := 0
	err := b.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}
