package profile

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/secrets"
)

// Profile is the least-privilege way to run one image. Every runtime's output (Docker,
// compose, Kubernetes, OCI) is rendered from it, so they all say the same thing.
type Profile struct {
	// Image is the reference runtimes pull ("registry.example.com/app:1"); Placeholder
	// when the source names none (an archive, a layout directory).
	Image string
	// Name is a DNS label for the compose service and the Kubernetes objects.
	Name string
	User User
	// ReadOnlyRootFilesystem is always true: what the process writes goes to Tmpfs.
	ReadOnlyRootFilesystem bool
	Tmpfs                  []Tmpfs
	// CapAdd lists the capabilities kept (upper-case, without CAP_); all others dropped.
	CapAdd          []string
	NoNewPrivileges bool
	// Seccomp is the seccomp profile in Docker's format: Docker's default, less
	// SeccompDeny.
	Seccomp     *Seccomp
	SeccompDeny []string
	Limits      Limits
	// Egress is runtime.egress, parsed. Empty means the process may reach nothing.
	Egress  []Egress
	Ports   []Port
	Process Process
	// Arch is the Go architecture the OCI spec's seccomp filter is resolved for.
	Arch string
	// UserNS is the user namespace the OCI output runs in; nil: none.
	UserNS *IDMap
	// PodUserNS sets hostUsers: false in the Kubernetes output.
	PodUserNS bool
	// Notes say which defaults were applied and what a runtime cannot express, one
	// sentence each; the text outputs carry them as comments.
	Notes []string
}

// Placeholder stands for the image reference when the source does not name one.
const Placeholder = "IMAGE"

// User is the identity the process runs as.
type User struct {
	UID, GID int
	// Name is the user's name in the image's /etc/passwd, when it has one.
	Name string
	// Source says where the user came from: "charter", "image" or "default".
	Source string
}

// String renders the user as uid:gid, or by name when its IDs are unknown.
func (u User) String() string {
	if u.UID < 0 {
		return u.Name
	}
	return fmt.Sprintf("%d:%d", u.UID, u.GID)
}

// Tmpfs is a writable in-memory mount over the read-only root.
type Tmpfs struct {
	Path      string
	SizeBytes int64
}

// TmpfsOptions are the mount options of every tmpfs the profile mounts: nothing written
// there can be executed, gain privileges through setuid bits, or act as a device.
var TmpfsOptions = []string{"rw", "noexec", "nosuid", "nodev"}

// Limits bound the container's resources.
type Limits struct {
	MemoryBytes int64
	// MilliCPU is the CPU limit in thousandths of a core.
	MilliCPU int64
	Pids     int64
}

// DefaultLimits apply where runtime.limits leaves a limit out: enough for a typical
// service, small enough that a runaway process cannot take the node with it.
var DefaultLimits = Limits{MemoryBytes: 512 << 20, MilliCPU: 1000, Pids: 256}

// DefaultTmpfsSize bounds each tmpfs; tmpfs pages count against the memory limit.
const DefaultTmpfsSize = 64 << 20

// DefaultUser is the identity used when the image has no non-root user of its own:
// distroless's "nonroot", uid and gid 65532.
var DefaultUser = User{UID: 65532, GID: 65532, Source: "default"}

// Egress is one destination the process may connect to (TCP).
type Egress struct {
	// Host is a host name ("api.example.com", "*.example.com"); empty for CIDR.
	Host string
	// CIDR is an address range ("10.0.0.0/8"; a single IP becomes /32 or /128).
	CIDR string
	Port int
}

// String renders the entry as the charter file writes it.
func (e Egress) String() string {
	h := e.Host
	if h == "" {
		// A single address reads as the charter wrote it, without /32 or /128.
		h = strings.TrimSuffix(strings.TrimSuffix(e.CIDR, "/32"), "/128")
	}
	return net.JoinHostPort(h, strconv.Itoa(e.Port))
}

// Port is a port the image declares (EXPOSE).
type Port struct {
	Number   int
	Protocol string // tcp, udp, sctp
}

// Process is what runs: the image's entrypoint and command, environment and directory.
type Process struct {
	Args []string
	// Env holds the image's NAME=value pairs, less any that look like secrets.
	Env []string
	Cwd string
}

// Source is what Build reads from an image: its reference, its config and the files
// that map user names to IDs. Config may be nil (an unpacked root filesystem).
type Source struct {
	Ref string
	// Digest is the image's manifest digest ("sha256:…"), when the source has one: the
	// outputs pin the image by it.
	Digest string
	Config *v1.ConfigFile
	// Passwd and Group are the image's /etc/passwd and /etc/group, empty when it has
	// none; nil means they are not known (a manifest being inspected), and then a
	// runtime.user name is kept unresolved (UID -1) instead of being an error.
	Passwd []byte
	Group  []byte
}

// Options adjust a profile beyond the charter file.
type Options struct {
	// ImageName overrides the reference the outputs name.
	ImageName string
	// SeccompDeny lists syscalls removed from the default seccomp allowlist.
	SeccompDeny []string
	// Arch is the Go architecture (GOARCH) the OCI spec is for; default: the image's,
	// else this machine's.
	Arch string
	// UserNS, when set, runs the OCI output in a user namespace with this mapping.
	UserNS *IDMap
	// PodUserNS runs the Kubernetes output's pods in user namespaces of their own
	// (hostUsers: false), the kubelet choosing the host IDs.
	PodUserNS bool
}

// Build computes the profile for src under the charter file's runtime section (cf may
// be nil: every default applies). Errors name the charter key or the image file at fault.
func Build(src Source, cf *policy.File, opts Options) (*Profile, error) {
	var rt policy.Runtime
	var imageName string
	if cf != nil {
		rt = cf.Runtime
		imageName = cf.Image.Name
	}
	p := &Profile{ReadOnlyRootFilesystem: true, NoNewPrivileges: true, Arch: opts.Arch}
	if p.Arch == "" && src.Config != nil {
		p.Arch = src.Config.Architecture // the seccomp filter is resolved for the image's platform
	}
	if p.Arch == "" {
		p.Arch = goruntime.GOARCH
	}
	cfg := v1.Config{}
	if src.Config != nil {
		cfg = src.Config.Config
	}
	p.Image = pickImageName(opts.ImageName, imageName, src.Ref)
	p.Name = dnsName(p.Image)
	if src.Digest != "" && p.Image != Placeholder && !strings.Contains(p.Image, "@") {
		p.Image += "@" + src.Digest // run exactly the content the profile was made for
	}
	steps := []func() error{
		func() error { return p.setUser(rt.User, cfg.User, src) },
		func() error { return p.setTmpfs(rt, cfg.Volumes) },
		func() error { return p.setCapabilities(rt.Capabilities) },
		func() error { return p.setLimits(rt.Limits) },
		func() error { return p.setEgress(rt.Egress) },
		func() error { return p.setSeccomp(union(rt.Seccomp.Deny, opts.SeccompDeny)) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	p.setPorts(cfg.ExposedPorts)
	p.setProcess(cfg)
	if err := p.setUserNS(opts.UserNS); err != nil {
		return nil, err
	}
	if err := p.setPodUserNS(opts.PodUserNS); err != nil {
		return nil, err
	}
	return p, nil
}

// union returns a's items, then b's not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// pickImageName prefers an explicit name, then the charter's image.name, then the
// reference when a runtime could pull it by that name.
func pickImageName(explicit, charter, ref string) string {
	switch {
	case explicit != "":
		return explicit
	case charter != "":
		return charter
	}
	scheme, rest, ok := strings.Cut(ref, ":")
	if ok {
		switch scheme {
		case "docker", "podman", "registry":
			return rest
		case "docker-archive", "oci-dir", "oci-archive", "dir", "sbom":
			return Placeholder
		}
	}
	if ref == "" {
		return Placeholder
	}
	return ref
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName derives a DNS label from an image reference: its last path segment, without
// tag or digest ("registry.example.com/pr/poster:1" → "poster").
func dnsName(ref string) string {
	name := ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	name = path.Base(name)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	name = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(name) > 63 {
		name = strings.Trim(name[:63], "-")
	}
	if name == "" || name == strings.ToLower(Placeholder) {
		return "app"
	}
	return name
}

// note records a default or a limit of the output. Control characters (an image's
// VOLUME or USER may hold any) are replaced, so a note stays one comment line.
func (p *Profile) note(format string, args ...any) {
	p.Notes = append(p.Notes, oneLine(fmt.Sprintf(format, args...)))
}

// mountPath accepts paths every runtime's mount syntax carries without quoting: no
// ':' or ',' (Docker's --tmpfs separators), no spaces or control characters.
var mountPath = regexp.MustCompile(`^/[A-Za-z0-9._@+/-]*$`)

func (p *Profile) setTmpfs(rt policy.Runtime, volumes map[string]struct{}) error {
	paths := rt.Writable
	if len(paths) == 0 {
		paths = []string{"/tmp"}
		p.note("no runtime.writable in the charter: /tmp is the one writable path (tmpfs)")
	}
	vols := make([]string, 0, len(volumes))
	for v := range volumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	kept := vols[:0]
	for _, v := range vols {
		if !mountPath.MatchString(path.Clean(v)) {
			p.note("the image declares VOLUME %q, which is not a plain absolute path: left out", v)
			continue
		}
		kept = append(kept, v)
		p.note("the image declares VOLUME %s: the profile mounts a tmpfs there; mount real storage if its data must outlive the container", path.Clean(v))
	}
	for _, w := range paths {
		if !mountPath.MatchString(path.Clean(w)) {
			return fmt.Errorf("runtime.writable: %q: use letters, digits and . _ @ + / - only (runtimes' mount syntax cannot carry the rest)", w)
		}
	}
	seen := map[string]bool{}
	for _, w := range append(slices.Clone(paths), kept...) {
		c := path.Clean(w)
		if c == "/" {
			return errors.New("runtime.writable: / would make the whole root filesystem writable; list the directories the process writes")
		}
		if !seen[c] {
			seen[c] = true
			p.Tmpfs = append(p.Tmpfs, Tmpfs{Path: c, SizeBytes: DefaultTmpfsSize})
		}
	}
	return nil
}

func (p *Profile) setCapabilities(c policy.Capabilities) error {
	for _, d := range c.Drop {
		if name := capName(d); name != "ALL" && !slices.Contains(c.Add, d) {
			p.note("runtime.capabilities.drop lists %s: every capability not in runtime.capabilities.add is dropped anyway", name)
			break
		}
	}
	for _, a := range c.Add {
		name := capName(a)
		if !slices.Contains(p.CapAdd, name) {
			p.CapAdd = append(p.CapAdd, name)
		}
	}
	sort.Strings(p.CapAdd)
	for _, name := range p.CapAdd {
		if name == "SYS_ADMIN" || name == "NET_ADMIN" || name == "SYS_PTRACE" || name == "SYS_MODULE" {
			p.note("runtime.capabilities.add keeps %s, which gives the process much of root's power", name)
		}
	}
	return nil
}

// capName normalises a capability name: upper-case, without CAP_.
func capName(s string) string { return strings.TrimPrefix(strings.ToUpper(s), "CAP_") }

func (p *Profile) setLimits(l policy.Limits) error {
	p.Limits = DefaultLimits
	var defaulted []string
	if l.Memory != "" {
		n, err := ParseMemory(l.Memory)
		if err != nil {
			return fmt.Errorf("runtime.limits.memory: %w", err)
		}
		p.Limits.MemoryBytes = n
	} else {
		defaulted = append(defaulted, "memory "+FormatMemory(DefaultLimits.MemoryBytes))
	}
	if l.CPU != "" {
		n, err := ParseCPU(l.CPU)
		if err != nil {
			return fmt.Errorf("runtime.limits.cpu: %w", err)
		}
		p.Limits.MilliCPU = n
	} else {
		defaulted = append(defaulted, "cpu "+FormatCPU(DefaultLimits.MilliCPU))
	}
	if l.Pids > 0 {
		p.Limits.Pids = int64(l.Pids)
	} else {
		defaulted = append(defaulted, "pids "+strconv.FormatInt(DefaultLimits.Pids, 10))
	}
	if len(defaulted) > 0 {
		p.note("default limits (not in runtime.limits): %s", strings.Join(defaulted, ", "))
	}
	return nil
}

func (p *Profile) setEgress(entries []string) error {
	for _, e := range entries {
		eg, err := ParseEgress(e)
		if err != nil {
			return fmt.Errorf("runtime.egress: %w", err)
		}
		p.Egress = append(p.Egress, eg)
	}
	if len(entries) == 0 {
		p.note("no runtime.egress in the charter: the process may connect nowhere")
	}
	return nil
}

// ParseEgress reads one runtime.egress entry: host:port, [ipv6]:port, ip:port or
// cidr:port.
func ParseEgress(s string) (Egress, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Egress{}, fmt.Errorf("%q: want host:port or cidr:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Egress{}, fmt.Errorf("%q: port must be a number from 1 to 65535", s)
	}
	e := Egress{Port: n}
	switch {
	case strings.Contains(host, "/"):
		_, ipn, err := net.ParseCIDR(host)
		if err != nil {
			return Egress{}, fmt.Errorf("%q: %q is not a CIDR range", s, host)
		}
		e.CIDR = ipn.String()
	case net.ParseIP(host) != nil:
		ip := net.ParseIP(host)
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		e.CIDR = (&net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}).String()
	case host == "" || strings.ContainsAny(host, " \t"):
		return Egress{}, fmt.Errorf("%q: want a host name, IP address or CIDR range before the port", s)
	default:
		e.Host = strings.ToLower(host)
	}
	return e, nil
}

// HostEgress returns the egress entries named by host, which address-based firewalls
// (Kubernetes NetworkPolicy) cannot express.
func (p *Profile) HostEgress() []Egress {
	var out []Egress
	for _, e := range p.Egress {
		if e.Host != "" {
			out = append(out, e)
		}
	}
	return out
}

// NoNetwork reports whether the container needs no network at all: nothing to reach
// and no port to serve.
func (p *Profile) NoNetwork() bool { return len(p.Egress) == 0 && len(p.Ports) == 0 }

func (p *Profile) setPorts(exposed map[string]struct{}) {
	for k := range exposed {
		num, proto, _ := strings.Cut(k, "/")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 65535 {
			p.note("the image exposes %q, which is not a port; left out", k)
			continue
		}
		if proto == "" {
			proto = "tcp"
		}
		p.Ports = append(p.Ports, Port{Number: n, Protocol: strings.ToLower(proto)})
	}
	sort.Slice(p.Ports, func(i, j int) bool {
		if p.Ports[i].Number != p.Ports[j].Number {
			return p.Ports[i].Number < p.Ports[j].Number
		}
		return p.Ports[i].Protocol < p.Ports[j].Protocol
	})
	for _, pt := range p.Ports {
		if pt.Number < 1024 && !slices.Contains(p.CapAdd, "NET_BIND_SERVICE") {
			p.note("the image exposes port %d: a non-root process binds ports below 1024 only with NET_BIND_SERVICE (runtime.capabilities.add) or where the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker does; Kubernetes does not by default)", pt.Number)
			break
		}
	}
}

// defaultPath is the PATH a process gets when the image sets none (Docker's default).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func (p *Profile) setProcess(cfg v1.Config) {
	p.Process.Args = append(append([]string(nil), cfg.Entrypoint...), cfg.Cmd...)
	if len(p.Process.Args) == 0 {
		p.note("the image sets no ENTRYPOINT or CMD: the OCI spec runs /bin/sh, give it the command to run")
		p.Process.Args = []string{"/bin/sh"}
	}
	p.Process.Cwd = cfg.WorkingDir
	if p.Process.Cwd == "" {
		p.Process.Cwd = "/"
	}
	hasPath := false
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if secrets.IsSecretName(k) && v != "" || len(secrets.ScanString(v)) > 0 {
			p.note("the image's Env %s looks like a secret (IMG002): left out of the OCI spec; give it to the container at run time", k)
			continue
		}
		hasPath = hasPath || k == "PATH"
		p.Process.Env = append(p.Process.Env, kv)
	}
	if !hasPath {
		p.Process.Env = append([]string{defaultPath}, p.Process.Env...)
	}
}
