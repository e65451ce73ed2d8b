package secrets

import (
	"io"
	"strings"
)

// Redactor masks known secret values and Scan matches in free text such as logs and a
// child process's output. It is safe for concurrent use; each Writer is not.
type Redactor struct {
	values []string
}

// NewRedactor returns a Redactor for the given literal secrets.
func NewRedactor(values []string) *Redactor {
	r := &Redactor{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) >= 4 {
			r.values = append(r.values, v)
		}
	}
	return r
}

// String returns s with every known value replaced by "[REDACTED]" and every Scan match
// by "[REDACTED:<rule>]".
func (r *Redactor) String(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	return s
}

// Writer returns a writer that redacts what it forwards to w. Close flushes.
func (r *Redactor) Writer(w io.Writer) io.WriteCloser {
	return &redactWriter{r: r, w: w}
}

type redactWriter struct {
	r   *Redactor
	w   io.Writer
	buf []byte
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	rw.buf = append(rw.buf, p...)
	return len(p), nil
}

func (rw *redactWriter) Close() error {
	_, err := io.WriteString(rw.w, rw.r.String(string(rw.buf)))
	rw.buf = nil
	return err
}
