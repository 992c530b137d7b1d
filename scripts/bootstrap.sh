#!/usr/bin/env bash
# Make .venv ready on a fresh machine: Python >= 3.11 with venv (from Debian if missing), then the
# project and its pinned dependencies. Re-running is cheap: it reinstalls only when pyproject.toml
# or constraints.txt changed.
# Offline (a county server, README: Operations: install offline): with a bundle from `make bundle` in FUQUAN_BUNDLE, or in
# ./bundle when that exists, the Python packages come from its wheels only, never from the registry;
# FUQUAN_BUNDLE=none ignores ./bundle. Debian packages are installed only when missing, bundle or not.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
BUNDLE=${FUQUAN_BUNDLE:-}
if [ -z "$BUNDLE" ] && [ -d bundle/wheels ]; then BUNDLE=bundle; fi
[ "$BUNDLE" != none ] || BUNDLE=""

apt_install() {
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "安装系统软件包: $*"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
      echo "错误: 无法安装系统软件包 $* (本机连不上软件源? 请从本地软件源或安装介质装好后重试)" >&2
      exit 1
    fi
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
# Chromium for the dashboard test, and nginx and openssl (a TLS reverse proxy in front of `fuquan web`).
missing=()
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk fontconfig)  # grep -q would SIGPIPE fc-list under pipefail
fc-list 2>/dev/null | grep -i "Noto Color Emoji" >/dev/null || missing+=(fonts-noto-color-emoji)  # the board's 🔴🟡🟢
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)  # /usr/sbin: not on every PATH
  command -v openssl >/dev/null || missing+=(openssl)
  command -v soffice >/dev/null || missing+=(libreoffice-writer-nogui)  # the Word documents printed to PDF (A4)
fi
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  if [ -n "$BUNDLE" ]; then
    # The bundle must be whole and made for this Python, this machine and these pins: say so before a venv is made.
    bundle_fact() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "$BUNDLE/manifest.txt"; }
    if [ ! -d "$BUNDLE/wheels" ] || [ ! -f "$BUNDLE/manifest.txt" ]; then
      echo "错误: 离线包 $BUNDLE 不完整 (应有 wheels/ 与 manifest.txt, 由 make bundle 生成)" >&2
      exit 1
    fi
    arch=$(uname -m)
    if [[ " $(bundle_fact platforms) " != *" $arch "* ]]; then
      echo "错误: 离线包 $BUNDLE 只含 $(bundle_fact platforms) 平台的 wheel, 本机是 $arch (请用 PLATFORMS=\"$arch\" make bundle 重新制作)" >&2
      exit 1
    fi
    if [ "$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(bundle_fact python)" ]; then
      echo "错误: 离线包 $BUNDLE 是为 Python $(bundle_fact python) 制作的, 本机 $PY 是 $("$PY" --version 2>&1) (请安装 Python $(bundle_fact python), 或设 PYTHON=python$(bundle_fact python))" >&2
      exit 1
    fi
    need=$(bundle_fact "glibc.$arch")
    have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
    if [ -n "$have" ] && [ -n "$need" ] && [ "$(printf '%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
      echo "错误: 离线包中的 wheel 需要 glibc ≥ $need, 本机为 $have (请用 GLIBC=$have make bundle 重新制作)" >&2
      exit 1
    fi
    if ! cmp -s constraints.txt "$BUNDLE/constraints.txt"; then
      echo "错误: 离线包 $BUNDLE 的 constraints.txt 与源码中的不同 (请重新 make bundle; 或删除 bundle/, 或设 FUQUAN_BUNDLE=none 改从软件源安装)" >&2
      exit 1
    fi
    echo "准备 Python 虚拟环境 $VENV, 从离线包 $BUNDLE 安装 (不访问软件源) …"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-index --find-links "$BUNDLE/wheels" \
        -c constraints.txt -e ".[dev]"; then
      echo "错误: 从离线包 $BUNDLE 安装失败 (缺少的包见上; 在能访问软件源的机器上重新 make bundle)" >&2
      exit 1
    fi
  else
    echo "准备 Python 虚拟环境 $VENV …"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
