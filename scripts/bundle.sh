#!/usr/bin/env bash
# `make bundle`: a folder that installs fuquan on a machine without internet (a county server in the 政务外网,
# x86_64 or ARM): every wheel that constraints.txt pins and `fuquan[dev]` needs, for each platform, CPython
# 3.11; the project's own wheel; setuptools (pyproject's build requirement, for the editable install of
# scripts/bootstrap.sh); constraints.txt; 说明.txt; manifest.txt; SHA256SUMS. README.md (Operations: install offline) tells how to use it.
#
#   BUNDLE     the folder (default bundle/, which scripts/bootstrap.sh uses when it exists)
#   PLATFORMS  machines, as `uname -m` names them (default "x86_64 aarch64")
#   GLIBC      the newest manylinux taken (default 2.28: Kylin V10, UOS 20, openEuler, RHEL/Rocky 8 and newer)
#   PY_VERSION CPython of the target (default 3.11)
#   FUQUAN_WHEEL_CACHE  wheels of earlier runs, reused before the registry is asked (default ~/.cache/fuquan/wheels;
#              pip's own cache does not help: it keeps nothing from this registry)
#
# Re-running reuses the wheels already in the folder and in the cache; the registry is asked only for what
# is missing. `bash scripts/bundle.sh --check` runs only the last check (every pin, every platform).
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${BUNDLE:-bundle}
PLATFORMS=${PLATFORMS:-x86_64 aarch64}
export GLIBC=${GLIBC:-2.28} PY_VERSION=${PY_VERSION:-3.11}
CACHE=${FUQUAN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fuquan/wheels}
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
HELPER=scripts/bundle_wheels.py
WHEELS=$BUNDLE/wheels
read -r -a platforms <<<"$PLATFORMS"
pyver=${PY_VERSION/./}
pip=("$PY" -m pip --disable-pip-version-check)
target=(--only-binary=:all: --python-version "$PY_VERSION" --implementation cp --abi "cp$pyver")

for arch in "${platforms[@]}"; do
  case $arch in x86_64 | aarch64) ;; *) echo "错误: 不支持的平台 $arch (可用: x86_64 aarch64)" >&2; exit 2 ;; esac
done

check() {
  [ -d "$WHEELS" ] || { echo "错误: 没有离线包 $BUNDLE (先运行 make bundle)" >&2; exit 1; }
  echo "检查: constraints.txt 中每个依赖在每个平台 (${platforms[*]}) 都有 wheel …"
  "$PY" $HELPER check "$WHEELS" "${platforms[@]}"
}
if [ "${1:-}" = "--check" ]; then
  check
  exit
fi

t0=$SECONDS
n=0
step() { n=$((n + 1)); echo "[$n] $* ($((SECONDS - t0)) s)"; }
mkdir -p "$WHEELS"

# A package with no wheel for a platform (pip says "No matching distribution" or, under a constraint, that the
# user requested it): build it from its source release; a pure-Python wheel serves every platform, a compiled
# one only the machine it was built on, which is an error here.
from_source() {  # from_source ARCH LOG
  local names name pin tmp built
  names=$(grep -oE "No matching distribution found for [A-Za-z0-9._-]+|requested \(constraint\) [A-Za-z0-9._-]+" "$2" |
    awk '{print $NF}' | sort -u)
  [ -n "$names" ] || return 1
  for name in $names; do
    pin=$(grep -iE "^${name//[-_.]/[-_.]}==" constraints.txt | head -1 | cut -d= -f3)
    [ -n "$pin" ] || { echo "错误: $name 没有 $1 平台的 wheel, 且未在 constraints.txt 中固定" >&2; return 2; }
    echo "    $name==$pin 没有 $1 平台的 wheel, 从源码包构建 …"
    tmp=$(mktemp -d)
    if ! "${pip[@]}" wheel -q --no-deps --no-binary "$name" -w "$tmp" "$name==$pin" >"$tmp/log" 2>&1; then
      tail -5 "$tmp/log" >&2
      echo "错误: $name==$pin 没有 $1 平台的 wheel, 源码包也无法构建" >&2
      rm -rf "$tmp"; return 2
    fi
    built=$(ls "$tmp"/*.whl)
    case $built in
      *-none-any.whl) mv "$built" "$WHEELS/"; echo "    构建了 $(basename "$built") (纯 Python, 各平台通用)" ;;
      *) echo "错误: $name==$pin 没有 $1 平台的二进制 wheel; 源码构建出的 $(basename "$built") 只适用于本机, 不能放进离线包 (请在 $1 机器上构建, 或换一个有 wheel 的版本)" >&2
         rm -rf "$tmp"; return 2 ;;
    esac
    rm -rf "$tmp"
  done
}

fetch() {  # fetch ARCH: the wheels ARCH lacks, from the cache first, then the registry
  local arch=$1 log missing tries=0 rc
  local -a plats reqs
  read -r -a plats <<<"$("$PY" $HELPER platforms "$arch")"
  "$PY" $HELPER fill "$WHEELS" "$arch" "$CACHE"
  missing=$("$PY" $HELPER missing "$WHEELS" "$arch")
  if [ -z "$missing" ]; then
    echo "    $arch: 全部取自已有的 wheel (未连网)"
    return
  fi
  echo "    $arch: 缺 $(wc -l <<<"$missing") 个 (及其依赖), 从软件源下载 …"
  log=$(mktemp)
  # pip resolves fuquan[dev] for ARCH (markers evaluated on this machine) …
  until "${pip[@]}" download -q "${target[@]}" "${plats[@]}" -c constraints.txt --find-links "$WHEELS" -d "$WHEELS" \
      "fuquan[dev]" >"$log" 2>&1; do
    rc=0; from_source "$arch" "$log" || rc=$?
    if [ $rc = 1 ] || [ $((tries += 1)) -gt 10 ]; then cat "$log" >&2; echo "错误: 下载 $arch 平台的 wheel 失败 (见上)" >&2; exit 1; fi
    [ $rc = 0 ] || exit 1
  done
  # … then what the walk for ARCH still finds missing (a dependency marked for ARCH only), one by one
  mapfile -t reqs < <("$PY" $HELPER missing "$WHEELS" "$arch")
  while [ ${#reqs[@]} -gt 0 ] && [ $((tries += 1)) -le 10 ]; do
    echo "    $arch 另需: ${reqs[*]}"
    "${pip[@]}" download -q --no-deps "${target[@]}" "${plats[@]}" -c constraints.txt -d "$WHEELS" "${reqs[@]}" \
      >"$log" 2>&1 || { rc=0; from_source "$arch" "$log" || rc=$?; [ $rc = 0 ] || { cat "$log" >&2; exit 1; }; }
    mapfile -t reqs < <("$PY" $HELPER missing "$WHEELS" "$arch")
  done
  rm -f "$log"
}

step "离线包目录 $BUNDLE, 平台 ${platforms[*]}, CPython $PY_VERSION, glibc ≤ $GLIBC"
step "构建依赖 (pyproject.toml 的 build-system: setuptools)"
"$PY" $HELPER fill "$WHEELS" "${platforms[0]}" "$CACHE"
mapfile -t breqs < <("$PY" $HELPER build-missing "$WHEELS" "${platforms[0]}")
[ ${#breqs[@]} -eq 0 ] || "${pip[@]}" download -q --only-binary=:all: --no-deps -d "$WHEELS" "${breqs[@]}"

step "构建 fuquan 自身的 wheel (不连网: 构建依赖只取自离线包, 与服务器上安装时一样)"
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
"$PY" $HELPER srccopy "$src/fuquan"
rm -f "$WHEELS"/fuquan-*.whl
"${pip[@]}" wheel -q --no-deps --no-index --find-links "$WHEELS" -w "$WHEELS" "$src/fuquan"
echo "    $(basename "$WHEELS"/fuquan-*.whl)"

for arch in "${platforms[@]}"; do
  step "$arch 的 wheel (Python $PY_VERSION)"
  fetch "$arch"
done
"$PY" $HELPER put "$WHEELS" "$CACHE" 2>/dev/null || echo "    (缓存 $CACHE 不可写, 跳过)"

step "检查: constraints.txt 中每个依赖在每个平台都有 wheel"
"$PY" $HELPER check "$WHEELS" "${platforms[@]}"
"$PY" $HELPER prune "$WHEELS" "${platforms[@]}"

step "constraints.txt, manifest.txt, 说明.txt"
cp constraints.txt "$BUNDLE/constraints.txt"
"$PY" $HELPER manifest "$WHEELS" "${platforms[@]}" >"$BUNDLE/manifest.txt"
echo "made $(date -Iseconds)" >>"$BUNDLE/manifest.txt"
get() { awk -v k="$1" '$1 == k {print $2}' "$BUNDLE/manifest.txt"; }
{
  echo "fuquan $(get fuquan) 离线安装包 (制作于 $(date '+%Y-%m-%d %H:%M'))"
  echo
  echo "适用: Linux ${platforms[*]}, CPython $PY_VERSION (必须是 $PY_VERSION: 二进制 wheel 按版本编译)"
  for arch in "${platforms[@]}"; do
    echo "  $arch: $(get "wheels.$arch") 个 wheel, 需要 glibc ≥ $(get "glibc.$arch") (查看: getconf GNU_LIBC_VERSION)"
  done
  cat <<EOF

内容:
  wheels/          全部 wheel: 运行依赖与测试工具 (fuquan[dev]), 各平台的二进制 wheel 并列,
                   纯 Python 的各平台共用; fuquan 自身; setuptools $(get setuptools) (安装时构建用)
  constraints.txt  每个依赖的确切版本, 与源码中的 constraints.txt 相同
  manifest.txt     平台、Python 版本、glibc 要求 (scripts/bootstrap.sh 读取)
  SHA256SUMS       每个文件的 SHA-256

安装 (服务器无需联网):
  1. 核对文件完好:   cd bundle && sha256sum -c --quiet SHA256SUMS && cd ..
  2. 把本目录放在 fuquan 源码目录下, 名为 bundle/ (或设 FUQUAN_BUNDLE=本目录的路径)
  3. make run        (scripts/bootstrap.sh 发现 bundle/ 后只从这里安装, 不访问软件源)
  不用源码目录时:   python3.11 -m venv /opt/fuquan/venv
                    /opt/fuquan/venv/bin/pip install --no-index --find-links wheels -c constraints.txt fuquan
系统软件包 (fonts-noto-cjk 等) 不在本包内: 服务器已装则不会再装; 缺少时请从本地软件源安装。
详见源码中 README.md 的 “Operations: install offline” 一节。
EOF
} >"$BUNDLE/说明.txt"

step "SHA256SUMS"
(cd "$BUNDLE" && LC_ALL=C find . -type f ! -name SHA256SUMS ! -name '*.part' | sed 's|^\./||' | LC_ALL=C sort |
  xargs -d '\n' sha256sum >SHA256SUMS)
echo "完成: $BUNDLE, $(find "$WHEELS" -name '*.whl' | wc -l) 个 wheel, $(du -sh "$BUNDLE" | cut -f1), 用时 $((SECONDS - t0)) 秒"
