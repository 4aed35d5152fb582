# syntax=docker/dockerfile:1
# The media-server image. Build from the repository root:
#   docker build -t fishjam-ts:latest .          (podman: podman build --format docker -t fishjam-ts:latest .)
# Stages: `toolchain` (Debian build packages) -> `deps` (npm ci + mediasoup worker built from its npm sources against
# Debian's libraries: the slow, well-cached part) -> `build` (TypeScript) and `prod-deps` (production node_modules)
# -> the runtime image (the worker's shared libraries, coturn, tini, production node_modules, compiled JS).
# A change under media-server/src only re-runs the TypeScript compile and the last COPY.
# See docs/containers.md for the variables the image sets and the ports it exposes.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS toolchain
# mediasoup's worker needs meson >= 1.1 (bookworm-backports has 1.7), ninja and invoke: all from Debian, no PyPI.
RUN set -eux; \
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true); \
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "${mirror:-http://deb.debian.org/debian}" > /etc/apt/sources.list.d/backports.sources; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential pkg-config libuv1-dev libssl-dev libsrtp2-dev libabsl-dev libflatbuffers-dev \
      flatbuffers-compiler ninja-build python3 python3-invoke >/dev/null; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports meson >/dev/null; \
    rm -rf /var/lib/apt/lists/*; \
    meson --version

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY media-server/package.json media-server/
COPY operator/package.json operator/
COPY e2e/package.json e2e/
# Only the fields npm ci reads: a change to scripts (or any other field) must not rebuild the dependencies and the
# worker (the stages below copy this stage's output, cached by content).
RUN node -e 'const fs=require("fs");const keep=["name","version","private","type","workspaces","dependencies","devDependencies","optionalDependencies","peerDependencies","overrides","bundleDependencies"];for(const f of ["package.json","media-server/package.json","operator/package.json","e2e/package.json"]){const j=JSON.parse(fs.readFileSync(f,"utf8"));fs.writeFileSync(f,JSON.stringify(Object.fromEntries(keep.filter(k=>k in j).map(k=>[k,j[k]])),null,2)+"\n")}' \
 && find /app -exec touch -h -d @0 {} +

# ---------------------------------------------------------------------------------------------------------------------
FROM toolchain AS deps
WORKDIR /app
# Only the (trimmed) manifests: this layer and the worker build below are reused until dependencies or the worker tools
# change.
COPY --from=manifests /app /app
RUN npm ci --workspace media-server --include-workspace-root=false --ignore-scripts --no-audit --no-fund --loglevel=error
# Only what the worker build reads (install-worker.sh is for machines, not images: editing it must not rebuild this).
COPY media-server/tools/mediasoup/build-worker.sh media-server/tools/mediasoup/apply-patches.sh \
     media-server/tools/mediasoup/patch-id.sh media-server/tools/mediasoup/
COPY media-server/tools/mediasoup/patches media-server/tools/mediasoup/patches
COPY media-server/tools/mediasoup/subprojects media-server/tools/mediasoup/subprojects
# The project's own worker build (see media-server/tools/mediasoup/build-worker.sh); 3-5 min on 2 cores.
RUN cd media-server \
 && start=$(date +%s) \
 && (sh tools/mediasoup/build-worker.sh > /tmp/worker-build.log 2>&1 || { tail -n 60 /tmp/worker-build.log; exit 1; }) \
 && tail -n 3 /tmp/worker-build.log \
 && echo "mediasoup worker built in $(( $(date +%s) - start )) s" \
 && strip --strip-unneeded /app/node_modules/mediasoup/worker/out/Release/mediasoup-worker

# ---------------------------------------------------------------------------------------------------------------------
FROM deps AS build
COPY package.json ./
COPY media-server/package.json media-server/
COPY tsconfig.base.json ./
COPY media-server/tsconfig.json media-server/
COPY media-server/src media-server/src
# the built-in pages (/, /demo, /cluster, /check): bundled by esbuild into dist/public by the same build
COPY media-server/pages media-server/pages
COPY media-server/tools/build-pages.mjs media-server/tools/
RUN npm run build -w media-server

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
# Production dependencies only; mediasoup keeps its JS and the worker binary (its C++ sources and build files go).
WORKDIR /app
COPY --from=manifests /app /app
RUN npm ci --workspace media-server --include-workspace-root=false --ignore-scripts --omit=dev \
      --no-audit --no-fund --loglevel=error \
 && cd node_modules/mediasoup \
 && find worker -mindepth 1 -maxdepth 1 ! -name out -exec rm -rf {} + \
 && rm -rf node_modules/.cache \
 && npm cache clean --force 2>/dev/null; rm -rf /root/.npm
COPY --from=deps /app/node_modules/mediasoup/worker/out/Release/mediasoup-worker \
     /app/node_modules/mediasoup/worker/out/Release/mediasoup-worker
# The JS half of our mediasoup patch (media-server/tools/mediasoup/patches), applied in the deps stage.
COPY --from=deps /app/node_modules/mediasoup/node/lib/ortc.js /app/node_modules/mediasoup/node/lib/ortc.js

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The shared libraries the worker links (libuv, OpenSSL, libsrtp2, abseil), coturn (each node spawns `turnserver`
# for its integrated TURN server), ffmpeg (File components: plays a file as RTP into the room, see
# media-server/src/components; with --no-install-recommends apt counts 80 packages and 162 MB on a Debian 12 host that
# already had chromium's libraries, more on this slim base: not measured, no image build here) and tini (PID 1: forwards SIGTERM to node
# only, so the drain runs, and reaps).
RUN set -eux; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libuv1 libssl3 libsrtp2-1 libabsl20220623 coturn ffmpeg tini >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
      /usr/share/doc /usr/share/man /usr/share/info; \
    # The official node image has user `node` (1000:1000); make sure of it on any base.
    id -u node >/dev/null 2>&1 || { groupadd -g 1000 node; useradd -u 1000 -g node -m -s /usr/sbin/nologin node; }; \
    # component output (HLS, recordings): the one place the server writes besides /tmp (/app is root's, read-only)
    mkdir -p /var/lib/fishjam; chown 1000:1000 /var/lib/fishjam

WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json ./
COPY media-server/package.json media-server/
# Fail the build if the worker misses a shared library here (41 = "run me from Node": it loaded), or coturn is absent.
RUN set -e; w=node_modules/mediasoup/worker/out/Release/mediasoup-worker; \
    if ldd "$w" | grep 'not found'; then exit 1; fi; \
    rc=0; "$w" >/dev/null 2>&1 || rc=$?; [ "$rc" -eq 41 ]; \
    command -v turnserver; command -v ffmpeg; command -v setpriv
COPY --from=build /app/media-server/dist media-server/dist

# What Fishjam's image sets, plus production mode (FJ_SERVER_API_TOKEN is then required).
ENV NODE_ENV=production \
    FJ_MODE=production \
    FJ_IP=0.0.0.0 \
    FJ_PORT=8080 \
    FJ_METRICS_IP=0.0.0.0 \
    FJ_METRICS_PORT=9568 \
    FJ_DIST_MIN_PORT=9000 \
    FJ_DIST_MAX_PORT=9000 \
    FJ_RESOURCES_BASE_PATH=/var/lib/fishjam

# HTTP API, metrics, port mapper (Erlang's EPMD port), dist, WebRTC (one UDP+TCP port per worker), TURN + relays.
EXPOSE 8080/tcp 9568/tcp 4369/tcp 9000/tcp \
       50000-50999/udp 50000-50999/tcp 3478/udp 3478/tcp 51000-51999/udp

# GET /health with the node's own token (the variables are in the container's environment); http or https.
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e=process.env,s=!!e.FJ_SSL_CERT_PATH,ip=!e.FJ_IP||e.FJ_IP==='0.0.0.0'||e.FJ_IP==='::'?'127.0.0.1':e.FJ_IP;require(s?'https':'http').get({host:ip,port:e.FJ_PORT||8080,path:'/health',rejectUnauthorized:false,timeout:3000,headers:{authorization:'Bearer '+(e.FJ_SERVER_API_TOKEN||'')}},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

USER 1000:1000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "media-server/dist/main.js"]
