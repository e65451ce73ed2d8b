//go:build unix

package vulndb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestHelperUpdate is the child process of the crash tests: it runs one Update of
// CHARTER_TEST_ZIP into CHARTER_TEST_DIR, under a file-size limit when asked.
func TestHelperUpdate(t *testing.T) {
	dir := os.Getenv("CHARTER_TEST_DIR")
	if dir == "" {
		t.Skip("child process of the crash tests only")
	}
	if n, _ := strconv.ParseUint(os.Getenv("CHARTER_TEST_FSIZE"), 10, 64); n > 0 {
		// writes past n bytes fail with EFBIG, as on a full disk
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Update(context.Background(), dir, UpdateOptions{}, Source{Name: "snapshot", Location: os.Getenv("CHARTER_TEST_ZIP")})
	if err == nil {
		t.Fatal("update succeeded")
	}
	t.Logf("update failed as expected: %v", err)
}

func child(t *testing.T, dir, zip string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUpdate$", "-test.v")
	cmd.Env = append(os.Environ(), append(env, "CHARTER_TEST_DIR="+dir, "CHARTER_TEST_ZIP="+zip)...)
	return cmd
}

// TestKilledUpdateKeepsDatabase kills an update with SIGKILL while it writes the new
// database: the current one must be untouched, and the next update must clean up and
// succeed.
func TestKilledUpdateKeepsDatabase(t *testing.T) {
	dir, seeded := seedDB(t)
	zip := synthZip(t, 60000)
	cmd := child(t, dir, zip)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*")); len(m) == 1 {
			if fi, err := os.Stat(m[0]); err == nil && fi.Size() > int64(len(seeded))+(1<<20) {
				break // the new database is being written
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the child never started writing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if m, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*")); len(m) != 1 {
		t.Fatalf("expected the killed update's temporary file, found %v", m)
	}
	assertIntact(t, dir, seeded)
	if _, err := Update(context.Background(), dir, UpdateOptions{}, snapshot()); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, dir)
}

// TestFullDiskKeepsDatabase runs an update whose writes fail past a size limit.
func TestFullDiskKeepsDatabase(t *testing.T) {
	dir, seeded := seedDB(t)
	zip := synthZip(t, 30000)
	out, err := child(t, dir, zip, "CHARTER_TEST_FSIZE="+strconv.Itoa(len(seeded)+(2<<20))).CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	assertIntact(t, dir, seeded)
	noLeftovers(t, dir)
}
