package profile

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompDefault is Docker's default seccomp profile (moby's profiles/seccomp
// default.json, the version the module graph pins), kept as data: its allowlist, the
// entries gated on capabilities and architectures, and the socket domains it permits.
// TestDefaultSeccompMatchesMoby checks it against moby's own Go definition.
//
//go:embed seccomp_default.json
var seccompDefault []byte

// Seccomp is a seccomp profile in Docker's JSON format (`docker run --security-opt
// seccomp=FILE`, Kubernetes Localhost profiles): rules may be conditional on the
// container's capabilities and the host's architecture.
type Seccomp struct {
	DefaultAction   string        `json:"defaultAction"`
	DefaultErrnoRet *uint         `json:"defaultErrnoRet,omitempty"`
	ArchMap         []ArchMap     `json:"archMap,omitempty"`
	Syscalls        []SyscallRule `json:"syscalls"`
}

// ArchMap names an architecture and the sub-architectures it also runs.
type ArchMap struct {
	Architecture     string   `json:"architecture"`
	SubArchitectures []string `json:"subArchitectures"`
}

// SyscallRule gives a set of syscalls one action, under optional conditions.
type SyscallRule struct {
	Names    []string     `json:"names"`
	Action   string       `json:"action"`
	Args     []SeccompArg `json:"args,omitempty"`
	ErrnoRet *uint        `json:"errnoRet,omitempty"`
	Comment  string       `json:"comment,omitempty"`
	Includes *Filter      `json:"includes,omitempty"`
	Excludes *Filter      `json:"excludes,omitempty"`
}

// SeccompArg compares one syscall argument.
type SeccompArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Filter is a rule's condition: every listed capability held, one of the architectures,
// a kernel at least this version.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// DefaultSeccomp returns a fresh copy of Docker's default seccomp profile.
func DefaultSeccomp() *Seccomp {
	var s Seccomp
	if err := json.Unmarshal(seccompDefault, &s); err != nil {
		panic("embedded seccomp profile: " + err.Error()) // caught by every test run
	}
	return &s
}

var syscallName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// Deny removes syscalls from every rule that allows them, so the default action (an
// error) applies; it returns the names no rule allowed in the first place.
func (s *Seccomp) Deny(names []string) (notAllowed []string, err error) {
	for _, n := range names {
		if !syscallName.MatchString(n) {
			return nil, fmt.Errorf("%q is not a syscall name", n)
		}
	}
	removed := map[string]bool{}
	out := s.Syscalls[:0]
	for _, r := range s.Syscalls {
		if r.Action == string(specs.ActAllow) {
			kept := r.Names[:0:0]
			for _, n := range r.Names {
				if slices.Contains(names, n) {
					removed[n] = true
					continue
				}
				kept = append(kept, n)
			}
			if len(kept) == 0 {
				continue
			}
			r.Names = kept
		}
		out = append(out, r)
	}
	s.Syscalls = out
	for _, n := range names {
		if !removed[n] {
			notAllowed = append(notAllowed, n)
		}
	}
	return notAllowed, nil
}

// goArchNames maps Go's GOARCH to the architecture names seccomp profiles' conditions
// use, and nativeArch maps those to libseccomp's.
var (
	goArchNames = map[string]string{
		"386": "x86", "amd64": "amd64", "arm": "arm", "arm64": "arm64", "loong64": "loongarch64",
		"mips64": "mips64", "mips64le": "mipsel64", "mipsle": "mipsel", "ppc": "ppc",
		"ppc64": "ppc64", "ppc64le": "ppc64le", "riscv64": "riscv64", "s390": "s390", "s390x": "s390x",
	}
	nativeArch = map[string]specs.Arch{
		"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
		"loongarch64": specs.ArchLOONGARCH64, "mips64": specs.ArchMIPS64, "mipsel64": specs.ArchMIPSEL64,
		"mipsel": specs.ArchMIPSEL, "ppc": specs.ArchPPC, "ppc64": specs.ArchPPC64,
		"ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64, "s390": specs.ArchS390, "s390x": specs.ArchS390X,
	}
)

// Resolve evaluates the profile's conditions for a container on goArch holding caps
// (CAP_ names), as Docker does when it starts a container, and returns the filter an OCI
// runtime applies. Kernel-version conditions are taken as met: the one the default
// profile has (4.8) is older than any kernel current runtimes support.
func (s *Seccomp) Resolve(goArch string, caps []string) (*specs.LinuxSeccomp, error) {
	arch, ok := goArchNames[goArch]
	if !ok {
		return nil, fmt.Errorf("seccomp: unknown architecture %q", goArch)
	}
	out := &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(s.DefaultAction), DefaultErrnoRet: s.DefaultErrnoRet}
	for _, a := range s.ArchMap {
		if a.Architecture == string(nativeArch[arch]) {
			out.Architectures = append(out.Architectures, specs.Arch(a.Architecture))
			for _, sub := range a.SubArchitectures {
				out.Architectures = append(out.Architectures, specs.Arch(sub))
			}
		}
	}
	for _, r := range s.Syscalls {
		if !r.applies(arch, caps) {
			continue
		}
		sc := specs.LinuxSyscall{Names: slices.Clone(r.Names), Action: specs.LinuxSeccompAction(r.Action), ErrnoRet: r.ErrnoRet}
		for _, a := range r.Args {
			sc.Args = append(sc.Args, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: specs.LinuxSeccompOperator(a.Op)})
		}
		out.Syscalls = append(out.Syscalls, sc)
	}
	return out, nil
}

func (r SyscallRule) applies(arch string, caps []string) bool {
	if x := r.Excludes; x != nil {
		if slices.Contains(x.Arches, arch) {
			return false
		}
		for _, c := range x.Caps {
			if slices.Contains(caps, c) {
				return false
			}
		}
		if x.MinKernel != "" {
			return false
		}
	}
	if in := r.Includes; in != nil {
		if len(in.Arches) > 0 && !slices.Contains(in.Arches, arch) {
			return false
		}
		for _, c := range in.Caps {
			if !slices.Contains(caps, c) {
				return false
			}
		}
	}
	return true
}

// JSON renders the profile as Docker reads it, indented, with a final newline.
func (s *Seccomp) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (p *Profile) setSeccomp(deny []string) error {
	p.Seccomp = DefaultSeccomp()
	if len(deny) == 0 {
		return nil
	}
	notAllowed, err := p.Seccomp.Deny(deny)
	if err != nil {
		return fmt.Errorf("seccomp deny list: %w", err)
	}
	p.SeccompDeny = slices.Clone(deny)
	if len(notAllowed) > 0 {
		p.note("seccomp: %s not allowed by Docker's default profile anyway", strings.Join(notAllowed, ", "))
	}
	return nil
}

// capList returns the profile's kept capabilities with the CAP_ prefix.
func (p *Profile) capList() []string {
	out := make([]string, 0, len(p.CapAdd))
	for _, c := range p.CapAdd {
		out = append(out, "CAP_"+c)
	}
	return out
}
