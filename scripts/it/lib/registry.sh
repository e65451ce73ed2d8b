# Shared by the integration scripts (sourced, not run: scripts/test.sh runs scripts/it/*.sh
# only). The caller defines log() and a cleanup trap that stops $REGISTRY_PID.

# free_port FIRST LAST prints a loopback TCP port in [FIRST, LAST] that nothing listens on.
free_port() {
  local p
  for p in $(seq "$1" "$2"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

# start_registry DIR ADDR starts Debian's docker-registry on ADDR (host:port), storing
# under DIR, sets REGISTRY_PID and returns once it answers; it exits the script when the
# registry does not come up.
start_registry() {
  local dir=$1 addr=$2
  mkdir -p "$dir/registry"
  cat >"$dir/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $dir/registry }
  delete: { enabled: true }
http:
  addr: $addr
YAML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 1 50); do
    curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break
    kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$dir/registry.log" >&2; log "FAIL: registry did not start"; exit 1; }
    sleep 0.2
  done
  curl -fsS "http://$addr/v2/" >/dev/null || { cat "$dir/registry.log" >&2; log "FAIL: registry not answering"; exit 1; }
}
