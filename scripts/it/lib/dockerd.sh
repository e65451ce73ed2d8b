# shellcheck shell=bash
# Shared by the integration scripts (sourced, not run). The caller defines log() and a
# cleanup trap that calls stop_dockerd.

# start_dockerd DIR starts a private dockerd (its own socket, data and exec roots; no
# iptables, no bridge: containers get --network none or host), exports DOCKER_HOST, sets
# DOCKERD_PID and returns once it answers; it exits the script when dockerd does not come up.
start_dockerd() {
  local dir=$1
  export DOCKER_HOST=unix://$dir/d.sock
  dockerd --host "$DOCKER_HOST" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/d.pid" --iptables=false --bridge=none >"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$dir/dockerd.log" >&2; log "FAIL: dockerd exited"; exit 1; }
    sleep 0.5
  done
  tail -n 30 "$dir/dockerd.log" >&2
  log "FAIL: dockerd not answering"
  exit 1
}

# stop_dockerd DIR stops the dockerd start_dockerd started and unmounts what it left under DIR.
stop_dockerd() {
  local dir=$1
  if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
  fi
  { grep -o " ${dir}[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

# busybox_image DIR NAME imports a one-binary image (busybox and its applet links, a passwd
# and a shadow file) as NAME, with `sleep 600` as its command: no registry is used.
busybox_image() {
  local dir=$1 name=$2 bb root a
  bb=$(command -v busybox)
  root=$dir/busybox-rootfs
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  cp "$bb" "$root/bin/busybox"
  for a in sh ash cat cp ls nc sleep tee true id echo chmod wget; do ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:*:20000:0:99999:7:::\n' >"$root/etc/shadow"
  chmod 640 "$root/etc/shadow"
  chmod 1777 "$root/tmp"
  tar -C "$root" -cf "$dir/busybox-rootfs.tar" .
  docker import --change 'CMD ["/bin/sleep", "600"]' "$dir/busybox-rootfs.tar" "$name" >/dev/null
}
