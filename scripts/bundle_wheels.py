"""The wheel bookkeeping of scripts/bundle.sh (`make bundle`): which wheels an offline install needs on each
platform, which of them the bundle lacks, and the check that every pin of constraints.txt that is a dependency
has its wheel for every platform.

pip download evaluates environment markers on the machine it runs on, not on the target (a dependency marked
`platform_machine == "aarch64"` would be missed on an x86_64 build machine), so the walk here is done again for
each target: from `fuquan[dev]` (and the build requirements of pyproject.toml) through the METADATA of the wheels
in the bundle, markers evaluated for Linux on that machine with the bundle's CPython (as x.y.0, so what an older
patch release needs is there too: async-timeout for redis below 3.11.3), each dependency at its pin in
constraints.txt. A wheel counts for a platform when one of its tags is one that pip on that platform would
install: cp311/abi3/none, manylinux up to the glibc given (musllinux never: county servers run glibc), or any.

    bundle_wheels.py srccopy DEST                      the files a wheel of the project is built from
    bundle_wheels.py missing WHEELS PLATFORM           requirements the bundle lacks for PLATFORM, one a line
    bundle_wheels.py build-missing WHEELS PLATFORM     the same for pyproject's build requirements only
    bundle_wheels.py platforms PLATFORM                pip's --platform options for PLATFORM
    bundle_wheels.py fill WHEELS PLATFORM CACHE        link those from CACHE (an earlier run's wheels)
    bundle_wheels.py put WHEELS CACHE                  keep the bundle's downloaded wheels in CACHE
    bundle_wheels.py check WHEELS PLATFORM...          the verdict, in Chinese; exit 1 when a wheel is missing
    bundle_wheels.py manifest WHEELS PLATFORM...       facts for the bundle's manifest.txt and 说明.txt
    bundle_wheels.py prune WHEELS PLATFORM...          remove wheels no platform needs (older pins)

Environment: CONSTRAINTS (constraints.txt), PY_VERSION (3.11), GLIBC (2.28), ROOT_REQ (fuquan[dev]).
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]
    from pip._vendor.packaging.version import InvalidVersion, Version  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "fuquan"
CONSTRAINTS = Path(os.environ.get("CONSTRAINTS") or ROOT / "constraints.txt")
PY_VERSION = tuple(int(p) for p in os.environ.get("PY_VERSION", "3.11").split(".")[:2])
GLIBC = tuple(int(p) for p in os.environ.get("GLIBC", "2.28").split(".")[:2])
ROOT_REQ = os.environ.get("ROOT_REQ", f"{PROJECT}[dev]")
# manylinux tags older than manylinux2014 (glibc 2.17) exist for x86_64 only
LEGACY = {"x86_64": [(2, 12, "manylinux2010"), (2, 5, "manylinux1")]}


def pip_platforms(arch: str) -> list[str]:
    """The `--platform` values for pip: every manylinux tag up to GLIBC, newest first (pip 23 does not expand
    manylinux_2_28 to the older ones by itself)."""
    if GLIBC < (2, 17):
        raise SystemExit(f"错误: GLIBC={GLIBC[0]}.{GLIBC[1]} 太旧, 至少 2.17")
    plats = [f"manylinux_2_{m}_{arch}" for m in range(GLIBC[1], 16, -1)] + [f"manylinux2014_{arch}"]
    for major, minor, alias in LEGACY.get(arch, []):
        plats += [f"manylinux_{major}_{minor}_{arch}", f"{alias}_{arch}"]
    return plats


@cache
def supported(arch: str) -> list[Tag]:
    """The tags pip on `arch` installs, most preferred first."""
    plats = pip_platforms(arch)
    cp = f"cp{PY_VERSION[0]}{PY_VERSION[1]}"
    return list(cpython_tags(PY_VERSION, abis=[cp], platforms=plats)) + list(compatible_tags(PY_VERSION, cp, plats))


def marker_env(arch: str) -> dict[str, str]:
    v = f"{PY_VERSION[0]}.{PY_VERSION[1]}"
    return {"python_version": v, "python_full_version": f"{v}.0", "platform_machine": arch, "sys_platform": "linux",
            "os_name": "posix", "platform_system": "Linux", "platform_release": "", "platform_version": "",
            "implementation_name": "cpython", "implementation_version": f"{v}.0",
            "platform_python_implementation": "CPython", "extra": ""}


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: Version
    tags: frozenset[Tag]

    def rank(self, arch: str) -> int | None:
        """Position of its best tag in `arch`'s preference list; None when pip on `arch` would not take it."""
        order = supported(arch)
        hits = [order.index(t) for t in self.tags if t in _tagset(arch)]
        return min(hits) if hits else None

    @property
    def pure(self) -> bool:
        return all(t.platform == "any" for t in self.tags)

    def glibc(self, arch: str) -> tuple[int, int]:
        """The oldest glibc this wheel runs on, on `arch` ((0, 0) for a pure wheel)."""
        found = []
        for t in self.tags:
            if t.platform == "any":
                return (0, 0)
            m = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{arch}", t.platform)
            if m:
                found.append((int(m[1]), int(m[2])))
            elif t.platform == f"manylinux2014_{arch}":
                found.append((2, 17))
            for major, minor, alias in LEGACY.get(arch, []):
                if t.platform == f"{alias}_{arch}":
                    found.append((major, minor))
        return min(found) if found else (0, 0)


@cache
def _tagset(arch: str) -> frozenset[Tag]:
    return frozenset(supported(arch))


def read_wheels(folder: Path) -> dict[str, list[Wheel]]:
    found: dict[str, list[Wheel]] = {}
    for p in sorted(folder.glob("*.whl")):
        parts = p.name[:-4].split("-")
        if len(parts) not in (5, 6):
            continue
        try:
            version = Version(parts[1])
        except InvalidVersion:
            continue
        w = Wheel(p, canonicalize_name(parts[0]), version, frozenset(parse_tag("-".join(parts[-3:]))))
        found.setdefault(w.name, []).append(w)
    return found


def read_pins(path: Path = CONSTRAINTS) -> dict[str, Version]:
    pins = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.strip())] = Version(version.strip())
    return pins


@cache
def requires(path: Path) -> list[Requirement]:
    with zipfile.ZipFile(path) as z:
        meta = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        msg = email.parser.Parser().parsestr(z.read(meta).decode("utf-8"))
    return [Requirement(r) for r in msg.get_all("Requires-Dist") or []]


def build_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return [Requirement(r) for r in pyproject["build-system"]["requires"]]


@dataclass
class Walk:
    """What an offline install of the roots takes on one platform."""
    arch: str
    chosen: dict[str, Wheel]
    missing: dict[str, str]  # canonical name -> the requirement to fetch (name==pin, or name+specifier)
    unpinned: dict[str, str]  # dependencies that constraints.txt does not pin -> the requirement


def walk(wheels: dict[str, list[Wheel]], arch: str, pins: dict[str, Version], roots: list[Requirement]) -> Walk:
    env = marker_env(arch)
    out = Walk(arch, {}, {}, {})
    done: set[tuple[str, str]] = set()  # (name, extra) whose requirements were followed
    metadata_only: dict[str, Wheel] = {}
    todo = [(r, "") for r in roots]
    while todo:
        req, via_extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": via_extra}):
            continue
        name = canonicalize_name(req.name)
        pin = pins.get(name)
        if pin is None and name != PROJECT and req not in roots:
            out.unpinned.setdefault(name, _plain(req))
        if name not in out.chosen and name not in metadata_only:
            fits = [w for w in wheels.get(name, [])
                    if w.version == pin or pin is None and req.specifier.contains(w.version, prereleases=True)]
            usable = [w for w in fits if w.rank(arch) is not None]
            if usable:
                out.chosen[name] = max(usable, key=lambda w: (w.version, -(w.rank(arch) or 0)))
            else:
                out.missing[name] = f"{req.name}=={pin}" if pin is not None else _plain(req)
                if not fits:
                    continue
                # another platform's wheel of the same release tells its dependencies: the walk goes on, so one
                # check names every missing wheel at once
                metadata_only[name] = max(fits, key=lambda w: w.version)
        wheel = out.chosen.get(name) or metadata_only[name]
        for extra in ("", *sorted(canonicalize_name(e) for e in req.extras)):
            if (name, extra) in done:
                continue
            done.add((name, extra))
            for dep in requires(wheel.path):
                if extra == "" and dep.marker is not None and _needs_extra(dep.marker):
                    continue
                if extra and (dep.marker is None or not _needs_extra(dep.marker)):
                    continue
                todo.append((dep, extra))
    return out


def _needs_extra(marker: Marker) -> bool:
    return "extra" in str(marker)


def _plain(req: Requirement) -> str:
    return f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}{req.specifier}"


def roots() -> list[Requirement]:
    return [Requirement(ROOT_REQ), *build_requirements()]


def walks(folder: Path, platforms: list[str]) -> list[Walk]:
    wheels, pins = read_wheels(folder), read_pins()
    return [walk(wheels, arch, pins, roots()) for arch in platforms]


def link(src: Path, dest: Path) -> None:
    if dest.exists():
        return
    tmp = dest.with_name(dest.name + ".part")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    tmp.replace(dest)


def cmd_srccopy(dest: Path) -> None:
    """pyproject.toml, README.md and the packages: what setuptools builds the wheel from (not .venv, data, tests)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for top in sorted({p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}):
        shutil.copytree(ROOT / top, dest / top, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                        dirs_exist_ok=True)


def cmd_missing(folder: Path, arch: str) -> None:
    for req in walks(folder, [arch])[0].missing.values():
        print(req)


def cmd_build_missing(folder: Path, arch: str) -> None:
    build = {canonicalize_name(r.name) for r in build_requirements()}
    for name, req in walks(folder, [arch])[0].missing.items():
        if name in build:
            print(req)


def cmd_fill(folder: Path, arch: str, cache_dir: Path) -> None:
    """Link from the cache the wheels this platform lacks, as long as that brings new ones (each may need more)."""
    if not cache_dir.is_dir():
        return
    pins = read_pins()
    cached = read_wheels(cache_dir)
    while True:
        w = walk(read_wheels(folder), arch, pins, roots())
        added = 0
        for name, req in w.missing.items():
            spec = Requirement(req)
            fits = [c for c in cached.get(name, []) if c.rank(arch) is not None and spec.specifier.contains(c.version, True)]
            if fits:
                best = max(fits, key=lambda c: (c.version, -(c.rank(arch) or 0)))
                link(best.path, folder / best.path.name)
                added += 1
        if not added:
            return


def cmd_put(folder: Path, cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    for p in folder.glob("*.whl"):
        if not p.name.startswith(f"{PROJECT}-"):
            link(p, cache_dir / p.name)


def _fmt(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def cmd_check(folder: Path, platforms: list[str]) -> int:
    pins = read_pins()
    results = walks(folder, platforms)
    failed = False
    for w in results:
        binary = [c for c in w.chosen.values() if not c.pure]
        size = sum(c.path.stat().st_size for c in w.chosen.values())
        if w.missing:
            failed = True
            for name, req in sorted(w.missing.items()):
                pinned = "constraints.txt 固定的版本" if name in pins else "未在 constraints.txt 中固定"
                print(f"错误: 离线包缺少 {req} 的 {w.arch} wheel ({pinned})", file=sys.stderr)
        else:
            glibc = max([c.glibc(w.arch) for c in w.chosen.values()] + [(0, 0)])
            print(f"  {w.arch}: {len(w.chosen)} 个 wheel 齐全 (其中 {len(binary)} 个与平台相关), "
                  f"{size / 2**20:.0f} MB, 需要 glibc ≥ {_fmt(glibc)}")
    for name, req in sorted({k: v for w in results for k, v in w.unpinned.items()}.items()):
        print(f"  注意: 依赖 {req} 未在 constraints.txt 中固定 (离线包里是 "
              f"{', '.join(sorted({str(w.chosen[name].version) for w in results if name in w.chosen})) or '无'})")
    needed = {n for w in results for n in w.chosen}
    spare = sorted(n for n in pins if n not in needed)
    if spare:
        print(f"  注意: constraints.txt 中这些固定版本在 {' / '.join(platforms)} 上不需要: {', '.join(spare)}")
    if failed:
        print(f"错误: 离线包 {folder.parent} 不完整, 缺少的 wheel 见上 (平台: {' '.join(platforms)}, "
              f"Python {_fmt(PY_VERSION)}, glibc ≤ {_fmt(GLIBC)})", file=sys.stderr)
        return 1
    return 0


def cmd_manifest(folder: Path, platforms: list[str]) -> None:
    results = walks(folder, platforms)
    print(f"python {_fmt(PY_VERSION)}")
    print(f"platforms {' '.join(platforms)}")
    for w in results:
        print(f"glibc.{w.arch} {_fmt(max([c.glibc(w.arch) for c in w.chosen.values()] + [(0, 0)]))}")
        print(f"wheels.{w.arch} {len(w.chosen)}")
    for name in (PROJECT, *[canonicalize_name(r.name) for r in build_requirements()]):
        print(f"{name} {results[0].chosen[name].version}")


def cmd_prune(folder: Path, platforms: list[str]) -> None:
    used = {c.path.name for w in walks(folder, platforms) for c in w.chosen.values()}
    for p in sorted(folder.glob("*.whl")):
        if p.name not in used:
            print(f"  移除不再需要的 {p.name}")
            p.unlink()


def main(argv: list[str]) -> int:
    cmd, *args = argv
    if cmd == "srccopy":
        cmd_srccopy(Path(args[0]))
    elif cmd == "platforms":
        print(" ".join(f"--platform {p}" for p in pip_platforms(args[0])))
    elif cmd == "missing":
        cmd_missing(Path(args[0]), args[1])
    elif cmd == "build-missing":
        cmd_build_missing(Path(args[0]), args[1])
    elif cmd == "fill":
        cmd_fill(Path(args[0]), args[1], Path(args[2]))
    elif cmd == "put":
        cmd_put(Path(args[0]), Path(args[1]))
    elif cmd == "check":
        return cmd_check(Path(args[0]), args[1:])
    elif cmd == "manifest":
        cmd_manifest(Path(args[0]), args[1:])
    elif cmd == "prune":
        cmd_prune(Path(args[0]), args[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
