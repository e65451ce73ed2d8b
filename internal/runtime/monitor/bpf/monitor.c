// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// charter monitor's kernel side: three event kinds (exec, connect, open) written to one
// ring buffer. Everything the rules need is read here, while the task still exists:
// short-lived processes are gone before user space could look in /proc.
//
// Only raw tracepoints and BTF tracepoints are used (no kprobes): they load wherever BPF
// with BTF does. Kernel structs are declared locally with the fields read, and CO-RE
// relocations fit the offsets to the running kernel, so no vmlinux.h is needed.

//go:build ignore

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PATH_LEN 256
#define ARGS_LEN 256
#define CG_LEN 128
#define PREFIX_LEN 24

// System call numbers of the architecture the object is built for: bpf2go builds one
// object per target (x86-64, arm64) and defines __TARGET_ARCH_*. Calls made through
// another ABI (32-bit compat) are not seen.
#if defined(__TARGET_ARCH_x86)
#define NR_open 2
#define NR_connect 42
#define NR_openat 257
#define NR_openat2 437
#elif defined(__TARGET_ARCH_arm64)
#define NR_open -1 // arm64 has openat only
#define NR_connect 203
#define NR_openat 56
#define NR_openat2 437
#else
#error "monitor.c: unsupported target architecture"
#endif

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000

#define AF_INET 2
#define AF_INET6 10

enum event_kind { EV_EXEC = 1, EV_CONNECT = 2, EV_OPEN = 3 };

// event is the one record layout; monitor.go decodes it by offset.
struct event {
	__u64 ktime;
	__u64 cgroup_id;
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 vpid;       // the pid inside the task's own pid namespace
	__u32 pidns_level; // 0: the host's pid namespace
	__u32 flags;      // open flags
	__u16 family;     // connect: AF_INET or AF_INET6
	__u16 port;       // connect: network byte order
	__u8 addr[16];
	__u32 args_len;
	__u32 pad;
	char comm[16];
	char cg_leaf[CG_LEN];
	char cg_parent[CG_LEN];
	char path[PATH_LEN];
	char args[ARGS_LEN];
};

// Keeps struct event in the object's BTF, where a test checks decode's offsets against it.
const struct event *unused_event __attribute__((unused));

// Set by the loader before the object is loaded.
volatile const __u32 own_tgid = 0;
volatile const __u32 cgroup_v1 = 1; // read the memory controller's v1 hierarchy, else cgroup v2
volatile const __u32 egress_declared = 0; // the egress map holds runtime.egress

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

// drops counts ring buffer reservations that failed (the reader fell behind): user space
// reports the sum, so a lost event is never silent.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

// Kinds of event user space has no use for, per cgroup, as a bit mask (1 << kind): every
// kind for a process on the host or in a container not being watched, connects for a
// container when no egress allowlist is declared. User space fills it when it first
// classifies a cgroup, so after the first event the rest never leave the kernel. The key
// tells a process in its own pid namespace from one that is not (a runtime's helper
// joins a container's cgroup before its namespaces). An evicted entry only means the
// next event goes up and the entry is made again.
struct quiet_key {
	__u64 cgroup_id;
	__u32 in_pidns;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct quiet_key);
	__type(value, __u32);
} quiet SEC(".maps");

// The egress allowlist (runtime.egress) as longest-prefix keys: the destination port in
// network order, then the address as IPv6 (IPv4 mapped into ::ffff:0:0/96). A connect it
// allows cannot raise RT003, so it is not handed over.
struct egress_key {
	__u32 prefixlen; // bits of data that count: 16 for the port, then the address's
	__u8 data[20];   // port (2), address (16), padding (2)
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__type(key, struct egress_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} egress SEC(".maps");

// filtered counts, per kind, the events quiet and egress left out: the summary shows them,
// so what the kernel did not hand over is still accounted for.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} filtered SEC(".maps");

// The kernel types read, trimmed to the fields used.
struct kernfs_node {
	const char *name;
	__u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___parent {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___rcu_parent {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

enum cgroup_subsys_id { memory_cgrp_id = 4 };

struct css_set {
	struct cgroup_subsys_state *subsys[12];
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct upid {
	int nr;
} __attribute__((preserve_access_index));

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} __attribute__((preserve_access_index));

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct css_set *cgroups;
	struct pid *thread_pid;
	struct mm_struct *mm;
	struct fs_struct *fs;
} __attribute__((preserve_access_index));

struct linux_binprm {
	const char *filename;
} __attribute__((preserve_access_index));

// The registers a system call's first three arguments arrive in, as sys_enter's pt_regs
// holds them.
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
} __attribute__((preserve_access_index));
#define SYSCALL_ARG0(r) BPF_CORE_READ((struct pt_regs *)(r), di)
#define SYSCALL_ARG1(r) BPF_CORE_READ((struct pt_regs *)(r), si)
#define SYSCALL_ARG2(r) BPF_CORE_READ((struct pt_regs *)(r), dx)
#else
// arm64's pt_regs starts with the user registers x0–x30.
struct user_pt_regs {
	__u64 regs[31];
} __attribute__((preserve_access_index));
#define SYSCALL_ARG0(r) BPF_CORE_READ((struct user_pt_regs *)(r), regs[0])
#define SYSCALL_ARG1(r) BPF_CORE_READ((struct user_pt_regs *)(r), regs[1])
#define SYSCALL_ARG2(r) BPF_CORE_READ((struct user_pt_regs *)(r), regs[2])
#endif

struct open_how {
	__u64 flags;
};

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);
	if (n)
		*n += 1;
}

static __always_inline void count_filtered(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&filtered, &kind);
	if (n)
		*n += 1;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___rcu_parent, __parent))
		return BPF_CORE_READ((struct kernfs_node___rcu_parent *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___parent *)kn, parent);
}

// task_cgroup is the kernfs node of the cgroup containers are told apart by: the memory
// controller's on a v1 or hybrid host, the unified hierarchy's otherwise.
static __always_inline struct kernfs_node *task_cgroup(struct task_struct *t)
{
	struct cgroup *cg;
	if (cgroup_v1) {
		int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		if (idx < 0 || idx >= 12)
			return 0;
		cg = BPF_CORE_READ(t, cgroups, subsys[idx], cgroup);
	} else {
		cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	}
	if (!cg)
		return 0;
	return BPF_CORE_READ(cg, kn);
}

// is_quiet reports whether user space said it has no use for events of this kind from
// the task's cgroup, and counts them when so.
static __always_inline int is_quiet(struct task_struct *t, __u32 kind)
{
	struct kernfs_node *kn = task_cgroup(t);
	if (!kn)
		return 0;
	struct quiet_key k = {
		.cgroup_id = BPF_CORE_READ(kn, id),
		.in_pidns = BPF_CORE_READ(t, thread_pid, level) > 0,
	};
	__u32 *kinds = bpf_map_lookup_elem(&quiet, &k);
	if (kinds && (*kinds & (1u << kind))) {
		count_filtered(kind);
		return 1;
	}
	return 0;
}

static __always_inline void fill_cgroup(struct event *e, struct task_struct *t)
{
	struct kernfs_node *kn = task_cgroup(t);
	if (!kn)
		return;
	e->cgroup_id = BPF_CORE_READ(kn, id);
	bpf_probe_read_kernel_str(e->cg_leaf, CG_LEN, BPF_CORE_READ(kn, name));
	struct kernfs_node *parent = kn_parent(kn);
	if (parent)
		bpf_probe_read_kernel_str(e->cg_parent, CG_LEN, BPF_CORE_READ(parent, name));
}

static __always_inline void fill_task(struct event *e, struct task_struct *t)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	e->ktime = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	unsigned int level = BPF_CORE_READ(t, thread_pid, level);
	e->pidns_level = level;
	if (level < 32) {
		// numbers[] is indexed by level; its stride is the kernel's struct upid, not the
		// trimmed local one.
		struct pid *p = BPF_CORE_READ(t, thread_pid);
		__u64 off = bpf_core_field_offset(struct pid, numbers) +
			    level * bpf_core_type_size(struct upid) + bpf_core_field_offset(struct upid, nr);
		bpf_probe_read_kernel(&e->vpid, sizeof(e->vpid), (void *)p + off);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	fill_cgroup(e, t);
}

// submit hands a record over without waking anyone: user space drains the buffer on a
// timer (and again at once while it finds it busy), because a wakeup per event cost
// the traced process more than the tracing.
static __always_inline void submit(struct event *e)
{
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline struct event *reserve(void)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	return e;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	if (own_tgid && (bpf_get_current_pid_tgid() >> 32) == own_tgid)
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	if (is_quiet(t, EV_EXEC))
		return 0;
	struct event *e = reserve();
	if (!e)
		return 0;
	e->kind = EV_EXEC;
	fill_task(e, t);
	bpf_probe_read_kernel_str(e->path, PATH_LEN, BPF_CORE_READ(bprm, filename));
	unsigned long start = BPF_CORE_READ(t, mm, arg_start);
	unsigned long end = BPF_CORE_READ(t, mm, arg_end);
	unsigned long n = end - start;
	if (end > start) {
		if (n > ARGS_LEN)
			n = ARGS_LEN;
		if (bpf_probe_read_user(e->args, n, (void *)start) == 0)
			e->args_len = n;
	}
	submit(e);
	return 0;
}

static __always_inline int has_prefix(const char *s, const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i] != prefix[i])
			return 0;
	}
	return 1;
}

// interesting decides in the kernel which opens are worth a record: writes below the
// system directories, reads of the sensitive files, and writes by relative path from a
// task in a pid namespace of its own (user space resolves them against the cwd). Every
// other open, the overwhelming majority, costs a prefix comparison and nothing more.
static __always_inline int interesting(const char *p, int write, unsigned int level)
{
	if (p[0] != '/')
		return write && level > 0;
	if (write)
		return has_prefix(p, "/etc/", 5) || has_prefix(p, "/usr/", 5) || has_prefix(p, "/bin/", 5) ||
		       has_prefix(p, "/sbin/", 6) || has_prefix(p, "/lib", 4) || has_prefix(p, "/boot/", 6);
	return has_prefix(p, "/etc/shadow", 11) || has_prefix(p, "/etc/gshadow", 12) ||
	       has_prefix(p, "/etc/sudoers", 12) || has_prefix(p, "/etc/ssh/ssh_host_", 18) ||
	       has_prefix(p, "/root/.ssh/", 11) || has_prefix(p, "/home/", 6) ||
	       has_prefix(p, "/var/run/secrets/", 17) || has_prefix(p, "/run/secrets/", 13);
}

#define CWD_DEPTH 8
#define CWD_NAME 32

// fill_cwd writes the names of the working directory's dentries, innermost first, into
// the args area (CWD_DEPTH slots of CWD_NAME bytes) and their count plus one into
// args_len; 0 when the walk did not reach the process's root within CWD_DEPTH steps.
// Only a working directory on the same mount as the process's root is walked (a volume
// mounted at /data would otherwise read as /): for any other, user space asks /proc.
static __always_inline void fill_cwd(struct event *e, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	if (!fs || BPF_CORE_READ(fs, pwd.mnt) != BPF_CORE_READ(fs, root.mnt))
		return;
	struct dentry *root = BPF_CORE_READ(fs, root.dentry);
	struct dentry *d = BPF_CORE_READ(fs, pwd.dentry);
	for (int i = 0; i < CWD_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (!d || d == root || parent == d) {
			e->args_len = i + 1;
			return;
		}
		bpf_probe_read_kernel_str(&e->args[i * CWD_NAME], CWD_NAME, BPF_CORE_READ(d, d_name.name));
		d = parent;
	}
	if (d && (d == root || BPF_CORE_READ(d, d_parent) == d))
		e->args_len = CWD_DEPTH + 1;
}

static __always_inline int on_open(void *regs, long nr)
{
	const char *path;
	__u64 flags = 0;
	if (nr == NR_open) {
		path = (const char *)SYSCALL_ARG0(regs);
		flags = SYSCALL_ARG1(regs);
	} else if (nr == NR_openat) {
		path = (const char *)SYSCALL_ARG1(regs);
		flags = SYSCALL_ARG2(regs);
	} else {
		path = (const char *)SYSCALL_ARG1(regs);
		struct open_how *how = (struct open_how *)SYSCALL_ARG2(regs);
		bpf_probe_read_user(&flags, sizeof(flags), &how->flags);
	}
	int write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
	char prefix[PREFIX_LEN] = {};
	if (bpf_probe_read_user_str(prefix, sizeof(prefix), path) <= 0)
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	unsigned int level = BPF_CORE_READ(t, thread_pid, level);
	if (!interesting(prefix, write, level) || is_quiet(t, EV_OPEN))
		return 0;
	struct event *e = reserve();
	if (!e)
		return 0;
	e->kind = EV_OPEN;
	fill_task(e, t);
	e->flags = (__u32)flags;
	bpf_probe_read_user_str(e->path, PATH_LEN, path);
	if (prefix[0] != '/')
		fill_cwd(e, t);
	submit(e);
	return 0;
}

// egress_allows looks the destination up in the allowlist (when one is declared).
static __always_inline int egress_allows(const void *addr, __u16 family)
{
	if (!egress_declared)
		return 0;
	struct egress_key k = {.prefixlen = 16 + 128};
	if (bpf_probe_read_user(&k.data[0], 2, addr + 2) != 0)
		return 0;
	if (family == AF_INET) {
		k.data[12] = 0xff;
		k.data[13] = 0xff;
		if (bpf_probe_read_user(&k.data[14], 4, addr + 4) != 0)
			return 0;
	} else if (bpf_probe_read_user(&k.data[2], 16, addr + 8) != 0) {
		return 0;
	}
	if (!bpf_map_lookup_elem(&egress, &k))
		return 0;
	count_filtered(EV_CONNECT);
	return 1;
}

static __always_inline int on_connect(void *regs)
{
	const void *addr = (const void *)SYSCALL_ARG1(regs);
	__u16 family = 0;
	if (bpf_probe_read_user(&family, sizeof(family), addr) != 0)
		return 0;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	if (is_quiet(t, EV_CONNECT) || egress_allows(addr, family))
		return 0;
	struct event *e = reserve();
	if (!e)
		return 0;
	e->kind = EV_CONNECT;
	fill_task(e, t);
	e->family = family;
	bpf_probe_read_user(&e->port, sizeof(e->port), addr + 2);
	if (family == AF_INET)
		bpf_probe_read_user(e->addr, 4, addr + 4);
	else
		bpf_probe_read_user(e->addr, 16, addr + 8);
	submit(e);
	return 0;
}

// One program on raw_syscalls:sys_enter serves connect and the opens: system-call
// tracepoints of their own would need tracefs, this one needs only BPF.
SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	if (nr != NR_connect && nr != NR_openat && nr != NR_open && nr != NR_openat2)
		return 0;
	if (own_tgid && (bpf_get_current_pid_tgid() >> 32) == own_tgid)
		return 0;
	void *regs = (void *)ctx->args[0];
	if (nr == NR_connect)
		return on_connect(regs);
	return on_open(regs, nr);
}
