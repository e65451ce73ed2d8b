package pack

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkProgramLayer measures the program layer of a 10 MiB binary: the sorted tar,
// gzip at the fixed level, and the digests ggcr computes from it.
func BenchmarkProgramLayer(b *testing.B) {
	bin := make([]byte, 10<<20)
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // benchmark data
	for i := range bin {
		// Mostly repetitive, like machine code and string tables, partly random.
		if i%4 == 0 {
			bin[i] = byte(rng.IntN(256))
		} else {
			bin[i] = byte(i / 64)
		}
	}
	epoch := time.Unix(1700000000, 0)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := newLayer(binaryEntries("/app/bench", bin), epoch)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Digest(); err != nil {
			b.Fatal(err)
		}
		if _, err := l.DiffID(); err != nil {
			b.Fatal(err)
		}
	}
}
