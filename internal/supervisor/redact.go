package supervisor

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/charterhq/charter/internal/secrets"
)

// DefaultSecretFiles are where container platforms mount secrets: Docker and Compose
// secrets, and the Kubernetes service-account token (not its namespace or CA, which are
// not secret and would mask ordinary words).
var DefaultSecretFiles = []string{"/run/secrets/*", "/var/run/secrets/kubernetes.io/serviceaccount/token"}

// Limits on what is read as secret values: a mount with thousands of files or a huge
// file is not a list of secrets.
const (
	maxSecretFiles    = 256
	maxSecretFileSize = 64 << 10
	maxPatternLine    = 64 << 10
)

// Redaction masks secrets in everything the child writes and in charter's own events.
// It never has an off switch.
type Redaction struct {
	r        *secrets.Redactor
	patterns []*regexp.Regexp
	n        int // values
}

// RedactionSources says where the secret values come from.
type RedactionSources struct {
	// Env is the child's environment ("NAME=value"). A value is secret when its name
	// matches one of EnvGlobs or reads as a secret name (TOKEN, PASSWORD, API_KEY …).
	Env      []string
	EnvGlobs []string
	// Files are globs of mounted secret files; each file's content is a secret value
	// (a directory's files count too, one level down).
	Files []string
	// Patterns are regular expressions (RE2) whose matches are masked.
	Patterns []string
}

// NewRedaction collects the secret values and compiles the patterns.
func NewRedaction(src RedactionSources) (*Redaction, error) {
	var vals []string
	for _, kv := range src.Env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(val) == "" {
			continue
		}
		if secrets.IsSecretName(name) || matchesAny(name, src.EnvGlobs) {
			vals = append(vals, val)
		}
	}
	vals = append(vals, readSecretFiles(src.Files)...)
	red := &Redaction{r: secrets.NewRedactor(vals, secrets.WithScan()), n: len(vals)}
	for _, p := range src.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("job.redact.patterns: %w", err)
		}
		red.patterns = append(red.patterns, re)
	}
	return red, nil
}

// Values returns how many secret values are known (for the run's first event).
func (r *Redaction) Values() int { return r.n }

func matchesAny(name string, globs []string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func readSecretFiles(globs []string) []string {
	var vals []string
	seen := 0
	read := func(p string) {
		st, err := os.Stat(p) // follows the symlinks Kubernetes mounts are made of
		if err != nil || !st.Mode().IsRegular() || st.Size() > maxSecretFileSize || seen >= maxSecretFiles {
			return
		}
		seen++
		if b, err := os.ReadFile(p); err == nil {
			vals = append(vals, string(b))
		}
	}
	for _, g := range globs {
		matches, _ := filepath.Glob(g)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				entries, _ := os.ReadDir(m)
				for _, e := range entries {
					if !strings.HasPrefix(e.Name(), ".") {
						read(filepath.Join(m, e.Name()))
					}
				}
				continue
			}
			read(m)
		}
	}
	return vals
}

// String redacts s.
func (r *Redaction) String(s string) string {
	s = r.r.String(s)
	for _, re := range r.patterns {
		s = re.ReplaceAllLiteralString(s, secrets.Marker)
	}
	return s
}

// Writer returns a writer that redacts what it forwards to w; Close flushes what is held
// back (it does not close w).
func (r *Redaction) Writer(w io.Writer) io.WriteCloser {
	if len(r.patterns) == 0 {
		return r.r.Writer(w)
	}
	pw := &patternWriter{w: w, patterns: r.patterns}
	return &chain{head: r.r.Writer(pw), tail: pw}
}

type chain struct {
	head io.WriteCloser
	tail io.WriteCloser
}

func (c *chain) Write(p []byte) (int, error) { return c.head.Write(p) }

func (c *chain) Close() error {
	err := c.head.Close()
	if terr := c.tail.Close(); err == nil {
		err = terr
	}
	return err
}

// patternWriter applies the charter file's patterns line by line, so that a match is
// found however the line was split into writes. A line longer than maxPatternLine is
// matched in pieces of that size.
type patternWriter struct {
	mu       sync.Mutex
	w        io.Writer
	patterns []*regexp.Regexp
	buf      []byte
}

func (p *patternWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	end := bytes.LastIndexByte(p.buf, '\n') + 1
	if end == 0 && len(p.buf) >= maxPatternLine {
		end = len(p.buf)
	}
	if end == 0 {
		return len(b), nil
	}
	if err := p.emit(p.buf[:end]); err != nil {
		return 0, err
	}
	p.buf = append(p.buf[:0], p.buf[end:]...)
	return len(b), nil
}

func (p *patternWriter) emit(b []byte) error {
	for _, re := range p.patterns {
		b = re.ReplaceAllLiteral(b, []byte(secrets.Marker))
	}
	_, err := p.w.Write(b)
	return err
}

func (p *patternWriter) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) == 0 {
		return nil
	}
	err := p.emit(p.buf)
	p.buf = p.buf[:0]
	return err
}
