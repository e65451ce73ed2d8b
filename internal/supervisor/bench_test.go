package supervisor

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// logSample is what an automation job prints: JSON log lines with URLs, IDs, durations
// and now and then a line with a secret in it.
func logSample(lines int) []byte {
	var b strings.Builder
	for i := range lines {
		switch i % 50 {
		case 7:
			fmt.Fprintf(&b, `{"time":"2026-11-25T12:00:%02d.%03dZ","level":"DEBUG","msg":"request","url":"https://graph.example.com/v19.0/me/feed","auth":"Bearer tok-live-8Hq2Lx9Vw3Kz7Rm4"}`+"\n", i%60, i%1000)
		case 31:
			fmt.Fprintf(&b, "retrying after 429: Retry-After 2, attempt %d of 5, password=Zq8wK2vL9xR4pT\n", i%5)
		default:
			fmt.Fprintf(&b, `{"time":"2026-11-25T12:00:%02d.%03dZ","level":"INFO","msg":"posted","item":"item-%06d","id":"1784%010d","status":201,"duration_ms":%d,"queue":"daily-digest"}`+"\n",
				i%60, i%1000, i, i*7919, i%300)
		}
	}
	return []byte(b.String())
}

// BenchmarkRedactLogPath measures a child's output going through charter run's redaction
// (10 secret values from the environment, the scanner, and optionally the charter file's
// patterns) in 4 KiB writes, as pipe reads deliver it. The goal is 200 MB/s.
func BenchmarkRedactLogPath(b *testing.B) {
	data := logSample(40000) // about 6 MB
	env := []string{"POSTER_TOKEN=tok-live-8Hq2Lx9Vw3Kz7Rm4"}
	for i := range 9 {
		env = append(env, fmt.Sprintf("API_KEY_%d=k%d-9fK2mQ7xLw4RzT8vB3nY6cH1", i, i))
	}
	for _, bc := range []struct {
		name     string
		patterns []string
	}{
		{"values+scan", nil},
		{"values+scan+patterns", []string{`EAA[A-Za-z0-9]{20,}`, `sk-[A-Za-z0-9]{32}`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			red, err := NewRedaction(RedactionSources{Env: env, Patterns: bc.patterns})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w := red.Writer(io.Discard)
				for off := 0; off < len(data); off += 4096 {
					if _, err := w.Write(data[off:min(off+4096, len(data))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOverhead compares running /bin/true directly with running it under the
// supervisor (state file and socket, redaction, events, signal handling): the
// difference is charter run's overhead on a trivial job. The goal is under 5 ms.
func BenchmarkOverhead(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1)")
	}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command(truePath).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("supervised", func(b *testing.B) {
		env := os.Environ()
		for b.Loop() {
			red, err := NewRedaction(RedactionSources{Env: env, Files: DefaultSecretFiles})
			if err != nil {
				b.Fatal(err)
			}
			code, err := Run(context.Background(), Config{Command: []string{truePath}, Env: env, Redaction: red, Group: true})
			if err != nil || code != 0 {
				b.Fatal(code, err)
			}
		}
	})
}
