#!/usr/bin/env bash
# Makes `docker build` / `docker-compose up` style tests possible on a Debian 12 machine without a Docker engine:
#   - podman (Debian) serves the Docker API on unix:///run/podman/podman.sock; docker-compose 1.29 (Debian) and any
#     `docker` client talk to it with DOCKER_HOST=unix:///run/podman/podman.sock;
#   - runc with the cgroupfs manager (crun fails without CAP_SYS_RESOURCE / with hybrid cgroups), and default ulimits
#     no higher than the machine's;
#   - the dnsname CNI plugin, so compose service names and network aliases resolve between containers;
#   - when no registry is reachable, a local stand-in for docker.io/library/node:20-bookworm-slim (a debootstrap'd
#     bookworm with this machine's node and npm), so `FROM node:20-bookworm-slim` builds unchanged.
# Idempotent: a second run changes nothing and prints one line. Run as root (or with sudo available).
# Usage: bash scripts/podman-setup.sh [--quiet]      then: export DOCKER_HOST=unix:///run/podman/podman.sock
# Users with a real Docker engine do not need this script (see docs/containers.md).
set -euo pipefail
QUIET=0; [ "${1:-}" = "--quiet" ] && QUIET=1
SOCK=/run/podman/podman.sock
BASE=docker.io/library/node:20-bookworm-slim
say() { [ "$QUIET" = 1 ] || printf '\033[1m[podman-setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
changed=0

# --- 1. Debian packages ------------------------------------------------------------------------------------------
pkgs=(podman runc golang-github-containernetworking-plugin-dnsname containernetworking-plugins dnsmasq-base
  docker-compose debootstrap curl)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/tmp/podman-setup-apt.log 2>&1 || { tail -20 /tmp/podman-setup-apt.log >&2; exit 1; }
  changed=1
fi

# --- 2. Container engine configuration -----------------------------------------------------------------------------
# Build containers start from a lower process limit than a login shell, hence the explicit nproc.
n=$(ulimit -Hn); [ "$n" = unlimited ] && n=65536; [ "$n" -gt 65536 ] && n=65536
conf="[containers]
default_ulimits = [\"nofile=$n:$n\", \"nproc=4096:4096\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
if [ "$(cat /etc/containers/containers.conf 2>/dev/null || true)" != "$conf" ]; then
  say "writing /etc/containers/containers.conf (runc, cgroupfs, ulimits nofile=$n)"
  as_root mkdir -p /etc/containers
  printf '%s\n' "$conf" | as_root tee /etc/containers/containers.conf >/dev/null
  changed=1
fi

# --- 3. The Docker API on a socket ---------------------------------------------------------------------------------
ping() { curl -fs --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK; }
if ! ping; then
  say "starting the Docker-compatible API on $SOCK (log: /tmp/podman-service.log)"
  as_root mkdir -p "$(dirname "$SOCK")"
  as_root setsid podman system service --time=0 "unix://$SOCK" >/tmp/podman-service.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do ping && break; sleep 0.2; done
  ping || { echo "[podman-setup] the podman API did not answer on $SOCK; see /tmp/podman-service.log" >&2; exit 1; }
  changed=1
fi

# --- 4. node:20-bookworm-slim --------------------------------------------------------------------------------------
# The stand-in is one layer labelled fishjam-ts.stand-in=<version>; an older stand-in (including one from the reference
# recipe, unlabelled) is rebuilt; a pulled image (several layers) is kept.
STANDIN_VERSION=2
if podman image exists "$BASE"; then
  layers=$(podman image inspect -f '{{len .RootFS.Layers}}' "$BASE")
  label=$(podman image inspect -f '{{index .Labels "fishjam-ts.stand-in"}}' "$BASE")
  if [ "$layers" = 1 ] && [ "$label" != "$STANDIN_VERSION" ]; then
    say "replacing an older local stand-in for $BASE"
    podman rmi -f "$BASE" >/dev/null
  fi
fi
if ! podman image exists "$BASE"; then
  if timeout 60 podman pull -q "$BASE" >/dev/null 2>&1; then
    say "pulled $BASE"
  else
    # No registry: a stand-in with the same name. Built from this machine's Debian mirror and node, once.
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    root=$(mktemp -d /tmp/node-base-XXXX)
    trap 'as_root rm -rf "$root"' EXIT
    say "no registry reachable: building a local $BASE (debootstrap bookworm, about 1 min)"
    as_root debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >/tmp/node-base-debootstrap.log 2>&1 \
      || { tail -5 /tmp/node-base-debootstrap.log >&2; exit 1; }
    node_bin=$(readlink -f "$(command -v node)")
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    as_root cp "$node_bin" "$root/usr/bin/node"
    as_root mkdir -p "$root/usr/lib/node_modules"
    as_root cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
    as_root ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
    as_root ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
    [ -f /etc/apt/sources.list.d/debian.sources ] && as_root cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    # This machine's certificate authorities (an egress proxy may re-sign TLS): npm inside builds must trust what the
    # machine trusts. Kept across a later `apt-get install ca-certificates` by /usr/local/share/ca-certificates.
    as_root mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
    [ -f /etc/ssl/certs/ca-certificates.crt ] && as_root cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    as_root cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
    # The official image has a `node` user with uid/gid 1000; so does the stand-in.
    as_root chroot "$root" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node' >/dev/null
    as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    as_root tar -C "$root" -c . | as_root podman import -q --change 'CMD ["node"]' \
      --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      --change "LABEL fishjam-ts.stand-in=$STANDIN_VERSION" - "$BASE" >/dev/null
    say "imported $BASE (node $(node --version))"
  fi
  changed=1
fi

if [ "$changed" = 1 ]; then
  say "ready: export DOCKER_HOST=unix://$SOCK; docker-compose up -d; podman build --format docker ."
else
  say "already set up (DOCKER_HOST=unix://$SOCK)"
fi
