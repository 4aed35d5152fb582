#!/usr/bin/env bash
# One-step set-up on Debian 12 + node 20 (run as root, or with sudo):
#   system packages -> npm ci -> mediasoup worker (cached, or built with our patches against Debian libs) -> TypeScript build.
# Idempotent: a second run installs nothing new and reuses the cached worker.
# Usage: bash scripts/setup.sh [--test]   (--test also installs what the test suites need: chromium, dnsmasq, iproute2)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WITH_TEST_DEPS=0
[ "${1:-}" = "--test" ] && WITH_TEST_DEPS=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- 1. Debian packages ----------------------------------------------------------------------------------------
# coturn is the integrated TURN server each node runs (Fishjam's web SDK only connects through TURN relays);
# ffmpeg plays File components into rooms (and the component tests make their media with it).
BUILD_PKGS=(build-essential pkg-config libuv1-dev libssl-dev libsrtp2-dev libabsl-dev libflatbuffers-dev
  flatbuffers-compiler ninja-build python3-invoke coturn ffmpeg)
# the RTSP tests' camera: GStreamer's RTSP server (python3-gi bindings), x264enc (ugly), rtph264pay (good);
# the SIP tests' registrar (kamailio) and callee (baresip)
TEST_PKGS=(chromium dnsmasq-base iproute2 iptables wrk procps unzip
  gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly kamailio baresip-core)
want=("${BUILD_PKGS[@]}")
[ "$WITH_TEST_DEPS" = 1 ] && want+=("${TEST_PKGS[@]}")
missing=()
for p in "${want[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
need_meson=0
if ! command -v meson >/dev/null || [ "$(printf '%s\n' 1.1.0 "$(meson --version)" | sort -V | head -n 1)" != 1.1.0 ]; then
  need_meson=1
fi
if [ "${#missing[@]}" -gt 0 ] || [ "$need_meson" = 1 ]; then
  if [ "$need_meson" = 1 ] && [ ! -f /etc/apt/sources.list.d/fishjam-backports.sources ]; then
    # mediasoup needs meson >= 1.1; bookworm has 1.0, bookworm-backports has 1.7. Same mirror as the machine uses.
    mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 | awk '{print $2}')
    [ -n "$mirror" ] || mirror=$(grep -hoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    say "adding bookworm-backports from $mirror (for meson >= 1.1)"
    as_root tee /etc/apt/sources.list.d/fishjam-backports.sources >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  say "installing Debian packages: ${missing[*]:-} $([ "$need_meson" = 1 ] && echo meson)"
  as_root apt-get update -qq
  [ "${#missing[@]}" -gt 0 ] && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$need_meson" = 1 ] && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends -t bookworm-backports meson >/dev/null
else
  say "Debian packages already installed"
fi

# --- 2. npm dependencies (mediasoup's own postinstall is skipped; step 3 provides the worker) ------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
else
  say "node_modules up to date"
fi

# --- 3. mediasoup worker -------------------------------------------------------------------------------------
bash media-server/tools/mediasoup/install-worker.sh

# --- 4. TypeScript ---------------------------------------------------------------------------------------------
say "compiling TypeScript"
npm run build --silent
say "done"
