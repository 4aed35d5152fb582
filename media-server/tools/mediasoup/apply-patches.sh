#!/bin/sh
# Applies the project's patches (patches/*.patch, unified diffs against the mediasoup npm package) to a mediasoup
# package directory. Idempotent: a patch already applied is skipped; one that applies neither way stops with an error
# (a mediasoup upgrade needs the patch refreshed). Needs `patch` (Debian's build-essential brings it).
# Usage: apply-patches.sh <node_modules/mediasoup>
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
MS_DIR=$1
for p in "$HERE"/patches/*.patch; do
	name=$(basename "$p")
	if patch -d "$MS_DIR" -p1 -R -s -f --dry-run <"$p" >/dev/null 2>&1; then
		echo "mediasoup patch $name: already applied"
	elif patch -d "$MS_DIR" -p1 -s -f --dry-run <"$p" >/dev/null 2>&1; then
		patch -d "$MS_DIR" -p1 -s -f --no-backup-if-mismatch <"$p"
		echo "mediasoup patch $name: applied"
	else
		echo "mediasoup patch $name does not apply to $MS_DIR (another mediasoup version?)" >&2
		exit 1
	fi
done
