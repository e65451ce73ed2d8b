#!/bin/sh
# A job in shell, run under `charter run`: posts item-000 … item-(ITEMS-1) to the platform
# once each, using charter's state API for idempotency. Exit 75 (EX_TEMPFAIL) asks
# charter for another attempt.
#
#   PLATFORM_URL, PLATFORM_TOKEN   the platform and its bearer token
#   ITEMS                          how many items
#   RECONCILE=1                    the platform can be asked whether a post exists
set -u
S=${CHARTER_STATE_SOCKET:?not run under charter run}
body=$(mktemp)
trap 'rm -f "$body"' EXIT

# The token is printed on purpose, split across writes: charter must mask it.
printf 'attempt %s, token ' "$CHARTER_ATTEMPT"
printf '%s' "$PLATFORM_TOKEN" | cut -c1-9 | tr -d '\n'
printf '%s\n' "$PLATFORM_TOKEN" | cut -c10-
echo "auth=Bearer $PLATFORM_TOKEN" >&2

state() { # METHOD PATH [curl args…] → prints the status code
  m=$1 p=$2
  shift 2
  curl -s -o "$body" -w '%{http_code}' --unix-socket "$S" -X "$m" "$@" "http://charter/v1/$p"
}
platform() { # PATH [curl args…]
  p=$1
  shift
  curl -s -o "$body" -w '%{http_code}' -H "Authorization: Bearer $PLATFORM_TOKEN" "$@" "$PLATFORM_URL/v1/$p"
}
record() { # KEY done|failed|unknown [curl args…]: the outcome must be recorded, or stop
  k=$1 a=$2
  shift 2
  c=$(state POST "claims/$k/$a" "$@")
  [ "$c" = 204 ] || { echo "recording $k $a: state API answered $c" >&2; exit 75; }
}

i=0
while [ "$i" -lt "$ITEMS" ]; do
  key=$(printf 'item-%03d' "$i")
  i=$((i + 1))
  case $(state POST "claims/$key") in
    200) continue ;; # done or failed in an earlier attempt
    201) ;;          # ours to run
    202)             # in flight when an attempt died: did the post go through?
      if [ "${RECONCILE:-0}" != 1 ]; then
        record "$key" failed --data "in flight after a crash; not posted again"
        continue
      fi
      case $(platform "posts?key=$key") in
        200) record "$key" done --data-binary @"$body"; continue ;;
        404) ;; # it did not: post it
        *) record "$key" unknown; exit 75 ;;
      esac
      ;;
    *) echo "claim $key: state API unavailable" >&2; exit 75 ;;
  esac
  code=$(platform posts -H 'Content-Type: application/json' -d "{\"key\":\"$key\",\"text\":\"hello from $key\"}")
  case $code in
    201) record "$key" done --data-binary @"$body" ;;
    429) # refused before anything happened: forget the claim and come back later
      state DELETE "claims/$key" >/dev/null
      echo "$key: rate limited" >&2
      exit 75 ;;
    4??) record "$key" failed --data "platform refused: $code" ;;
    *) # 5xx or no answer: it may have been posted
      record "$key" unknown
      echo "$key: platform answered $code" >&2
      exit 75 ;;
  esac
done
echo "all $ITEMS items handled"
