#!/usr/bin/env bash
# Measures what `charter monitor` costs the processes it watches: an exec-heavy loop
# (fork+exec of /bin/true) and a connect-heavy loop (TCP connects to a loopback port),
# each run without and with the monitor (eBPF source, every container, JSON Lines to
# /dev/null), alternating, ROUNDS times; prints the median of each, the slowdown, the
# rate reached, the monitor's counts (events seen, filtered in the kernel, dropped) and
# its CPU time; then a burst of opens of a sensitive file (an event each) for drops; and
# the load average, since a shared machine's load moves every number. Needs root.
#
# Each loop runs twice: on the host, and in a container (a pid namespace and a cgroup of
# its own, which is what the monitor goes by) whose connects go to a destination its
# charter's runtime.egress allows: the case of a watched service doing its job. Every
# exec in a container is handed to user space (RT001, RT002 judge each one); a host
# process's events and allowed connects are left out in the kernel after the first.
# A third connect case goes to a destination outside the allowlist: every connect is an
# RT003 alert, the worst case, shown for scale.
#
#   scripts/bench/monitor.sh                      # 20,000 execs, 100,000 connects, 3 rounds,
#                                                 # then 200,000 opens of /etc/shadow for drops
#   EXECS=50000 WORKERS=4 ROUNDS=5 scripts/bench/monitor.sh
#   CASES="exec-container connect-container" scripts/bench/monitor.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "bench/monitor: needs root (eBPF)" >&2; exit 2; }
EXECS=${EXECS:-20000}
CONNECTS=${CONNECTS:-100000}
OPENS=${OPENS:-200000}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
# Which cases to run (all by default).
CASES=${CASES:-exec-host exec-container connect-host connect-container connect-denied open-burst alert-burst}
DIR=$(mktemp -d /tmp/charter-bench-monitor.XXXXXX)
MON_PID=
CG=/sys/fs/cgroup/charter-bench-$$
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || CG=/sys/fs/cgroup/memory/charter-bench-$$
cleanup() {
  [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
  rmdir "$CG" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

# The load generator: WORKERS goroutines, each fork+exec'ing /bin/true (or connecting to
# a loopback listener) in a loop, so the rate is bound by the kernel, not a shell.
mkdir -p "$DIR/loop"
cat >"$DIR/loop/main.go" <<'GO'
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	mode, n, workers := os.Args[1], atoi(os.Args[2]), atoi(os.Args[3])
	var addr string
	if mode == "connect" {
		ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[4])
		if err != nil {
			panic(err)
		}
		addr = ln.Addr().String()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(count int) {
			defer wg.Done()
			for i := 0; i < count; i++ {
				if mode == "exec" {
					pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
					if err != nil {
						panic(err)
					}
					var ws syscall.WaitStatus
					if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
						panic(err)
					}
					continue
				}
				if mode == "open" {
					f, err := os.Open("/etc/shadow")
					if err != nil {
						panic(err)
					}
					_ = f.Close()
					continue
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					panic(err)
				}
				_ = c.Close()
			}
		}(n / workers)
	}
	wg.Wait()
	el := time.Since(start)
	// CPU time of this process and its children: the kernel-side cost of tracing lands in
	// the system time of the process making the system call, and it is far less swayed by
	// other load on the machine than the wall time.
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	cpu := tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
	fmt.Printf("%.3f %.0f %.3f\n", el.Seconds(), float64(n)/el.Seconds(), cpu)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
GO
(cd "$DIR/loop" && printf 'module loop\ngo 1.26\n' >go.mod && go build -o "$DIR/loopbin" .)
go build -o "$DIR/charter" ./cmd/charter

# The allowlist: the connect loop's port; the denied case uses another one.
# Below the ephemeral range (32768 and up), where 100,000 client connects leave their
# local ports in TIME_WAIT.
ALLOWED_PORT=$((10000 + $$ % 20000))
DENIED_PORT=$((ALLOWED_PORT + 1))
# The open burst's reads of /etc/shadow are excepted (counted, not reported) unless
# ALERT=1: the burst measures the event pipeline; the alert burst, alerts.
cat >"$DIR/charter.yaml" <<YAML
version: 1
runtime:
  egress: ["127.0.0.1:$ALLOWED_PORT"]
monitor:
  exceptions:
    - rule: RT005
      process: loopbin
      reason: the benchmark's open burst reads /etc/shadow on purpose
YAML
cat >"$DIR/charter-alert.yaml" <<YAML
version: 1
runtime:
  egress: ["127.0.0.1:$ALLOWED_PORT"]
YAML
mkdir "$CG"

start_monitor() { # start_monitor [CHARTER_FILE]
  "$DIR/charter" monitor --all --charter "${1:-$DIR/charter.yaml}" --format jsonl --source bpf >/dev/null 2>"$DIR/mon.err" &
  MON_PID=$!
  for _ in $(seq 1 100); do
    if grep -q watching "$DIR/mon.err" 2>/dev/null; then
      MON_TICKS0=$(awk '{print $14 + $15}' "/proc/$MON_PID/stat")
      return
    fi
    sleep 0.1
  done
  cat "$DIR/mon.err" >&2
  exit 1
}
stop_monitor() { # prints the counts line and the monitor's own CPU seconds
  local ticks cpu
  # Start-up (loading the kernel's BTF for CO-RE, the programs) is left out: this is the
  # monitor's cost while the loop ran.
  ticks=$(awk -v t0="$MON_TICKS0" '{print $14 + $15 - t0}' "/proc/$MON_PID/stat")
  cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t/hz}')
  kill -INT "$MON_PID"
  # This runs in $(…), a subshell, where wait cannot wait for the monitor: poll for it.
  while kill -0 "$MON_PID" 2>/dev/null; do sleep 0.05; done
  MON_PID=
  echo "$(grep ' events (' "$DIR/mon.err" | sed 's/^charter monitor: //'); monitor CPU ${cpu} s"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# loop WHERE MODE N PORT: runs the load generator on the host or in the container.
loop() {
  local where=$1
  shift
  if [ "$where" = host ]; then
    "$DIR/loopbin" "$@"
  else
    sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec unshare --pid --fork "$@"' sh "$CG" "$DIR/loopbin" "$@"
  fi
}

run_case() { # run_case WHERE MODE N [PORT]
  local where=$1 mode=$2 n=$3 port=${4:-0} r name
  name="$mode-$where"
  [ "$port" = "$DENIED_PORT" ] && name="$mode-$where-denied"
  : >"$DIR/$name.off"
  : >"$DIR/$name.on"
  for r in $(seq 1 "$ROUNDS"); do
    loop "$where" "$mode" "$n" "$WORKERS" "$port" >>"$DIR/$name.off"
    start_monitor
    loop "$where" "$mode" "$n" "$WORKERS" "$port" >>"$DIR/$name.on"
    echo "  $name round $r: off $(tail -n1 "$DIR/$name.off"), on $(tail -n1 "$DIR/$name.on") (wall s, per s, CPU s); monitor: $(stop_monitor); load $(cut -d' ' -f1 /proc/loadavg)"
  done
  local mode=$name
  local col
  for col in 1 3; do
    local off on what
    off=$(cut -d' ' -f$col "$DIR/$mode.off" | median)
    on=$(cut -d' ' -f$col "$DIR/$mode.on" | median)
    what=wall
    [ "$col" = 3 ] && what=CPU
    awk -v m="$mode" -v n="$n" -v w="$what" -v off="$off" -v on="$on" 'BEGIN {
      printf "%s x%d, median %s time: without monitor %.3f s, with monitor %.3f s: %+.1f%%\n", m, n, w, off, on, (on-off)/off*100 }'
  done
  echo "$mode rate (median): without $(cut -d' ' -f2 "$DIR/$mode.off" | median)/s, with $(cut -d' ' -f2 "$DIR/$mode.on" | median)/s"
  # Each round runs without and then with the monitor, back to back: the ratio within a
  # round is spared the drift of the machine's load from round to round.
  paste -d' ' "$DIR/$mode.off" "$DIR/$mode.on" | awk -v m="$mode" '{ w += log($4/$1); c += log($6/$3); n++ } END {
    printf "%s, geometric mean of the per-round ratios: wall %+.1f%%, CPU %+.1f%%\n", m, (exp(w/n)-1)*100, (exp(c/n)-1)*100 }'
}

echo "bench/monitor: $(nproc) cores, kernel $(uname -r), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }
if want exec-host; then run_case host exec "$EXECS"; fi
if want exec-container; then run_case container exec "$EXECS"; fi
if want connect-host; then run_case host connect "$CONNECTS" "$ALLOWED_PORT"; fi
if want connect-container; then run_case container connect "$CONNECTS" "$ALLOWED_PORT"; fi
if want connect-denied; then run_case container connect "$((CONNECTS / 10))" "$DENIED_PORT"; fi
# Drops: a burst of opens of /etc/shadow (each one a record, the same size as an exec's)
# from the container at the fastest rate this machine makes them, with the monitor
# reading: first excepted (each is judged and counted: the event pipeline's rate), then
# with every open an RT005 alert written as JSON (the alert pipeline's rate).
if want open-burst; then
  start_monitor
  burst=$(loop container open "$OPENS" "$WORKERS" 0)
  echo "open burst x$OPENS in the container, excepted (wall s, per s, CPU s): $burst; monitor: $(stop_monitor)"
fi
if want alert-burst; then
  start_monitor "$DIR/charter-alert.yaml"
  burst=$(loop container open "$((OPENS / 5))" "$WORKERS" 0)
  echo "open burst x$((OPENS / 5)) in the container, each an alert (wall s, per s, CPU s): $burst; monitor: $(stop_monitor)"
fi
echo "bench/monitor: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
