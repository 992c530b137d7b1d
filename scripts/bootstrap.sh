#!/usr/bin/env bash
# Make .venv ready on a fresh machine: Python >= 3.11 with venv (from Debian if missing), then the
# project and its pinned dependencies. Re-running is cheap: it reinstalls only when pyproject.toml
# or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}

apt_install() {
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "安装系统软件包: $*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "错误: 需要系统软件包 $* (请用 apt-get 安装, 或以 root 运行)" >&2
    exit 1
  fi
}

command -v "$PY" >/dev/null || apt_install python3 python3-venv
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "错误: 需要 Python 3.11 或更新版本, 当前为 $("$PY" --version)" >&2
  exit 1
fi
"$PY" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
# A CJK font so report charts show Chinese (not boxes); for tests (--with-browser) also headless
# Chromium for the dashboard test.
missing=()
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk fontconfig)  # grep -q would SIGPIPE fc-list under pipefail
fc-list 2>/dev/null | grep -i "Noto Color Emoji" >/dev/null || missing+=(fonts-noto-color-emoji)  # the board's 🔴🟡🟢
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "准备 Python 虚拟环境 $VENV …"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
