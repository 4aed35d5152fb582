#!/bin/sh
# A local 3-node cluster for `npm run load` (from the repository root, after `npm run build -w media-server`):
#   sh media-server/bench/local-cluster.sh start     # nodes f1..f3 on :5102-5104, metrics :9601-9603, 1 worker each
#   npm run load -- --url http://localhost:5102 --token load-test \
#     --metrics http://127.0.0.1:9601/metrics,http://127.0.0.1:9602/metrics,http://127.0.0.1:9603/metrics ...
#   sh media-server/bench/local-cluster.sh stop
# LOAD_CLUSTER_DIR (default /tmp/fishjam-load-cluster) holds the pids and logs; LOAD_CLUSTER_WORKERS sets FJ_WORKERS.
set -eu
dir=${LOAD_CLUSTER_DIR:-/tmp/fishjam-load-cluster}
root=$(cd "$(dirname "$0")/../.." && pwd)
case "${1:-}" in
start)
  mkdir -p "$dir"
  test -f "$root/media-server/dist/main.js" || { echo "build first: npm run build -w media-server" >&2; exit 1; }
  for i in 1 2 3; do
    others=$(for j in 1 2 3; do [ "$j" = "$i" ] || printf 'f%s@localhost ' "$j"; done)
    FJ_SERVER_API_TOKEN=load-test FJ_IP=127.0.0.1 FJ_PORT=510$((i + 1)) FJ_HOST=localhost:510$((i + 1)) \
      FJ_METRICS_PORT=960$i FJ_WEBRTC_LISTEN_IP=127.0.0.1 FJ_WORKERS=${LOAD_CLUSTER_WORKERS:-1} FJ_WORKER_MAX_CONSUMERS=1000 \
      FJ_DIST_ENABLED=true FJ_DIST_STRATEGY_NAME=NODES_LIST FJ_DIST_NODE_NAME=f$i@localhost FJ_DIST_NODES="$others" \
      FJ_DIST_COOKIE=load-test-cookie FJ_DIST_PORT_MAPPER_PORT=44369 FJ_LOG_LEVEL=warning \
      nohup node "$root/media-server/dist/main.js" > "$dir/f$i.log" 2>&1 &
    echo $! > "$dir/f$i.pid"
  done
  for i in 1 2 3; do
    n=0
    until curl -sf -H 'authorization: Bearer load-test' "http://127.0.0.1:510$((i + 1))/health" > /dev/null; do
      n=$((n + 1)); [ $n -lt 100 ] || { echo "node f$i did not answer; see $dir/f$i.log" >&2; exit 1; }; sleep 0.2
    done
  done
  curl -s -H 'authorization: Bearer load-test' http://127.0.0.1:5102/health; echo
  ;;
stop)
  for i in 1 2 3; do
    [ -f "$dir/f$i.pid" ] && kill "$(cat "$dir/f$i.pid")" 2> /dev/null || true
    rm -f "$dir/f$i.pid"
  done
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
