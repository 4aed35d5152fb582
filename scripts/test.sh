#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, npm packages, the mediasoup worker, a TypeScript build),
# type-checks, then runs every workspace's tests. This is the README's test command and what CI runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --test
# containers: podman serving the Docker API + docker-compose (Debian); the compose e2e test builds and runs the image
bash scripts/podman-setup.sh --quiet || echo "[test] podman set-up failed: the compose e2e test will be skipped"
echo "[test] type-checking"
npm run typecheck --silent
echo "[test] running tests"
npm test
