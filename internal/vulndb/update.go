package vulndb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// UpdateOptions tune Update; the zero value is ready to use.
type UpdateOptions struct {
	// HTTPClient fetches URL sources (default: a client with a 30-minute timeout that
	// refuses to follow redirects to plain http).
	HTTPClient *http.Client
	// Logger receives progress and warnings at debug and info level (default: none).
	Logger *slog.Logger
	// Progress, when set, is called every few thousand records with the source name and
	// the records read so far.
	Progress func(source string, records int)
	// Limits override DefaultLimits.
	Limits *Limits
	// Full imports every source whole, even where modified_id.csv allows an
	// incremental update.
	Full bool
	// InsecureHTTP allows plain-http URL sources on hosts other than loopback.
	InsecureHTTP bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ImportStats says what an update read from one source and what it left out.
type ImportStats struct {
	Source      string `json:"source"`
	Incremental bool   `json:"incremental,omitempty"`
	// Read counts documents read; Imported those stored; Withdrawn those skipped or
	// removed because they were withdrawn.
	Read      int `json:"read"`
	Imported  int `json:"imported"`
	Withdrawn int `json:"withdrawn"`
	// Skipped counts records and affected entries left out, by reason (Skip* consts).
	Skipped map[string]int `json:"skipped,omitempty"`
	// UnknownEcosystems counts affected entries of ecosystems charter cannot order.
	UnknownEcosystems map[string]int `json:"unknownEcosystems,omitempty"`
	// Examples are the first few warnings in full ("unparseable range: GHSA-…: …").
	Examples []string `json:"examples,omitempty"`
	// mu guards the warnings while an import's feed and writer both report them.
	mu *sync.Mutex
}

// Warnings is the number of things left out.
func (s *ImportStats) Warnings() int {
	n := 0
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

func (s *ImportStats) warn(reason, detail string) {
	if s.mu != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason]++
	if reason == SkipUnknownEco {
		if s.UnknownEcosystems == nil {
			s.UnknownEcosystems = map[string]int{}
		}
		if _, ok := s.UnknownEcosystems[detail]; ok || len(s.UnknownEcosystems) < maxUnknownEco {
			s.UnknownEcosystems[detail]++
		}
		return
	}
	if len(s.Examples) < maxExamples {
		ex := reason
		if detail != "" {
			ex += ": " + detail
		}
		s.Examples = append(s.Examples, ex)
	}
}

// UpdateResult is what Update did.
type UpdateResult struct {
	Status  Status        `json:"status"`
	Sources []ImportStats `json:"sources"`
}

// Update imports the sources into the database in dir, replacing what each source
// brought before and keeping the other sources' records. The new database is built in
// a temporary file beside the current one, checked, and renamed over it: until the
// rename the current database is untouched, so a crash, a full disk, a bad download or
// a hostile archive leaves it as it was. Updates of one dir are serialised by a lock.
func Update(ctx context.Context, dir string, opts UpdateOptions, sources ...Source) (*UpdateResult, error) {
	if len(sources) == 0 {
		return nil, errors.New("no source to update from")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil { //nolint:gosec // G703: the cache directory the user configured
		return nil, err
	}
	unlock, err := lockDir(ctx, filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	defer unlock()
	removeLeftovers(dir)
	u := newUpdater(dir, &opts)
	tmp, err := u.build(ctx, sources)
	if err != nil {
		if tmp != "" {
			discard(tmp)
		}
		return nil, err
	}
	if err := u.verify(tmp); err != nil {
		discard(tmp)
		return nil, fmt.Errorf("new database failed its check, the current one is kept: %w", err)
	}
	if err := replace(tmp, filepath.Join(dir, dbFile)); err != nil {
		discard(tmp)
		return nil, err
	}
	u.result.Status.Path = filepath.Join(dir, dbFile)
	return &u.result, nil
}

// removeLeftovers deletes what a killed update left behind; the caller holds the lock,
// so no running update owns them.
func removeLeftovers(dir string) {
	for _, pat := range []string{tmpPrefix + "*", dlPrefix + "*"} {
		ms, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range ms {
			discard(m)
		}
	}
}

// discard removes a temporary file of an update; paths are built from the database
// directory and the update's own file names.
func discard(path string) {
	_ = os.Remove(path) //nolint:gosec // G703: see above
}

// replace renames the verified file into place and makes the rename durable.
func replace(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil { //nolint:gosec // G703: both in the database directory
		return fmt.Errorf("install new database: %w", err)
	}
	d, err := os.Open(filepath.Dir(dst)) //nolint:gosec // G703: the database directory
	if err != nil {
		return nil // the rename happened; only its durability is unconfirmed
	}
	defer func() { _ = d.Close() }()
	_ = d.Sync()
	return nil
}

type updater struct {
	dir    string
	opts   *UpdateOptions
	lim    Limits
	log    *slog.Logger
	result UpdateResult
}

func newUpdater(dir string, opts *UpdateOptions) *updater {
	u := &updater{dir: dir, opts: opts, lim: DefaultLimits(), log: opts.Logger}
	if opts.Limits != nil {
		u.lim = *opts.Limits
	}
	if u.log == nil {
		u.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Minute}
	}
	return u
}

// build writes the new database into a temporary file and returns its path.
func (u *updater) build(ctx context.Context, sources []Source) (string, error) {
	tmp, prev, err := u.startFrom(filepath.Join(u.dir, dbFile))
	if err != nil {
		return tmp, err
	}
	b, err := bolt.Open(tmp, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, Timeout: time.Second})
	if err != nil {
		return tmp, fmt.Errorf("create database: %w", err)
	}
	err = u.fill(ctx, b, prev, sources)
	if err == nil {
		err = b.Sync() // one fsync for the whole build
	}
	if cerr := b.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return tmp, err
}

func (u *updater) fill(ctx context.Context, b *bolt.DB, prev Status, sources []Source) error {
	if err := b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketRecords, bucketIndex, bucketIDs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(schemaVersion))
	}); err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	byName := map[string]SourceStatus{}
	for _, s := range prev.Sources {
		byName[s.Name] = s
	}
	for _, src := range sources {
		var last *SourceStatus
		if s, ok := byName[src.name()]; ok && s.Location == src.Location {
			last = &s
		}
		st, stats, err := u.importSource(ctx, b, src, last)
		u.result.Sources = append(u.result.Sources, stats)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.name(), err)
		}
		byName[st.Name] = st
	}
	status, err := u.writeStatus(b, byName)
	u.result.Status = status
	return err
}

// startFrom copies the current database (when there is a usable one) to a new
// temporary file, so that sources not being updated keep their records.
func (u *updater) startFrom(cur string) (string, Status, error) {
	tmp := filepath.Join(u.dir, tmpPrefix+randomSuffix())
	old, err := bolt.Open(cur, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if errors.Is(err, fs.ErrNotExist) {
		return tmp, Status{}, nil
	}
	if err != nil {
		u.log.Warn("current vulnerability database is unreadable; building a new one", "path", cur, "err", err)
		return tmp, Status{}, nil
	}
	defer func() { _ = old.Close() }()
	st, err := readStatus(old)
	if err != nil {
		u.log.Warn("current vulnerability database is unusable; building a new one", "path", cur, "err", err)
		return tmp, Status{}, nil
	}
	if err := old.View(func(tx *bolt.Tx) error { return tx.CopyFile(tmp, 0o600) }); err != nil {
		return tmp, Status{}, fmt.Errorf("copy current database: %w", err)
	}
	return tmp, st, nil
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeStatus counts the records and writes the status the verifier checks against.
func (u *updater) writeStatus(b *bolt.DB, sources map[string]SourceStatus) (Status, error) {
	st := Status{Schema: schemaVersion, Built: u.opts.Now().UTC(), Ecosystems: map[string]int{}}
	for _, s := range sources {
		st.Sources = append(st.Sources, s)
	}
	sort.Slice(st.Sources, func(i, j int) bool { return st.Sources[i].Name < st.Sources[j].Name })
	err := b.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRecords).ForEach(func(_, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			st.Records++
			seen := map[string]bool{}
			for _, k := range r.Keys {
				eco := keyEcosystem(k)
				if !seen[eco] {
					seen[eco] = true
					st.Ecosystems[eco]++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		js, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyStatus, js)
	})
	if err != nil {
		return st, fmt.Errorf("write database status: %w", err)
	}
	return st, nil
}

func keyEcosystem(k string) string {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i]
		}
	}
	return k
}

// verify reopens the finished file and checks it before it replaces the current one:
// bbolt's own consistency check, the schema, the record count, every index and ID entry
// pointing at a stored record, and every updated source having records.
func (u *updater) verify(tmp string) error {
	b, err := bolt.Open(tmp, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer func() { _ = b.Close() }()
	st, err := readStatus(b)
	if err != nil {
		return err
	}
	if st.Records != u.result.Status.Records {
		return fmt.Errorf("status records %d, counted %d", st.Records, u.result.Status.Records)
	}
	return b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("consistency: %w", err)
		}
		recs := tx.Bucket(bucketRecords)
		if n := recs.Stats().KeyN; n != st.Records {
			return fmt.Errorf("%d records stored, status says %d", n, st.Records)
		}
		err := tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
			if rk := recordKeyOf(k); rk == nil || recs.Get(rk) == nil {
				return fmt.Errorf("index entry %q has no record", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			if rk := recordKeyOfName(k); rk == nil || recs.Get(rk) == nil {
				return fmt.Errorf("ID entry %q has no record", k)
			}
			return nil
		})
	})
}
