#!/usr/bin/env bash
# `make run`: the whole service on embedded defaults — SQLite, a local Prefect server with its UI on
# 127.0.0.1:4200, the schedules of config/tasks.yaml served, reminders to the console/file unless
# SLACK_BOT_TOKEN or robot webhooks are set. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUQUAN_PREFECT_PORT:-4200}
export PREFECT_HOME="$PWD/data/prefect"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_UI_API_URL="$PREFECT_API_URL"
mkdir -p "$PREFECT_HOME"

"$BIN/fuquan" plan check
"$BIN/fuquan" sync
"$BIN/fuquan" status || true   # a fresh plan may have nothing to show yet; the service still starts

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "正在停止 …"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done  # anything still hanging
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

healthy() { curl -sf "$PREFECT_API_URL/health" >/dev/null 2>&1; }
if healthy; then
  echo "已有 Prefect 服务在 127.0.0.1:$PORT 运行, 直接使用。"
else
  echo "启动 Prefect 服务 (日志: data/prefect/server.log) …"
  "$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >data/prefect/server.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do healthy && break; sleep 1; done
  healthy || { echo "错误: Prefect 服务 120 秒内未能启动, 见 data/prefect/server.log" >&2; exit 1; }
fi
echo
echo "专班看板 (Prefect UI): http://127.0.0.1:$PORT"
echo "按 Ctrl-C 停止。"
"$BIN/fuquan" serve &
pids+=($!)
wait "${pids[-1]}"
