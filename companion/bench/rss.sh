#!/usr/bin/env bash
# The companion's memory and node-scrape figures, side by side with the real programs:
#   1. RSS (VmRSS, and the peak VmHWM) of `promplay serve` and of Debian's `prometheus`, each
#      scraping the seed's three targets (the Python hello app, node_exporter, itself) every
#      10 s, read from /proc/PID/status after $SETTLE seconds;
#   2. the median of $N timed scrapes (`curl -w %{time_total}`) of `promplay node` and of
#      `prometheus-node-exporter`.
# Everything it starts listens on 127.0.0.1 (free ports) and is killed by PID on exit.
# Needs: /usr/bin/prometheus, /usr/bin/prometheus-node-exporter, curl, a python with
# prometheus_client ($PROMPLAY_PYTHON, else target/peers-venv, /tmp/promplay-peers/venv, python3);
# see ../shared/peers/peers.sh install. The promplay binary is $PROMPLAY (default: a release
# build of this tree, built if missing).
#   usage: companion/bench/rss.sh            (SETTLE=150 N=20 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
SETTLE=${SETTLE:-150}
N=${N:-20}
PROMPLAY=${PROMPLAY:-$ROOT/target/release/promplay}
if [ ! -x "$PROMPLAY" ]; then
  (cd "$ROOT" && cargo build --release -p promplay-companion)
fi
for bin in /usr/bin/prometheus /usr/bin/prometheus-node-exporter; do
  [ -x "$bin" ] || { echo "missing $bin (apt-get install prometheus prometheus-node-exporter)" >&2; exit 2; }
done
PY=
for p in "${PROMPLAY_PYTHON:-}" "$ROOT/target/peers-venv/bin/python" /tmp/promplay-peers/venv/bin/python python3; do
  if [ -n "$p" ] && "$p" -c 'import prometheus_client' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "no python with prometheus_client (set PROMPLAY_PYTHON)" >&2; exit 2; }

W=$(mktemp -d /tmp/promplay-rss.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "not answering: $1" >&2; exit 1
}
start() { # name cmd...
  local name=$1; shift
  "$@" >"$W/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$name=$!"
}
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

HELLO_M=$(free_port); HELLO_A=$(free_port); NODE=$(free_port); PNODE=$(free_port)
SERVE=$(free_port); PROM=$(free_port)
sed -e "s/8000/$HELLO_M/; s/8001/$HELLO_A/" "$SHARED/peers/app/hello.py" >"$W/hello.py"
start hello "$PY" "$W/hello.py"
start node_exporter /usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE"
start promplay_node "$PROMPLAY" node --web.listen-address "127.0.0.1:$PNODE"
wait_http "http://127.0.0.1:$HELLO_M/metrics"
wait_http "http://127.0.0.1:$NODE/metrics"
wait_http "http://127.0.0.1:$PNODE/metrics"

# The seed's scrape configs (../shared/peers/conf/prometheus.yml) on this run's ports.
config() { # self-port
  cat <<EOF
global:
  scrape_interval: 10s
  evaluation_interval: 10s
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['127.0.0.1:$1']}]
  - job_name: node
    static_configs: [{targets: ['127.0.0.1:$NODE']}]
  - job_name: example
    static_configs: [{targets: ['127.0.0.1:$HELLO_M']}]
EOF
}
config "$SERVE" >"$W/serve.yml"
config "$PROM" >"$W/prom.yml"
start serve "$PROMPLAY" serve --config.file "$W/serve.yml" --web.listen-address "127.0.0.1:$SERVE"
start prometheus /usr/bin/prometheus --config.file="$W/prom.yml" \
  --storage.tsdb.path="$W/data" --web.listen-address="127.0.0.1:$PROM"
wait_http "http://127.0.0.1:$SERVE/-/ready"
wait_http "http://127.0.0.1:$PROM/-/ready"
# Some traffic on the app, as a workshop makes.
for _ in $(seq 1 20); do curl -s -o /dev/null "http://127.0.0.1:$HELLO_A/" || true; done

echo "scraping the seed's three targets every 10 s for ${SETTLE}s ..." >&2
sleep "$SETTLE"
up() { curl -fsS "http://127.0.0.1:$1/api/v1/query?query=sum(up)" | sed -E 's/.*"value":\[[^,]*,"([^"]*)".*/\1/'; }
series() { curl -fsS "http://127.0.0.1:$1/api/v1/query?query=count(%7B__name__%3D~%22.%2B%22%7D)" | sed -E 's/.*"value":\[[^,]*,"([^"]*)".*/\1/'; }
printf '%-22s %8s %8s %6s %8s\n' "after ${SETTLE}s" "RSS MiB" "peak MiB" "up" "series"
for who in serve prometheus; do
  pid_var="PID_$who"; pid=${!pid_var}
  port=$SERVE; [ "$who" = prometheus ] && port=$PROM
  name="promplay serve"; [ "$who" = prometheus ] && name="prometheus (Debian)"
  printf '%-22s %8s %8s %6s %8s\n' "$name" "$(mib "$(kib "$pid" VmRSS)")" "$(mib "$(kib "$pid" VmHWM)")" \
    "$(up "$port")" "$(series "$port")"
done

median_ms() { # file of seconds
  sort -n "$1" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m * 1000}'
}
# Interleaved, so that both see the same load.
for _ in $(seq 1 "$N"); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PNODE/metrics" >>"$W/t_promplay"
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$NODE/metrics" >>"$W/t_node_exporter"
done
bytes() { curl -s "$1" | wc -c; }
printf '\n%-26s %12s %8s\n' "/metrics, median of $N" "ms" "bytes"
printf '%-26s %12s %8s\n' "promplay node" "$(median_ms "$W/t_promplay")" "$(bytes "http://127.0.0.1:$PNODE/metrics")"
printf '%-26s %12s %8s\n' "prometheus-node-exporter" "$(median_ms "$W/t_node_exporter")" "$(bytes "http://127.0.0.1:$NODE/metrics")"
