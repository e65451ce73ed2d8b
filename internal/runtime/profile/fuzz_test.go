package profile

import (
	"testing"
)

// FuzzQuantity: a parsed quantity is positive and bounded, and what Format writes parses
// back to the same value.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"256Mi", "1G", "0.5", "500m", "1.0001k", "9Ei", "0", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseMemory(s); err == nil {
			if n <= 0 || n > maxQuantity {
				t.Fatalf("ParseMemory(%q) = %d", s, n)
			}
			if back, err := ParseMemory(FormatMemory(n)); err != nil || back != n {
				t.Fatalf("FormatMemory(%d) = %q reads back as %d, %v", n, FormatMemory(n), back, err)
			}
		}
		if n, err := ParseCPU(s); err == nil {
			if n <= 0 || n > maxQuantity {
				t.Fatalf("ParseCPU(%q) = %d", s, n)
			}
			if back, err := ParseCPU(FormatCPU(n)); err != nil || back != n {
				t.Fatalf("FormatCPU(%d) = %q reads back as %d, %v", n, FormatCPU(n), back, err)
			}
		}
	})
}

// FuzzResolveUser: an image's passwd and group files and its USER never make resolution
// panic or produce a negative ID, and a user with no passwd entry never gets the root group.
func FuzzResolveUser(f *testing.F) {
	f.Add("app", "root:x:0:0::/:/bin/sh\napp:x:10001:10001::/:/bin/sh\n", "app:x:10001:\n")
	f.Add("app:www", "app:x:1:2\n", "www:x:33:\n")
	f.Add("4242", "", "")
	f.Add("x:y:z", "::::\n#\n\n", "a:b\n")
	f.Fuzz(func(t *testing.T, spec, passwd, group string) {
		u, err := ResolveUser(spec, []byte(passwd), []byte(group))
		if err != nil {
			return
		}
		if u.UID < 0 || u.GID < 0 {
			t.Fatalf("%q: %+v", spec, u)
		}
	})
}

// FuzzParseEgress: an accepted entry renders to text that parses to the same entry.
func FuzzParseEgress(f *testing.F) {
	for _, s := range []string{"api.example.com:443", "10.0.0.0/8:5432", "[fd00::/8]:53", "192.0.2.1:1", "[::ffff:1.2.3.4]:9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEgress(s)
		if err != nil {
			return
		}
		back, err := ParseEgress(e.String())
		if err != nil || back != e {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, e, e.String(), back, err)
		}
	})
}
