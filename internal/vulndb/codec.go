package vulndb

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/charterhq/charter/internal/report"
)

// Records and index entries are stored in a compact binary form rather than JSON:
// matching a large inventory decodes thousands of each, and JSON decoding was a large
// share of its cost.
//
//	record    string id; list aliases; string summary; string modified;
//	          string published; list references; list index keys
//	list      uvarint count, then each string
//	entry     uvarint count, then each affected
//	affected  string scheme; uvarint count, then each interval; list of listed
//	          versions in the scheme's order; list of listed versions the scheme
//	          cannot order (charter.vulndb/3); severity
//	interval  string lo; string hi; byte incl (0 or 1); string fixed
//	severity  varint level; string source; 8 bytes score (IEEE 754, little endian);
//	          string vector; varint rank
//	string    uvarint length, then the bytes
//
// A count or length larger than what is left of the value makes it invalid.

var errBadEntry = errors.New("malformed stored value")

func encodeRecord(r *record) []byte {
	b := appendString(nil, r.ID)
	b = appendList(b, r.Aliases)
	b = appendString(b, r.Summary)
	b = appendString(b, r.Modified)
	b = appendString(b, r.Published)
	b = appendList(b, r.Refs)
	return appendList(b, r.Keys)
}

func appendList(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// decodeRecord reads an encoded record, copying its strings out of b.
func decodeRecord(b []byte) (record, error) {
	d := newDecoder(b)
	r := record{ID: d.str(), Aliases: d.list(), Summary: d.str(), Modified: d.str(), Published: d.str()}
	r.Refs, r.Keys = d.list(), d.list()
	if d.err == nil && len(d.b) != 0 {
		d.err = errBadEntry
	}
	if d.err != nil {
		return record{}, d.err
	}
	return r, nil
}

func encodeEntry(e *entry) []byte {
	if e == nil {
		e = &entry{}
	}
	b := binary.AppendUvarint(nil, uint64(len(e.Affected)))
	for i := range e.Affected {
		a := &e.Affected[i]
		b = appendString(b, a.Scheme)
		b = binary.AppendUvarint(b, uint64(len(a.Intervals)))
		for _, iv := range a.Intervals {
			b = appendString(b, iv.Lo)
			b = appendString(b, iv.Hi)
			incl := byte(0)
			if iv.Incl {
				incl = 1
			}
			b = append(b, incl)
			b = appendString(b, iv.Fixed)
		}
		b = appendList(b, a.Versions)
		b = appendList(b, a.Unordered)
		b = binary.AppendVarint(b, int64(a.Sev.Level))
		b = appendString(b, a.Sev.Source)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.Sev.Score))
		b = appendString(b, a.Sev.Vector)
		b = binary.AppendVarint(b, int64(a.Sev.Rank))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeEntry reads an encoded entry. Its strings are copied out of b: bbolt's values
// live in its memory map only for the transaction.
func decodeEntry(b []byte) (entry, error) {
	d := newDecoder(b)
	var e entry
	n := d.count(1)
	if n > 0 {
		e.Affected = make([]affected, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		a := &e.Affected[i]
		a.Scheme = d.str()
		if m := d.count(4); m > 0 {
			a.Intervals = make([]interval, m)
			for j := range a.Intervals {
				iv := &a.Intervals[j]
				iv.Lo, iv.Hi = d.str(), d.str()
				iv.Incl = d.u8() == 1
				iv.Fixed = d.str()
			}
		}
		a.Versions, a.Unordered = d.list(), d.list()
		a.Sev.Level = report.Severity(d.varint())
		a.Sev.Source = d.str()
		a.Sev.Score = math.Float64frombits(d.u64())
		if !(a.Sev.Score >= 0 && a.Sev.Score <= 10) { // a CVSS base score; NaN fails too
			d.fail()
		}
		a.Sev.Vector = d.str()
		a.Sev.Rank = int(d.varint())
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errBadEntry
	}
	if d.err != nil {
		return entry{}, d.err
	}
	return e, nil
}

// decoder reads the encoding; after the first error every read returns a zero value.
// Its strings are cut from one copy of the whole value: one allocation per value, not
// one per string.
type decoder struct {
	b   []byte
	all string // the whole value; b is its unread tail
	err error
}

func newDecoder(b []byte) decoder { return decoder{b: b, all: string(b)} }

func (d *decoder) fail() { d.err, d.b = errBadEntry, nil }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items each at least size bytes long.
func (d *decoder) count(size int) int {
	v := d.uvarint()
	if v > uint64(len(d.b)/size) { //nolint:gosec // G115: a length is never negative
		d.fail()
		return 0
	}
	return int(v) //nolint:gosec // G115: v <= len(d.b)
}

func (d *decoder) list() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	off := len(d.all) - len(d.b)
	d.b = d.b[n:]
	return d.all[off : off+int(n)] //nolint:gosec // G115: n <= len(d.b)
}

func (d *decoder) u8() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}
