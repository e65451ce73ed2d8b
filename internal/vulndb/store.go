package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store is one bbolt file, vuln.db, in the database directory:
//
//	meta     "schema" → schemaVersion; "status" → Status as JSON
//	records  source NUL id → record (binary, see codec.go)
//	index    ecosystem key NUL package name NUL source NUL id → entry (binary, see codec.go)
//
// An update writes a new file beside it and renames it into place, so a reader sees
// the old database or the new one, never a mix.
const (
	schemaVersion = "charter.vulndb/4"
	dbFile        = "vuln.db"
	tmpPrefix     = "vuln.db.tmp-"
	dlPrefix      = "download-"
	lockFile      = "update.lock"
)

var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	bucketIndex   = []byte("index")
	// bucketIDs finds records by ID or alias: NAME\x00SOURCE\x00ID → nothing, one key
	// per name a record goes by (its ID and each alias).
	bucketIDs = []byte("ids")
	keySchema = []byte("schema")
	keyStatus = []byte("status")
)

// ErrNoDatabase is returned by Open when no database has been built yet.
var ErrNoDatabase = errors.New("no vulnerability database")

// ErrCorrupt is returned by Open when the database file cannot be used.
var ErrCorrupt = errors.New("vulnerability database is unreadable")

// DefaultDir is where the database lives: $CHARTER_CACHE_DIR/vulndb, else the user
// cache directory's charter/vulndb (~/.cache/charter/vulndb on Linux).
func DefaultDir() (string, error) {
	if d := os.Getenv("CHARTER_CACHE_DIR"); d != "" {
		return filepath.Join(d, "vulndb"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set CHARTER_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "charter", "vulndb"), nil
}

// DB is an open, read-only vulnerability database. It is safe for concurrent use.
type DB struct {
	bolt   *bolt.DB
	path   string
	status Status
	cache  cache
}

// Status describes a database: when it was built, from what, and what it holds.
type Status struct {
	Schema string    `json:"schema"`
	Built  time.Time `json:"built"`
	// Path is the database file (filled by Open).
	Path    string         `json:"path,omitempty"`
	Sources []SourceStatus `json:"sources"`
	// Records counts stored advisories (a record listed by two sources counts twice).
	Records int `json:"records"`
	// Ecosystems counts advisories by OSV ecosystem, releases apart ("Debian:12").
	Ecosystems map[string]int `json:"ecosystems"`
}

// SourceStatus is one source's state after its last import.
type SourceStatus struct {
	Name     string    `json:"name"`
	Location string    `json:"location"`
	Updated  time.Time `json:"updated"`
	Records  int       `json:"records"`
	// Incremental is true when the last import fetched only changed records.
	Incremental bool `json:"incremental,omitempty"`
	// Cursor is the newest modification time in the source's modified_id.csv at the
	// last import: the next update fetches what changed after it.
	Cursor string `json:"cursor,omitempty"`
}

// StaleAfter is the age past which scans warn that the database is out of date.
const StaleAfter = 24 * time.Hour

// Age is how old the database is at now.
func (s Status) Age(now time.Time) time.Duration { return now.Sub(s.Built) }

// Stale reports whether the database is older than StaleAfter at now.
func (s Status) Stale(now time.Time) bool { return s.Age(now) > StaleAfter }

// Open opens the database in dir for matching. With no database it returns an error
// wrapping ErrNoDatabase; with an unusable one, ErrCorrupt.
func Open(dir string) (*DB, error) {
	path := filepath.Join(dir, dbFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: run `charter db update` to build one", ErrNoDatabase, dir)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w; run `charter db update` to rebuild it", ErrCorrupt, path, err)
	}
	st, err := readStatus(b)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("%w: %s: %w; run `charter db update` to rebuild it", ErrCorrupt, path, err)
	}
	st.Path = path
	return &DB{bolt: b, path: path, status: st}, nil
}

// Close releases the database file.
func (db *DB) Close() error { return db.bolt.Close() }

// Status returns what the database holds and when it was built.
func (db *DB) Status() Status { return db.status }

func readStatus(b *bolt.DB) (Status, error) {
	var st Status
	err := b.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || tx.Bucket(bucketRecords) == nil || tx.Bucket(bucketIndex) == nil || tx.Bucket(bucketIDs) == nil {
			return errors.New("missing buckets")
		}
		if got := string(meta.Get(keySchema)); got != schemaVersion {
			return fmt.Errorf("built in format %q, this charter reads %q", got, schemaVersion)
		}
		return json.Unmarshal(meta.Get(keyStatus), &st)
	})
	return st, err
}
