# Shared by the integration scripts; source it after defining log().

# missing reports a prerequisite that is not there: under CI a failure, locally a skip.
missing() {
  if [ "${CI:-}" = true ]; then
    log "FAIL: $*"
    exit 1
  fi
  log "skipped: $*"
  exit 0
}

# unmount_under lazily unmounts everything mounted below DIR, deepest first (what a
# daemon left behind when it was stopped hard).
unmount_under() {
  { grep -o " $1[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}
