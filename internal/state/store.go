// Package state is an automation job's durable memory: checkpoints (a value by key) and
// idempotency records (a step claimed, then done or failed with a result), kept in one
// bbolt file so that a rerun after a crash skips what finished and reconciles what was in
// flight.
//
// A Store has one live owner at a time. The file is locked by the process that opens it,
// and `charter run` lends it to one attempt of its child at a time (killing what is left
// of an attempt before the next starts). So a claim held by another owner than the
// caller's belongs to an attempt that has stopped: its step may or may not have taken
// effect, and the next claim returns it for reconciling instead of running it blindly.
//
// The same operations are served over HTTP on a unix socket (Server) for jobs in any
// language, and reached from Go through Client.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Limits on what a job may store; they keep one careless write from filling the disk and
// every record small enough to read in one go.
const (
	MaxKey        = 1024    // bytes in a key
	MaxCheckpoint = 1 << 20 // bytes in a checkpoint value
	MaxResult     = 64 << 10
	lockTimeout   = 2 * time.Second
)

// Status is where a step stands.
type Status string

// Statuses of a step. A step is in flight from its claim until it is marked done or
// failed, released (it had no effect) or abandoned (its outcome is unknown).
const (
	InFlight Status = "in_flight"
	Done     Status = "done"
	Failed   Status = "failed"
)

// Record is the idempotency record of one step.
type Record struct {
	Key    string `json:"key"`
	Status Status `json:"status"`
	// Owner is the attempt holding an in-flight claim; "" once its outcome is unknown.
	Owner string `json:"owner,omitempty"`
	// Result is what a done step returned, or why a failed one failed.
	Result string `json:"result,omitempty"`
	// Claims counts how often the step was claimed, reconciling claims included.
	Claims     int       `json:"claims"`
	ClaimedAt  time.Time `json:"claimed_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Outcome is what a claim found.
type Outcome int

// Outcomes of Claim.
const (
	// Claimed: the step was never run; the caller owns it and runs it.
	Claimed Outcome = iota
	// Reconcile: the step was in flight when its attempt stopped. The caller owns it now
	// and must find out whether it took effect before running it again.
	Reconcile
	// Finished: the step is done or failed; the caller must not run it.
	Finished
	// Busy: the caller's own attempt holds the claim (a concurrent duplicate).
	Busy
)

func (o Outcome) String() string {
	switch o {
	case Claimed:
		return "claimed"
	case Reconcile:
		return "reconcile"
	case Finished:
		return "finished"
	case Busy:
		return "busy"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Errors callers branch on.
var (
	// ErrNotOwner: the caller tried to finish or release a step it does not hold.
	ErrNotOwner = errors.New("the step is not claimed by this attempt")
	// ErrInvalid: a key or value breaks the limits.
	ErrInvalid = errors.New("invalid key or value")
	// ErrLocked: another process holds the state file.
	ErrLocked = errors.New("the state file is in use by another run of the job")
)

var errNoBuckets = errors.New("no buckets")

var (
	bucketCheckpoints = []byte("checkpoints")
	bucketClaims      = []byte("claims")
)

// Store is an open state file.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

// Open opens or creates the state file at path (and its directory, private to the user).
// It fails with ErrLocked when another process has the file open.
func Open(path string) (*Store, error) { return open(path, false) }

// OpenEphemeral opens a store that lives only as long as the process: nothing is synced
// to disk, which saves a run without durable state the cost of several fsyncs.
func OpenEphemeral(path string) (*Store, error) { return open(path, true) }

func open(path string, noSync bool) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, NoSync: noSync, NoGrowSync: noSync})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state: %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	// Buckets are created once; a file that has them is not written to (and synced) at
	// every open.
	ready := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCheckpoints) == nil || tx.Bucket(bucketClaims) == nil {
			return errNoBuckets
		}
		return nil
	}) == nil
	if ready {
		return &Store{db: db, now: time.Now}, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCheckpoints, bucketClaims} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.db.Path() }

// CheckKey reports whether key is usable: 1 to MaxKey bytes of UTF-8.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKey || !utf8.ValidString(key) {
		return fmt.Errorf("%w: a key is 1 to %d bytes of UTF-8", ErrInvalid, MaxKey)
	}
	return nil
}

// Checkpoint returns the value saved under key.
func (s *Store) Checkpoint(key string) ([]byte, bool, error) {
	if err := CheckKey(key); err != nil {
		return nil, false, err
	}
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCheckpoints).Get([]byte(key)); b != nil {
			v = append([]byte{}, b...)
		}
		return nil
	})
	return v, v != nil, err
}

// SetCheckpoint saves value under key; it is on disk when SetCheckpoint returns.
func (s *Store) SetCheckpoint(key string, value []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if len(value) > MaxCheckpoint {
		return fmt.Errorf("%w: a checkpoint holds at most %d bytes", ErrInvalid, MaxCheckpoint)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).Put([]byte(key), append([]byte{}, value...))
	})
}

// DeleteCheckpoint removes key; removing a missing key is not an error.
func (s *Store) DeleteCheckpoint(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).Delete([]byte(key))
	})
}

// Lookup returns the record of key.
func (s *Store) Lookup(key string) (Record, bool, error) {
	if err := CheckKey(key); err != nil {
		return Record{}, false, err
	}
	var rec Record
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, ok, err = getRecord(tx, key)
		return err
	})
	return rec, ok, err
}

// Claim claims the step key for owner; the claim is on disk when Claim returns, so a
// crash after it leaves a record in flight. See Outcome for what the caller does next.
func (s *Store) Claim(key, owner string) (Record, Outcome, error) {
	if err := CheckKey(key); err != nil {
		return Record{}, 0, err
	}
	if owner == "" {
		return Record{}, 0, fmt.Errorf("%w: no owner", ErrInvalid)
	}
	var rec Record
	var out Outcome
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			rec, out = Record{Key: key}, Claimed
		case old.Status != InFlight:
			rec, out = old, Finished
			return nil
		case old.Owner == owner:
			rec, out = old, Busy
			return nil
		default:
			rec, out = old, Reconcile
		}
		rec.Status, rec.Owner, rec.Claims, rec.ClaimedAt = InFlight, owner, rec.Claims+1, s.now().UTC()
		return putRecord(tx, rec)
	})
	if err != nil {
		return Record{}, 0, err
	}
	return rec, out, nil
}

// Finish marks owner's step done or failed with result (a done step's result, a failed
// step's reason).
func (s *Store) Finish(key, owner string, st Status, result string) error {
	if st != Done && st != Failed {
		return fmt.Errorf("%w: a step finishes done or failed, not %q", ErrInvalid, st)
	}
	if len(result) > MaxResult || !utf8.ValidString(result) {
		return fmt.Errorf("%w: a result is at most %d bytes of UTF-8", ErrInvalid, MaxResult)
	}
	return s.owned(key, owner, func(tx *bolt.Tx, rec Record) error {
		rec.Status, rec.Owner, rec.Result, rec.FinishedAt = st, "", result, s.now().UTC()
		return putRecord(tx, rec)
	})
}

// Release forgets owner's claim: the step had no effect and may run again.
func (s *Store) Release(key, owner string) error {
	return s.owned(key, owner, func(tx *bolt.Tx, _ Record) error {
		return tx.Bucket(bucketClaims).Delete([]byte(key))
	})
}

// Abandon leaves owner's step in flight with no owner: its outcome is unknown, and the
// next claim, even by the same owner, reconciles it.
func (s *Store) Abandon(key, owner string) error {
	return s.owned(key, owner, func(tx *bolt.Tx, rec Record) error {
		rec.Owner = ""
		return putRecord(tx, rec)
	})
}

// owned runs fn on key's record when owner holds it in flight.
func (s *Store) owned(key, owner string, fn func(*bolt.Tx, Record) error) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		rec, ok, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		if !ok || rec.Status != InFlight || owner == "" || rec.Owner != owner {
			return ErrNotOwner
		}
		return fn(tx, rec)
	})
}

func getRecord(tx *bolt.Tx, key string) (Record, bool, error) {
	b := tx.Bucket(bucketClaims).Get([]byte(key))
	if b == nil {
		return Record{}, false, nil
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, false, fmt.Errorf("state: record %q is damaged: %w", key, err)
	}
	return rec, true, nil
}

func putRecord(tx *bolt.Tx, rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketClaims).Put([]byte(rec.Key), b)
}
