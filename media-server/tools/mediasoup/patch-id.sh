#!/bin/sh
# Prints a short id of everything that decides the worker binary besides mediasoup's version: the patches and the
# build script. It names the cached binary and the stamp beside an installed one, so a patch change rebuilds.
HERE=$(cd "$(dirname "$0")" && pwd)
cat "$HERE"/patches/*.patch "$HERE/build-worker.sh" | sha256sum | cut -c1-12
