#!/usr/bin/env bash
# `make run`: the whole service on embedded defaults — SQLite, a local Prefect server with its UI on
# 127.0.0.1:4200, the schedules of config/tasks.yaml served, reminders to the console/file unless
# SLACK_BOT_TOKEN or robot webhooks are set. Ctrl-C stops everything within a few seconds and exits 0,
# also when the output is piped (`make run | tee log`).
#
# The web app units answer through (`fuquan web`, 127.0.0.1:8300 or FUQUAN_WEB_PORT) runs beside them. Its
# link-signing key comes from FUQUAN_LINK_SECRET; when unset, one is made once and kept in <data>/link.secret
# (mode 600, never printed), so links in messages stay valid across restarts.
#
# Honours FUQUAN_PREFECT_PORT (default 4200), FUQUAN_DATA_DIR, FUQUAN_CONFIG, FUQUAN_DATABASE_URL and
# PREFECT_HOME (default <data>/prefect), so a test can run it beside a real one.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUQUAN_PREFECT_PORT:-4200}
DATA=${FUQUAN_DATA_DIR:-data}
mkdir -p "$DATA"
export PREFECT_HOME=${PREFECT_HOME:-$(cd "$DATA" && pwd)/prefect}
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_UI_API_URL="$PREFECT_API_URL"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT=false  # no "Upgrade to Cloud" banner over the board
export DO_NOT_TRACK=${DO_NOT_TRACK:-1}  # nor the client's telemetry (and its first-run notice)
mkdir -p "$PREFECT_HOME"
LOG="$PREFECT_HOME/server.log"

# Each service runs in a process group of its own (job control on for the `&` only). The terminal's
# Ctrl-C then reaches make and this script, not the services: Prefect's own SIGINT handling races our
# shutdown (its runner pauses the deployments through a server already going down, measured 20 s). We
# stop them in order instead — serve, then the server — each group whole, and SIGKILL what is left.
server="" serve="" web=""
start() {  # start CMD… in the background, in a new process group; its pid (= the group's id) in $started
  set -m
  "$@" &
  started=$!
  set +m
}
alive() { kill -0 -- "-$1" 2>/dev/null; }
ms() { local us=${EPOCHREALTIME:-${SECONDS}000000}; echo $(( ${us//[.,]/} / 1000 )); }  # wall clock, ms (bash 5; else s)
stop_group() {  # stop_group GROUP MS: SIGTERM the group, wait up to MS milliseconds for it, then SIGKILL what is left
  [ -n "$1" ] || return 0
  local until=$(( $(ms) + $2 ))
  kill -TERM -- "-$1" 2>/dev/null || true
  while alive "$1" && [ "$(ms)" -lt "$until" ]; do sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
}
cleanup() {
  trap '' INT TERM HUP PIPE  # a second Ctrl-C must not cut this short; a reader (tee) may be gone
  trap - EXIT
  exec 3>&2 2>/dev/null      # bash's own "… Killed" notices of the groups stopped
  stop_group "$web" 1500     # the web app (it holds no state of its own)
  stop_group "$serve" 2000   # serve first: it pauses its deployments through the server
  stop_group "$server" 1500  # then the server: under 4 s in all, however busy the machine
  wait || true
  exec 2>&3 3>&-
}
interrupted() {
  trap '' INT TERM HUP PIPE
  # to the terminal (stderr): stdout may be a pipe whose reader (tee) is gone
  { echo; echo "正在停止 …"; } >&2 2>/dev/null || true
  cleanup
  echo "已停止。" >&2 2>/dev/null || true
  exit 0
}
trap interrupted INT TERM HUP
trap cleanup EXIT

"$BIN/fuquan" plan check
"$BIN/fuquan" sync
"$BIN/fuquan" status || true   # a fresh plan may have nothing to show yet; the service still starts

healthy() {  # (the venv's Python, not curl: a fresh machine may have no curl)
  "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$PREFECT_API_URL/health" >/dev/null 2>&1
}
if healthy; then
  echo "已有 Prefect 服务在 127.0.0.1:$PORT 运行, 直接使用。"
else
  echo "启动 Prefect 服务 (日志: $LOG) …"
  start "$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1
  server=$started
  for _ in $(seq 1 120); do
    healthy && break
    kill -0 "$server" 2>/dev/null || { echo "错误: Prefect 服务未能启动 (端口 $PORT 是否已被占用?), 日志 $LOG 的最后几行:" >&2
                                       tail -n 5 "$LOG" >&2; exit 1; }
    sleep 1
  done
  healthy || { echo "错误: Prefect 服务 120 秒内未能启动, 见 $LOG" >&2; exit 1; }
fi
# The server this data folder's commands attach to (a `fuquan run` in another terminal, without PREFECT_API_URL):
# fuquan never adopts whatever else answers on 127.0.0.1:4200.
echo "$PREFECT_API_URL" >"$PREFECT_HOME/server.url"
if [ -z "${FUQUAN_LINK_SECRET:-}" ]; then
  if [ ! -s "$DATA/link.secret" ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$DATA/link.secret")
  fi
  FUQUAN_LINK_SECRET=$(cat "$DATA/link.secret")
  export FUQUAN_LINK_SECRET
fi
WEB_PORT=${FUQUAN_WEB_PORT:-8300}
export FUQUAN_WEB_PORT=$WEB_PORT
start "$BIN/fuquan" web --port "$WEB_PORT"
web=$started
echo
# The 专班's board in the web app first (what they work from), then the Prefect UI (V2, like every link fuquan
# prints); `fuquan serve` prints the 今日督办 board's own address once it has published it.
echo "专班督办看板: http://127.0.0.1:$WEB_PORT/office/board (专班成员用本人的专属链接登录: .venv/bin/fuquan links show 专班 --member 姓名)"
echo "运行记录 (Prefect UI): http://127.0.0.1:$PORT/v2"
echo "单位反馈页面: http://127.0.0.1:$WEB_PORT (各单位由提醒消息中的专属链接进入; 专班成员链接: .venv/bin/fuquan links show 专班 --member 姓名)"
echo "按 Ctrl-C 停止。"
start "$BIN/fuquan" serve
serve=$started
wait "$serve"
