// Command probe runs inside a container started with a charter profile and checks, from
// the inside, that the profile took effect: a non-root user, no capabilities,
// no-new-privileges, a seccomp filter, a read-only root with writable tmpfs, denied
// syscalls, and a memory limit that stops an over-allocating process. It prints one
// PASS or FAIL line per check and exits 1 when any check fails.
//
// Built static (CGO_ENABLED=0) into a root filesystem that holds nothing else but
// /etc/passwd, /etc/group, /tmp and a world-writable /var/probe (so that a failed write
// there proves the read-only mount, not file permissions).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

var failed bool

func check(name string, ok bool, format string, args ...any) {
	if ok {
		fmt.Printf("PASS %s\n", name)
		return
	}
	failed = true
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hog" {
		hog()
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "sleep" {
		// A long-running container for `charter inspect`.
		time.Sleep(10 * time.Minute)
		return
	}
	writable := flag.String("writable", "/tmp", "comma-separated paths that must be writable")
	readonly := flag.String("readonly", "/var/probe", "a world-writable directory on the root filesystem, which must refuse writes")
	denied := flag.String("denied", "getpriority", "a syscall the seccomp profile must deny: getpriority, or none")
	oom := flag.Bool("oom", true, "check that an over-allocating child is killed")
	flag.Parse()

	uid := os.Getuid()
	check("uid-nonroot", uid != 0, "uid is 0")
	fmt.Printf("info uid=%d gid=%d\n", uid, os.Getgid())
	if b, err := os.ReadFile("/proc/self/uid_map"); err == nil {
		// "0 0 4294967295" without a user namespace; the mapping with one
		fmt.Printf("info uid_map=%s\n", strings.Join(strings.Fields(string(b)), " "))
	}
	status := procStatus()
	for _, k := range []string{"CapEff", "CapPrm", "CapBnd", "CapAmb"} {
		check(strings.ToLower(k)+"-zero", status[k] == "0000000000000000", "%s is %s", k, status[k])
	}
	check("no-new-privs", status["NoNewPrivs"] == "1", "NoNewPrivs is %q", status["NoNewPrivs"])
	check("seccomp-filter", status["Seccomp"] == "2", "Seccomp is %q (2 = filter)", status["Seccomp"])

	err := os.WriteFile("/charter-probe", []byte("x"), 0o600)
	check("root-write-fails", err != nil, "wrote /charter-probe")
	err = os.WriteFile(*readonly+"/x", []byte("x"), 0o600)
	check("root-readonly", errors.Is(err, syscall.EROFS), "write to world-writable %s: %v (want EROFS)", *readonly, err)
	for _, w := range strings.Split(*writable, ",") {
		err := os.WriteFile(w+"/charter-probe", []byte("x"), 0o600)
		check("tmpfs-writable "+w, err == nil, "%v", err)
	}
	if *denied == "getpriority" {
		_, _, e := syscall.Syscall(syscall.SYS_GETPRIORITY, 0, 0, 0)
		check("seccomp-denies getpriority", e == syscall.EPERM, "getpriority returned errno %d (want EPERM)", e)
	}
	if *oom {
		checkOOM()
	}
	if failed {
		os.Exit(1)
	}
}

func procStatus() map[string]string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		check("proc-status", false, "%v", err)
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// checkOOM runs a child that allocates (and touches) up to 2 GiB: under the profile's
// memory limit the kernel kills it.
func checkOOM() {
	cmd := exec.Command("/proc/self/exe", "hog")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
	check("memory-limit-oom-kill", killed, "child allocating 2 GiB ended with %v (want SIGKILL from the OOM killer)", err)
}

func hog() {
	const chunk = 16 << 20
	var keep [][]byte
	for i := 0; i < 128; i++ {
		b := make([]byte, chunk)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	fmt.Printf("info hog allocated %d MiB and was not stopped\n", len(keep)*chunk>>20)
}
