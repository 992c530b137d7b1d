#!/usr/bin/env bash
# A private PostgreSQL server on 127.0.0.1 for the test suite, the benchmarks and the scale-out demo.
# Debian's package is installed when missing (needs root); the cluster lives in its own directory and
# runs as the `postgres` user when we are root (the server refuses to run as root).
#
#   scripts/pg.sh start   install if needed, create the cluster once, start it; prints the admin URL
#   scripts/pg.sh stop
#   scripts/pg.sh url     the admin URL (SQLAlchemy form, psycopg driver)
#   scripts/pg.sh running exit status 0 when the server is up
#
# FUQUAN_PG_DIR (default /tmp/fuquan-pg) and FUQUAN_PG_PORT (default 54329) choose where. The cluster
# trusts local connections and runs with fsync off: it is for tests and measurements, not for data.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${FUQUAN_PG_DIR:-/tmp/fuquan-pg}
PORT=${FUQUAN_PG_PORT:-54329}
URL="postgresql+psycopg://fuquan@127.0.0.1:$PORT/postgres"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -z "$(bindir)" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      echo "安装 PostgreSQL (Debian 软件包) …" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      echo "错误: 需要 PostgreSQL (apt-get install postgresql), 或以 root 运行本脚本" >&2
      exit 1
    fi
  fi
  local bin; bin=$(bindir)
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    as_owner "$bin/initdb" -D "$DIR" -U fuquan -A trust -E UTF8 --no-locale >/dev/null
  fi
  if ! as_owner "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    if ! as_owner "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
      echo "错误: PostgreSQL 未能在 127.0.0.1:$PORT 启动 (端口被占用时可设 FUQUAN_PG_PORT); 日志 $DIR/server.log 末尾:" >&2
      tail -n 5 "$DIR/server.log" >&2
      exit 1
    fi
  fi
  echo "$URL"
}

stop() {
  local bin; bin=$(bindir)
  [ -n "$bin" ] && [ -f "$DIR/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null || true
}

running() {
  local bin; bin=$(bindir)
  [ -n "$bin" ] && [ -f "$DIR/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1
}

case "${1:-}" in
  start) start ;;
  running) running ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "用法: scripts/pg.sh start|stop|url|running" >&2; exit 2 ;;
esac
