#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, npm packages, the mediasoup worker, a TypeScript build),
# type-checks, then runs every workspace's tests. This is the README's test command and what CI runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --test
echo "[test] type-checking"
npm run typecheck --silent
echo "[test] running tests"
npm test
