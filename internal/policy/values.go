package policy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Checks for the charter file's values. Each returns an error phrased to follow
// "key: ", and the decoder adds the file and line.

func nonEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func oneOf(s string, allowed []string) error {
	if slices.Contains(allowed, s) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s%s", clip(s), strings.Join(allowed, ", "), suggest(s, allowed))
}

var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*([-_.:][A-Za-z0-9]+)*$`)

// validID accepts rule IDs (DF001, DL3008, DS-0002, CIS-DI-0001) and advisory IDs
// (CVE-2024-1234, GHSA-xxxx-xxxx-xxxx, GO-2024-0001, DSA-5555-1).
func validID(id string) error {
	if !idPattern.MatchString(id) || len(id) > 100 {
		return fmt.Errorf("%q is not a rule or advisory ID (like DF014, DL3008 or CVE-2024-1234)", clip(id))
	}
	return nil
}

// advisoryPrefixes are the ID schemes of vulnerability databases charter reads (OSV's
// ecosystems and the distributions' own trackers).
var advisoryPrefixes = []string{
	"CVE", "GHSA", "GO", "PYSEC", "RUSTSEC", "OSV", "GSD", "MAL", "BIT", "HSEC", "CGA", "MINI",
	"PSF", "DSA", "DLA", "DTSA", "USN", "UBUNTU", "DEBIAN", "ALPINE", "ALSA", "ALBA", "ALEA",
	"ALAS", "ALAS2", "ALAS2022", "ALAS2023", "RHSA", "RHBA", "RHEA", "RLSA", "RXSA", "ELSA",
	"SUSE", "OPENSUSE", "CURL", "LBSEC", "CHAINGUARD", "WOLFI", "AZL", "MGASA", "ROOT",
}

// ghsaShape is GitHub's advisory ID, whose groups may hold no digit at all.
var ghsaShape = regexp.MustCompile(`^(?i:GHSA)(-[0-9A-Za-z]{4}){3}$`)

var advisoryShape = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)-[A-Za-z0-9:._-]*[0-9][A-Za-z0-9:._-]*$`)

// looksLikeAdvisory reports whether id names a vulnerability advisory rather than a
// rule: such IDs are the rule of vulnerability findings, so no catalog lists them.
func looksLikeAdvisory(id string) bool {
	if ghsaShape.MatchString(id) {
		return true
	}
	m := advisoryShape.FindStringSubmatch(id)
	return m != nil && slices.Contains(advisoryPrefixes, strings.ToUpper(m[1]))
}

// validPackage accepts a package name or a purl prefix.
func validPackage(p string) error {
	if strings.TrimSpace(p) != p || p == "" {
		return fmt.Errorf("%q: want a package name or a purl prefix without surrounding spaces", clip(p))
	}
	if strings.HasPrefix(p, "pkg:") && len(p) < len("pkg:x") {
		return errors.New("purl prefix needs at least a type (pkg:deb/…)")
	}
	return nil
}

// validBasePattern accepts image.base.allow patterns: an image reference where * matches
// any text (slashes included) and ? one character, as the base-image rule reads them.
func validBasePattern(p string) error {
	if p == "" || strings.ContainsAny(p, " \t[]\\") {
		return fmt.Errorf("%q: want an image reference pattern using * and ?, like \"gcr.io/distroless/*\"", clip(p))
	}
	return nil
}

var refPattern = regexp.MustCompile(`^[^\s]+$`)

func validRef(s string) error {
	if !refPattern.MatchString(s) {
		return fmt.Errorf("%q is not an image reference", clip(s))
	}
	return nil
}

var userPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$`)

func validUser(s string) error {
	if !userPattern.MatchString(s) || len(s) > 256 {
		return fmt.Errorf("%q: want uid[:gid] or a user name, like \"65532:65532\"", clip(s))
	}
	return nil
}

func validAbsPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q: want an absolute path", clip(p))
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return fmt.Errorf("%q: .. is not allowed", clip(p))
		}
	}
	return nil
}

var hostPattern = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// validEgress accepts "host:port", "[ipv6]:port" and "cidr:port"; a host may start with
// "*." to allow every subdomain.
func validEgress(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q: want host:port or cidr:port, like \"api.example.com:443\" or \"10.0.0.0/8:5432\"", clip(s))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", clip(s), clip(port))
	}
	switch {
	case strings.Contains(host, "/"):
		if _, _, err := net.ParseCIDR(host); err != nil {
			return fmt.Errorf("%q: %q is not a CIDR range", clip(s), clip(host))
		}
	case net.ParseIP(host) != nil:
	case !hostPattern.MatchString(host) || len(host) > 253:
		return fmt.Errorf("%q: %q is not a host name, IP address or CIDR range", clip(s), clip(host))
	}
	return nil
}

// capabilityNames are the Linux capabilities (capability.h), without CAP_.
var capabilityNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

func validCapability(allowAll bool) func(string) error {
	return func(s string) error {
		name := strings.TrimPrefix(strings.ToUpper(s), "CAP_")
		if allowAll && name == "ALL" || slices.Contains(capabilityNames, name) {
			return nil
		}
		return fmt.Errorf("unknown capability %q%s", clip(s), suggest(name, capabilityNames))
	}
}

var memoryPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`)

func validMemory(s string) error {
	if !memoryPattern.MatchString(s) || strings.Trim(s, "0.kKMGTPEi") == "" {
		return fmt.Errorf("%q: want a positive size like 256Mi, 1Gi or 512M", clip(s))
	}
	return nil
}

var cpuPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?|[0-9]+m)$`)

func validCPU(s string) error {
	if !cpuPattern.MatchString(s) || strings.Trim(s, "0.m") == "" {
		return fmt.Errorf("%q: want a positive CPU count like 0.5, 2 or 500m", clip(s))
	}
	return nil
}

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func validEnvName(s string) error {
	if !envNamePattern.MatchString(s) {
		return fmt.Errorf("%q is not an environment variable name", clip(s))
	}
	return nil
}

// validKillURL accepts https URLs, and http only to the local machine: whoever can answer
// the kill switch can stop the job, so the answer must come from a trusted place.
func validKillURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		// Not echoed: a malformed URL may still hold a credential.
		return errors.New("not a valid URL (want https://host/path)")
	}
	if u.User != nil {
		return errors.New("the URL carries credentials, which do not belong in a charter file")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q: want an https URL (http only to localhost)", clip(s))
}

// maxPatternLen bounds a redaction pattern; RE2 compiles in linear time, but a pattern is
// compiled for every job run and a megabyte-long one is a mistake.
const maxPatternLen = 4096

func validRegexp(s string) error {
	if s == "" || len(s) > maxPatternLen {
		return fmt.Errorf("a pattern must be 1 to %d characters", maxPatternLen)
	}
	if _, err := regexp.Compile(s); err != nil {
		return fmt.Errorf("%q is not a valid regular expression: %w", clip(s), err)
	}
	return nil
}

func durationString(d Duration) string { return time.Duration(d).String() }
