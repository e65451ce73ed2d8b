package job

import (
	"testing"
	"time"
)

// FuzzRetryAfter: any Retry-After a platform sends gives -1 or a wait of zero or more,
// never a panic or a negative wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Wed, 25 Nov 2026 12:00:30 GMT", "9999999999999999999", " 3 ", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < -1 {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}
