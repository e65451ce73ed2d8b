package profile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// OCIVersion is the runtime-spec version the generated config.json declares: the
// oldest that has every field it uses (defaultErrnoRet), so runc 1.1 and crun read it.
const OCIVersion = "1.0.2"

// cpuPeriod is the CFS period the CPU limit is expressed over (100 ms, Docker's too).
const cpuPeriod = 100000

// OCI returns the runtime spec (config.json) that runs the image's root filesystem,
// unpacked at rootfs/ beside it, under this profile: runc run or crun run in that
// directory. The container gets its own PID, IPC, UTS, mount, cgroup and network
// namespaces; the network namespace holds only loopback until something (CNI, a
// bridge) is wired into it. With UserNS set it gets a user namespace too, its IDs mapped
// as UserNS says.
func (p *Profile) OCI() (*specs.Spec, error) {
	sc, err := p.Seccomp.Resolve(p.Arch, p.capList())
	if err != nil {
		return nil, err
	}
	caps := p.capList()
	if len(caps) == 0 {
		caps = nil
	}
	uid, gid := uint32(p.User.UID), uint32(p.User.GID) //nolint:gosec // IDs are parsed as uint32
	spec := &specs.Spec{
		Version: OCIVersion,
		Process: &specs.Process{
			User: specs.User{UID: uid, GID: gid},
			Args: p.Process.Args, Env: p.Process.Env, Cwd: p.Process.Cwd,
			// Ambient too, or a non-root process would lose the kept capabilities at exec.
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps, Ambient: caps, Inheritable: caps,
			},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: p.Name,
		Mounts:   p.ociMounts(),
		Linux: &specs.Linux{
			Resources: p.ociResources(),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			Seccomp:       sc,
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}
	if m := p.UserNS; m != nil {
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: m.HostID, Size: m.Size}}
		spec.Linux.UIDMappings, spec.Linux.GIDMappings = ids, slices.Clone(ids)
	}
	return spec, nil
}

// OCIJSON renders the runtime spec as config.json, indented, with a final newline.
func (p *Profile) OCIJSON() ([]byte, error) {
	spec, err := p.OCI()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return append(b, '\n'), nil
}

func (p *Profile) ociResources() *specs.LinuxResources {
	mem := p.Limits.MemoryBytes
	quota := p.Limits.MilliCPU * cpuPeriod / 1000
	period := uint64(cpuPeriod)
	no, pids := false, p.Limits.Pids
	return &specs.LinuxResources{
		// Only the devices the runtime creates itself (null, zero, tty…) are usable.
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		// Swap equal to the limit: no swap beyond memory, so the limit is real.
		Memory: &specs.LinuxMemory{Limit: &mem, Swap: &mem, DisableOOMKiller: &no},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
		Pids:   &specs.LinuxPids{Limit: &pids},
	}
}

func (p *Profile) ociMounts() []specs.Mount {
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	for _, t := range p.Tmpfs {
		opts := append(append([]string(nil), TmpfsOptions...), "mode=1777", "size="+strconv.FormatInt(t.SizeBytes, 10))
		ms = append(ms, specs.Mount{Destination: t.Path, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	return ms
}

// maskedPaths and readonlyPaths hide the parts of /proc and /sys that describe or
// control the host, as Docker and runc's default spec do.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)
