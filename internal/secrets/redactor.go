package secrets

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
)

// Redaction limits. A stream is cut into segments, normally at line ends; a line longer
// than maxSegment is cut anyway (at a blank in its second half when there is one), so a
// Writer holds at most maxSegment plus the longest value before it must write.
const (
	maxSegment     = 64 << 10
	maxRedactValue = 64 << 10 // longer values are matched by their first 64 KiB
	minRedactValue = 4        // shorter values would mask ordinary text
	minValueLine   = 8        // shortest line of a multi-line value that is masked alone
)

// Marker replaces a known value in redacted text; MarkerPrefix+rule+"]" replaces a Scan
// match.
const (
	Marker       = "[REDACTED]"
	MarkerPrefix = "[REDACTED:"
)

// Redactor masks known secret values, and optionally Scan matches, in free text such as
// logs and a child process's output. It is immutable and safe for concurrent use.
type Redactor struct {
	values  []string
	bvalues [][]byte  // values, as bytes
	first   [256]bool // first bytes of values
	maxLen  int
	breaks  [][]int // offsets of the line breaks in each value
	scan    bool
}

// Option configures a Redactor.
type Option func(*Redactor)

// WithScan makes the Redactor also mask whatever Scan finds (tokens, keys, passwords in
// URLs and assignments), labelled with the rule: "[REDACTED:github-pat]".
func WithScan() Option { return func(r *Redactor) { r.scan = true } }

// NewRedactor returns a Redactor for the given literal secrets. Values are trimmed of
// surrounding whitespace; values shorter than 4 bytes are ignored (they would mask
// ordinary text). Each line of a multi-line value (a PEM key in an environment variable)
// is also masked on its own when it is at least 8 bytes long, so the value is caught
// even when it is printed with other line endings or indentation.
func NewRedactor(values []string, opts ...Option) *Redactor {
	r := &Redactor{}
	add := func(v string) {
		if len(v) > maxRedactValue {
			v = v[:maxRedactValue]
		}
		if len(v) < minRedactValue || slices.Contains(r.values, v) {
			return
		}
		r.values = append(r.values, v)
		r.bvalues = append(r.bvalues, []byte(v))
		r.first[v[0]] = true
		r.maxLen = max(r.maxLen, len(v))
		var br []int
		for k := 0; k < len(v); k++ {
			if isEOL(v[k]) {
				br = append(br, k)
			}
		}
		r.breaks = append(r.breaks, br)
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		add(v)
		if strings.ContainsAny(v, "\r\n") {
			for _, l := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if l = strings.TrimSpace(l); len(l) >= minValueLine {
					add(l)
				}
			}
		}
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// String returns s with every known value replaced by "[REDACTED]" and every Scan match
// (with WithScan) by "[REDACTED:<rule>]". Adjacent or overlapping secrets become one
// marker. The result is the same as writing s through Writer in any number of pieces.
func (r *Redactor) String(s string) string {
	if s == "" || !r.scan && !r.containsValue(s) {
		return s
	}
	b := []byte(s)
	var cuts []int
	for end := 0; end < len(b); {
		var sg segmenter
		end += sg.next(b[end:], true)
		cuts = append(cuts, end)
	}
	var st redactState
	return string(r.render(nil, b, cuts, &st))
}

func (r *Redactor) containsValue(s string) bool {
	for _, v := range r.values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// Writer returns a writer that redacts what it forwards to w, as String would. It holds
// back only what could still become a match: the current line, and for a value with a
// line break or a line cut for length, the bytes that could begin a value. Complete
// lines are written as soon as they are known to be safe; Close writes the rest (it
// does not close w). The writer is safe for concurrent use, so stdout and stderr of a
// child may share it.
func (r *Redactor) Writer(w io.Writer) io.WriteCloser {
	return &redactWriter{r: r, w: w}
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("secrets: write to a closed redacting writer")

type redactWriter struct {
	mu     sync.Mutex
	r      *Redactor
	w      io.Writer
	buf    []byte // pending bytes are buf[off:]; a segment starts at off
	off    int
	seg    segmenter
	cuts   []int // segment ends in the batch being rendered
	st     redactState
	out    []byte
	err    error
	closed bool
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.closed {
		return 0, errClosed
	}
	if rw.err != nil {
		return 0, rw.err
	}
	written := 0
	for written < len(p) {
		// Take at most a segment's worth at a time, so that the buffer stays bounded
		// whatever the size of p.
		if rw.off > 0 {
			n := copy(rw.buf, rw.buf[rw.off:])
			rw.buf, rw.off = rw.buf[:n], 0
		}
		k := min(len(p)-written, max(maxSegment, 2*maxSegment+rw.r.maxLen-len(rw.buf)))
		rw.buf = append(rw.buf, p[written:written+k]...)
		written += k
		if err := rw.flush(false); err != nil {
			return written, err
		}
	}
	return written, nil
}

// Close writes what is still held back and makes further writes fail.
func (rw *redactWriter) Close() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.closed {
		return rw.err
	}
	rw.closed = true
	if rw.err != nil {
		return rw.err
	}
	return rw.flush(true)
}

// flush renders and writes every segment that can be settled now.
func (rw *redactWriter) flush(final bool) error {
	pending := rw.buf[rw.off:]
	rw.cuts = rw.cuts[:0]
	end := 0
	for end < len(pending) {
		c := rw.seg.next(pending[end:], final)
		if c == 0 || !rw.r.settled(pending, end+c, final) {
			break
		}
		end += c
		rw.cuts = append(rw.cuts, end)
		rw.seg = segmenter{}
	}
	if end == 0 {
		return nil
	}
	rw.out = rw.r.render(rw.out[:0], pending, rw.cuts, &rw.st)
	rw.off += end
	if rw.off == len(rw.buf) {
		rw.buf, rw.off = rw.buf[:0], 0
	}
	if _, err := rw.w.Write(rw.out); err != nil {
		rw.err = err
		return err
	}
	return nil
}

// segmenter finds where the segment at the start of a buffer ends. Its decisions depend
// only on the bytes, never on how they arrived, which is what makes Writer's output
// independent of how the input is split.
type segmenter struct {
	pos     int  // bytes examined: a line end, or 0
	pemOpen bool // a private-key BEGIN line in [0,pos) has no END yet
	cut     int  // the segment's length once known
}

// next returns the length of the segment at the start of buf, or 0 when more bytes are
// needed to know it; final means no more bytes will come.
func (sg *segmenter) next(buf []byte, final bool) int {
	if sg.cut > 0 {
		return sg.cut
	}
	lim := min(len(buf), maxSegment)
	for sg.pos < lim {
		k := indexEOL(buf[sg.pos:lim])
		if k < 0 {
			break
		}
		line := buf[sg.pos : sg.pos+k+1]
		sg.pos += k + 1
		sg.pemOpen = pemOpenAfter(sg.pemOpen, line)
		if !sg.pemOpen {
			sg.cut = sg.pos
			return sg.cut
		}
	}
	switch {
	case len(buf) >= maxSegment:
		sg.cut = forcedCut(buf[:maxSegment])
	case final && len(buf) > 0:
		sg.cut = len(buf)
	}
	return sg.cut
}

// pemOpenAfter reports whether a private-key block is open after line, so that the
// lines of a key stay in one segment and Scan sees the whole block.
func pemOpenAfter(open bool, line []byte) bool {
	if !bytes.Contains(line, []byte("-----")) {
		return open
	}
	b := bytes.LastIndex(line, []byte("-----BEGIN "))
	e := bytes.LastIndex(line, []byte("-----END "))
	switch {
	case b > e:
		return bytes.Contains(line[b:], []byte("PRIVATE KEY"))
	case e >= 0:
		return false
	}
	return open
}

// indexEOL returns the index of the first '\n' or '\r' in b, or -1.
func indexEOL(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	if n == len(b) {
		return -1
	}
	return n
}

// forcedCut cuts a segment with no usable line end: after the last blank in its second
// half, where no token can be split, or at its full length.
func forcedCut(b []byte) int {
	if k := bytes.LastIndexAny(b[len(b)/2:], " \t\n\r"); k >= 0 {
		return len(b)/2 + k + 1
	}
	return len(b)
}

// settled reports whether every value occurrence starting in buf[:c] is known from buf:
// no value could still begin in buf[:c] and run past the end of buf.
func (r *Redactor) settled(buf []byte, c int, final bool) bool {
	if final || r.maxLen == 0 {
		return true
	}
	// After a line end, only a value with a line break at the right offset can cross
	// the cut.
	if isEOL(buf[c-1]) {
		for i, v := range r.bvalues {
			for _, e := range r.breaks[i] {
				j := c - 1 - e
				if j >= 0 && len(buf)-j < len(v) && bytes.HasPrefix(v, buf[j:]) {
					return false
				}
			}
		}
		return true
	}
	for j := max(0, len(buf)-r.maxLen+1); j < c; j++ {
		if !r.first[buf[j]] {
			continue
		}
		tail := buf[j:]
		for _, v := range r.values {
			if len(v) > len(tail) && v[:len(tail)] == string(tail) {
				return false
			}
		}
	}
	return true
}

// redactState carries coverage from one segment to the next.
type redactState struct {
	carry int  // bytes at the start of the next segment covered by a value begun before it
	inRun bool // the last byte rendered was covered: its marker is already out
}

type interval struct {
	start, end int
	marker     string
}

// render appends the redacted form of buf[:c] to out, where c is the last of cuts, the
// ends of the segments in buf. Values are matched in buf (which may extend past c), Scan
// in each segment on its own; rendering segments one by one or together gives the same
// bytes, since a run of covered bytes that crosses a cut gets one marker either way.
func (r *Redactor) render(out, buf []byte, cuts []int, st *redactState) []byte {
	c := cuts[len(cuts)-1]
	var ivs []interval
	if st.carry > 0 {
		ivs = append(ivs, interval{0, st.carry, Marker})
	}
	for _, v := range r.bvalues {
		hay := buf[:min(len(buf), c+len(v)-1)]
		for off := 0; off < c; {
			k := bytes.Index(hay[off:], v)
			if k < 0 || off+k >= c {
				break
			}
			ivs = append(ivs, interval{off + k, off + k + len(v), Marker})
			off += k + 1
		}
	}
	if r.scan {
		prev := 0
		for _, cut := range cuts {
			for _, cd := range scanCandidates(buf[prev:cut]) {
				ivs = append(ivs, interval{prev + cd.start, prev + cd.end, MarkerPrefix + cd.r.id + "]"})
			}
			prev = cut
		}
	}
	if len(ivs) == 0 {
		st.carry, st.inRun = 0, false
		return append(out, buf[:c]...)
	}
	slices.SortStableFunc(ivs, func(a, b interval) int { return a.start - b.start })
	pos, runEnd := 0, -1
	for _, iv := range ivs {
		if iv.start <= runEnd { // overlaps or touches the current run
			runEnd = max(runEnd, iv.end)
		} else {
			out = append(out, buf[pos:iv.start]...)
			if iv.start > 0 || !st.inRun { // else the run goes on from the last segment
				out = append(out, iv.marker...)
			}
			runEnd = iv.end
		}
		pos = min(runEnd, c)
	}
	out = append(out, buf[pos:c]...)
	st.carry = max(0, runEnd-c)
	st.inRun = runEnd >= c
	return out
}
