#!/usr/bin/env bash
# The test suite on both databases at once: SQLite in the foreground (its output live), PostgreSQL (a
# private server from scripts/pg.sh, installed when missing) in the background, its output printed
# after. Both must pass. FUQUAN_TEST_DBS=sqlite runs the SQLite pass only (quick, no server).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/core -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-browser
PY=.venv/bin/python
dbs=${FUQUAN_TEST_DBS:-sqlite,postgresql}
# Each pass spreads its tests over worker processes (pytest-xdist; FUQUAN_TEST_WORKERS=0 runs them in one): most
# of the suite waits on sockets, subprocesses and locks, so two per pass keep the two cores busy.
workers=(-n "${FUQUAN_TEST_WORKERS:-2}")

# The served-schedule e2e test waits idle up to a minute for Prefect's scheduler and does not depend on the
# database: it runs once, in a process of its own beside the passes (only on a full run, not with pytest args).
# The make-run test (Ctrl-C timed on a pty) runs after the passes, on a quiet machine.
serve_pid=""
if [ $# -eq 0 ]; then
  serve_log=$(mktemp -t fuquan-serve-test.XXXXXX)
  # (with the offline-install test: it builds a bundle and installs 120 wheels into a fresh venv, ~40 s of CPU)
  ( set +e
    "$PY" -m pytest -p no:cacheprovider tests/e2e/test_dashboard.py -k served; a=$?
    "$PY" -m pytest -p no:cacheprovider tests/deploy/test_bundle.py; b=$?
    [ $a = 0 ] && [ $b = 0 ] ) >"$serve_log" 2>&1 &
  serve_pid=$!
  export FUQUAN_TEST_SERVE_APART=1
fi

pg_pid=""
if [[ $dbs == *postgresql* ]]; then
  if ! bash scripts/pg.sh running; then
    trap 'bash scripts/pg.sh stop' EXIT  # a server we started is stopped again; one already running is left
  fi
  pg_url=$(bash scripts/pg.sh start)
  pg_log=$(mktemp -t fuquan-pg-tests.XXXXXX)
  # The two passes share the machine's two cores; most of the suite waits on sockets and processes.
  FUQUAN_TEST_POSTGRES=$pg_url "$PY" -m pytest -p no:cacheprovider "${workers[@]}" "$@" >"$pg_log" 2>&1 &
  pg_pid=$!
  echo "PostgreSQL 测试在后台进行 ($pg_url), 结果见下方 …"
fi

rc_sqlite=0
if [[ $dbs == *sqlite* ]]; then
  echo "== SQLite =="
  "$PY" -m pytest -p no:cacheprovider "${workers[@]}" "$@" || rc_sqlite=$?
fi

# collect PID LOG TITLE: wait for a background pass, print its output under TITLE, return its exit code
collect() {
  local rc=0
  wait "$1" || rc=$?
  echo "== $3 =="
  cat "$2"
  rm -f "$2"
  return $rc
}
rc_serve=0
[ -z "$serve_pid" ] || collect "$serve_pid" "$serve_log" "Prefect 定时触发 (e2e) 与离线安装" || rc_serve=$?
rc_pg=0
[ -z "$pg_pid" ] || collect "$pg_pid" "$pg_log" "PostgreSQL" || rc_pg=$?
if [ -n "$serve_pid" ]; then
  echo "== make run 与 Ctrl-C (e2e) =="
  FUQUAN_TEST_SERVE_APART=0 "$PY" -m pytest -p no:cacheprovider tests/e2e/test_make_run.py || rc_serve=$?
fi
echo "测试结果: SQLite $([ $rc_sqlite = 0 ] && echo 通过 || echo "失败 ($rc_sqlite)")$([ -n "$pg_pid" ] && echo ", PostgreSQL $([ $rc_pg = 0 ] && echo 通过 || echo "失败 ($rc_pg)")")$([ -n "$serve_pid" ] && echo ", 定时触发 $([ $rc_serve = 0 ] && echo 通过 || echo "失败 ($rc_serve)")")"
[ $rc_sqlite = 0 ] && [ $rc_pg = 0 ] && [ $rc_serve = 0 ]
