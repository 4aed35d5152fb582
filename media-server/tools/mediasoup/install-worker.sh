#!/usr/bin/env bash
# Puts the project's mediasoup-worker where mediasoup looks for it (node_modules/mediasoup/worker/out/Release/) and
# patches mediasoup's JS. The worker carries our patches (patches/*.patch: forwarded packets get each receiver's own
# header extension ids), so mediasoup's prebuilt download is never used. Order: 1) the binary already installed with
# the current patches, 2) the cache outside node_modules (keyed by mediasoup version and patch id), 3) a build from
# mediasoup's own sources against Debian's libraries (build-worker.sh), copied into the cache so a second install,
# even into a fresh node_modules, does not rebuild.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
say() { printf '\033[1m[mediasoup]\033[0m %s\n' "$*"; }

MS_DIR=$(cd "$HERE/../.." && node -p "require('path').resolve(require('path').dirname(require.resolve('mediasoup')), '..', '..')")
MS_VERSION=$(node -p "require('$MS_DIR/package.json').version")
PATCH_ID=$(sh "$HERE/patch-id.sh")
BIN="$MS_DIR/worker/out/Release/mediasoup-worker"
STAMP="$MS_DIR/worker/out/Release/.fishjam-patches-$PATCH_ID"
CACHE_DIR="${FJ_WORKER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fishjam-ts}"
CACHED="$CACHE_DIR/mediasoup-worker-$MS_VERSION-$(uname -m)-$PATCH_ID"

loads() { "$1" >/dev/null 2>&1 || [ $? -eq 41 ]; } # 41: "run me from Node", i.e. the binary loads and links
digest() { sha256sum "$1" | cut -d' ' -f1; }
# The stamp holds the digest of the binary it vouches for: a binary replaced behind our back (mediasoup's own
# postinstall unpacking its unpatched prebuilt worker, say) no longer matches it and is rebuilt or taken from the cache.
stamped() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(digest "$BIN")" ]; }

# mediasoup's JS half of the patches, every time: npm ci brings the package back unpatched.
sh "$HERE/apply-patches.sh" "$MS_DIR" | sed 's/^/[mediasoup] /'

if [ -x "$BIN" ] && stamped && loads "$BIN"; then
  say "worker $MS_VERSION (patches $PATCH_ID) present: $BIN"
elif [ -x "$CACHED" ] && loads "$CACHED"; then
  say "worker $MS_VERSION (patches $PATCH_ID) from cache: $CACHED"
  # (through a rename: the old binary may be running)
  mkdir -p "$(dirname "$BIN")" && cp "$CACHED" "$BIN.tmp" && mv -f "$BIN.tmp" "$BIN" && digest "$BIN" >"$STAMP"
else
  say "building worker $MS_VERSION with patches $PATCH_ID from source against Debian libraries (3-8 min on 2 cores)"
  start=$(date +%s)
  # Progress: the build is quiet for minutes, so print a heartbeat with the number of compiled objects.
  ( while sleep 20; do
      n=$(find "$MS_DIR/worker/out" -name '*.o' 2>/dev/null | wc -l)
      say "... still building ($(( $(date +%s) - start )) s, $n objects compiled)"
    done ) &
  beat=$!
  trap 'kill $beat 2>/dev/null || true' EXIT
  mkdir -p "$CACHE_DIR"
  rm -f "$STAMP" # build-worker.sh skips the build when it finds a stamp
  log="$CACHE_DIR/build-$MS_VERSION-$PATCH_ID.log"
  if ! sh "$HERE/build-worker.sh" >"$log" 2>&1; then
    kill $beat 2>/dev/null || true
    tail -n 40 "$log"
    say "worker build failed; full log: $log"
    exit 1
  fi
  kill $beat 2>/dev/null || true
  say "built in $(( $(date +%s) - start )) s (log: $log)"
  digest "$BIN" >"$STAMP"
  cp "$BIN" "$CACHED.tmp" && mv "$CACHED.tmp" "$CACHED"
  say "cached at $CACHED"
fi
