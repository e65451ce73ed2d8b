package catalog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The three containers rpm keeps its headers in. Each reader takes the whole database
// file, checks every offset against it, and returns the stored values (header blobs).

const rpmBlobMax = 64 << 20

// bdbValues reads a Berkeley DB hash database (rpm's Packages) and returns the data
// items of its hash pages, following overflow chains.
func bdbValues(b []byte) ([][]byte, error) {
	if len(b) < 512 {
		return nil, errors.New("bdb: too short")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	const hashMagic = 0x061561
	switch {
	case binary.LittleEndian.Uint32(b[12:]) == hashMagic:
	case binary.BigEndian.Uint32(b[12:]) == hashMagic:
		bo = binary.BigEndian
	default:
		return nil, errors.New("bdb: not a hash database")
	}
	pageSize := int(bo.Uint32(b[20:]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("bdb: page size %d", pageSize)
	}
	npages := len(b) / pageSize
	var out [][]byte
	total := 0
	for pg := 1; pg < npages; pg++ {
		page := b[pg*pageSize : (pg+1)*pageSize]
		const pHash, pHashUnsorted = 13, 2
		if page[25] != pHash && page[25] != pHashUnsorted {
			continue
		}
		entries := int(bo.Uint16(page[20:]))
		if 26+entries*2 > pageSize {
			continue
		}
		for i := 1; i < entries; i += 2 { // odd entries are the data items
			off := int(bo.Uint16(page[26+i*2:]))
			if off >= pageSize {
				continue
			}
			var v []byte
			switch page[off] {
			case 1: // H_KEYDATA: inline, up to the previous item
				end := int(bo.Uint16(page[26+(i-1)*2:]))
				if end > off && end <= pageSize {
					v = page[off+1 : end]
				}
			case 3: // H_OFFPAGE: a chain of overflow pages
				if off+12 > pageSize {
					continue
				}
				v = bdbOverflow(b, pageSize, bo, bo.Uint32(page[off+4:]), bo.Uint32(page[off+8:]))
			}
			if len(v) < 8 {
				continue
			}
			if total += len(v); total > len(b)*2 {
				return nil, errors.New("bdb: overflow chains loop")
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func bdbOverflow(b []byte, pageSize int, bo binary.ByteOrder, pgno, tlen uint32) []byte {
	if tlen > rpmBlobMax || uint64(tlen) > uint64(len(b)) {
		return nil
	}
	out := make([]byte, 0, tlen)
	want := int(tlen) // at most rpmBlobMax, checked above
	for hops := 0; pgno != 0 && len(out) < want; hops++ {
		if hops > len(b)/pageSize || int64(pgno)+1 > int64(len(b)/pageSize) {
			return nil
		}
		page := b[int(pgno)*pageSize : int(pgno+1)*pageSize]
		if page[25] != 7 { // P_OVERFLOW
			return nil
		}
		n := int(bo.Uint16(page[22:])) // hf_offset holds the bytes used on the page
		if 26+n > pageSize {
			return nil
		}
		out = append(out, page[26:26+n]...)
		pgno = bo.Uint32(page[16:]) // next_pgno
	}
	if len(out) < want {
		return nil
	}
	return out[:want]
}

// ndbBlobs reads rpm's native database (Packages.db): a header, slot pages naming
// each package's blob (offset and length in 16-byte blocks), and the blobs.
func ndbBlobs(b []byte) ([][]byte, error) {
	const (
		headerMagic = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
		slotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
		blobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
		pageSize    = 4096
		slotSize    = 16
		blockSize   = 16
	)
	le := binary.LittleEndian
	if len(b) < 32 || le.Uint32(b) != headerMagic {
		return nil, errors.New("ndb: bad magic")
	}
	slotPages := uint64(le.Uint32(b[12:]))
	if slotPages == 0 || slotPages*pageSize > uint64(len(b)) {
		return nil, errors.New("ndb: bad slot page count")
	}
	var out [][]byte
	for off := uint64(2 * slotSize); off+slotSize <= slotPages*pageSize; off += slotSize {
		s := b[off:]
		if le.Uint32(s) != slotMagic || le.Uint32(s[4:]) == 0 {
			continue
		}
		pkgIdx, blk := le.Uint32(s[4:]), uint64(le.Uint32(s[8:]))*blockSize
		if blk+16 > uint64(len(b)) {
			continue
		}
		bh := b[blk:]
		if le.Uint32(bh) != blobMagic || le.Uint32(bh[4:]) != pkgIdx {
			continue
		}
		n := uint64(le.Uint32(bh[12:]))
		if n > rpmBlobMax || blk+16+n > uint64(len(b)) {
			continue
		}
		out = append(out, b[blk+16:blk+16+n])
	}
	return out, nil
}

// sqliteRPMBlobs reads the `blob` column of the Packages table of an SQLite database
// file (rpmdb.sqlite): the schema table on page 1 gives the table's root page, whose
// b-tree is walked to its leaves. Changes still in a write-ahead log are not seen.
func sqliteRPMBlobs(b []byte) ([][]byte, error) {
	db, err := openSQLite(b)
	if err != nil {
		return nil, err
	}
	root := 0
	err = db.table(1, func(rec [][]byte) {
		if len(rec) >= 4 && string(rec[0]) == "table" && string(rec[1]) == "Packages" {
			root = int(sqliteInt(rec[3]))
		}
	})
	if err != nil {
		return nil, err
	}
	if root == 0 {
		return nil, errors.New("sqlite: no Packages table")
	}
	var out [][]byte
	err = db.table(root, func(rec [][]byte) {
		if len(rec) >= 2 && len(rec[1]) >= 8 {
			out = append(out, bytes.Clone(rec[1]))
		}
	})
	return out, err
}

type sqliteDB struct {
	b        []byte
	pageSize int
	usable   int
	visited  int
}

func openSQLite(b []byte) (*sqliteDB, error) {
	if len(b) < 100 || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		return nil, errors.New("sqlite: bad header")
	}
	ps := int(binary.BigEndian.Uint16(b[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("sqlite: page size %d", ps)
	}
	usable := ps - int(b[20])
	if usable < 480 {
		return nil, errors.New("sqlite: reserved space too large")
	}
	return &sqliteDB{b: b, pageSize: ps, usable: usable}, nil
}

func (db *sqliteDB) page(n int) ([]byte, int, error) {
	if n < 1 || (n)*db.pageSize > len(db.b) {
		return nil, 0, fmt.Errorf("sqlite: page %d out of range", n)
	}
	hdr := 0
	if n == 1 {
		hdr = 100
	}
	return db.b[(n-1)*db.pageSize : n*db.pageSize], hdr, nil
}

// table walks a table b-tree from its root and calls fn with each row's columns.
func (db *sqliteDB) table(root int, fn func([][]byte)) error {
	stack := []int{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if db.visited++; db.visited > len(db.b)/db.pageSize+1 {
			return errors.New("sqlite: b-tree loops")
		}
		pg, h, err := db.page(n)
		if err != nil {
			return err
		}
		if h+8 > len(pg) {
			return errors.New("sqlite: short page")
		}
		kind, ncells := pg[h], int(binary.BigEndian.Uint16(pg[h+3:]))
		hdrLen := 8
		if kind == 0x05 {
			hdrLen = 12
			stack = append(stack, int(binary.BigEndian.Uint32(pg[h+8:])))
		} else if kind != 0x0d {
			return fmt.Errorf("sqlite: page %d is not a table page", n)
		}
		if h+hdrLen+ncells*2 > len(pg) {
			return errors.New("sqlite: cell pointers overrun")
		}
		for i := 0; i < ncells; i++ {
			off := int(binary.BigEndian.Uint16(pg[h+hdrLen+i*2:]))
			if off >= len(pg) {
				return errors.New("sqlite: cell out of page")
			}
			if kind == 0x05 {
				if off+4 > len(pg) {
					return errors.New("sqlite: short interior cell")
				}
				stack = append(stack, int(binary.BigEndian.Uint32(pg[off:])))
				continue
			}
			payload, err := db.leafPayload(pg[off:])
			if err != nil {
				return err
			}
			if rec, ok := sqliteRecord(payload); ok {
				fn(rec)
			}
		}
	}
	return nil
}

// leafPayload reassembles a table-leaf cell's payload from the page and its overflow
// chain.
func (db *sqliteDB) leafPayload(c []byte) ([]byte, error) {
	plen, n1 := sqliteVarint(c)
	_, n2 := sqliteVarint(c[n1:])
	if n1 == 0 || n2 == 0 || plen > rpmBlobMax {
		return nil, errors.New("sqlite: bad cell")
	}
	c = c[n1+n2:]
	u := db.usable
	x := u - 35
	local := int(plen)
	if local > x {
		m := ((u-12)*32)/255 - 23
		k := m + (int(plen)-m)%(u-4)
		local = m
		if k <= x {
			local = k
		}
	}
	if local > len(c) || (local < int(plen) && local+4 > len(c)) {
		return nil, errors.New("sqlite: cell overruns its page")
	}
	if local == int(plen) {
		return c[:local], nil
	}
	out := make([]byte, 0, plen)
	out = append(out, c[:local]...)
	next := int(binary.BigEndian.Uint32(c[local:]))
	for hops := 0; len(out) < int(plen); hops++ {
		if next == 0 || hops > len(db.b)/db.pageSize {
			return nil, errors.New("sqlite: broken overflow chain")
		}
		pg, _, err := db.page(next)
		if err != nil {
			return nil, err
		}
		take := min(u-4, int(plen)-len(out))
		out = append(out, pg[4:4+take]...)
		next = int(binary.BigEndian.Uint32(pg))
	}
	return out, nil
}

// sqliteRecord splits a record into its columns (integers as big-endian bytes).
func sqliteRecord(p []byte) ([][]byte, bool) {
	hlen, n := sqliteVarint(p)
	if n == 0 || hlen > uint64(len(p)) || hlen < 1 || int(hlen) < n { //nolint:gosec // G115: hlen <= len(p)
		return nil, false
	}
	hdr, body := p[n:hlen], p[hlen:]
	var cols [][]byte
	for len(hdr) > 0 {
		st, k := sqliteVarint(hdr)
		if k == 0 {
			return nil, false
		}
		hdr = hdr[k:]
		var size uint64
		switch {
		case st <= 4:
			size = st
		case st == 5:
			size = 6
		case st == 6, st == 7:
			size = 8
		case st >= 12:
			size = (st - 12) / 2
		}
		if size > uint64(len(body)) {
			return nil, false
		}
		cols = append(cols, body[:size])
		body = body[size:]
	}
	return cols, true
}

func sqliteInt(b []byte) int64 {
	var v int64
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	return v
}

// sqliteVarint decodes SQLite's big-endian varint (up to 9 bytes); n is 0 on error.
func sqliteVarint(b []byte) (v uint64, n int) {
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
