#!/usr/bin/env bash
# Puts a mediasoup-worker binary where mediasoup looks for it (node_modules/mediasoup/worker/out/Release/).
# Order: 1) the cache outside node_modules (keyed by mediasoup version), 2) mediasoup's prebuilt download (works where
# GitHub is reachable), 3) a build from mediasoup's own sources against Debian's libraries (build-worker.sh).
# The result is copied into the cache so a second install, even into a fresh node_modules, does not rebuild.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
say() { printf '\033[1m[mediasoup]\033[0m %s\n' "$*"; }

MS_DIR=$(cd "$HERE/../.." && node -p "require('path').resolve(require('path').dirname(require.resolve('mediasoup')), '..', '..')")
MS_VERSION=$(node -p "require('$MS_DIR/package.json').version")
BIN="$MS_DIR/worker/out/Release/mediasoup-worker"
CACHE_DIR="${FJ_WORKER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fishjam-ts}"
CACHED="$CACHE_DIR/mediasoup-worker-$MS_VERSION-$(uname -m)"

loads() { "$1" >/dev/null 2>&1 || [ $? -eq 41 ]; } # 41: "run me from Node", i.e. the binary loads and links

if [ -x "$BIN" ] && loads "$BIN"; then
  say "worker $MS_VERSION present: $BIN"
elif [ -x "$CACHED" ] && loads "$CACHED"; then
  say "worker $MS_VERSION from cache: $CACHED"
  mkdir -p "$(dirname "$BIN")" && cp "$CACHED" "$BIN"
else
  say "trying mediasoup's prebuilt worker $MS_VERSION (needs GitHub; 20 s limit)"
  if (cd "$MS_DIR" && timeout 30 node "$HERE/fetch-prebuilt.mjs" "$MS_DIR") && loads "$BIN"; then
    say "prebuilt worker installed"
  else
    say "no prebuilt worker reachable; building from source against Debian libraries (2-5 min on 2 cores)"
    start=$(date +%s)
    # Progress: the build is quiet for minutes, so print a heartbeat with the number of compiled objects.
    ( while sleep 20; do
        n=$(find "$MS_DIR/worker/out" -name '*.o' 2>/dev/null | wc -l)
        say "... still building ($(( $(date +%s) - start )) s, $n objects compiled)"
      done ) &
    beat=$!
    trap 'kill $beat 2>/dev/null || true' EXIT
    log="$CACHE_DIR/build-$MS_VERSION.log"
    mkdir -p "$CACHE_DIR"
    if ! sh "$HERE/build-worker.sh" >"$log" 2>&1; then
      kill $beat 2>/dev/null || true
      tail -n 40 "$log"
      say "worker build failed; full log: $log"
      exit 1
    fi
    kill $beat 2>/dev/null || true
    say "built in $(( $(date +%s) - start )) s (log: $log)"
  fi
  mkdir -p "$CACHE_DIR" && cp "$BIN" "$CACHED.tmp" && mv "$CACHED.tmp" "$CACHED"
  say "cached at $CACHED"
fi
