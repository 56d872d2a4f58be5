"""Installing what the suite needs: Debian packages (wrk, nginx, libev-dev) and a venv under
bench/.venv with the peers from PyPI and monoceros built from this tree.

Every step is skipped when already done: the venv keeps a stamp of the pinned peers and a hash
of the monoceros sources it was built from, so a second `bench/run` starts measuring at once
and a changed C++ file is rebuilt incrementally (the CMake build folder lives in the venv).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
BIN = VENV / "bin"

APT_PACKAGES = {"wrk": "wrk", "nginx": "nginx", "libev-dev": "libev-dev"}  # binary/pkg: package
# The peers, pinned so that two runs measure the same thing. Required ones fail the install;
# optional ones that do not build are skipped with the reason printed and written to LATEST.md.
REQUIRED = [
    "gunicorn==27.0.1",
    "gevent==26.9.0",
    "granian==2.8.9",
    "flask==3.1.3",
    # to build monoceros from this tree without build isolation (a fast incremental rebuild)
    "scikit-build-core==1.1.2",
    "nanobind==3.1.0",
]
OPTIONAL = {"uwsgi": "uwsgi==2.0.31", "bjoern": "bjoern==3.2.2"}  # both compile C code
MONOCEROS_SOURCES = ["cpp", "src", "CMakeLists.txt", "pyproject.toml"]


def _say(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def _tail(text: str, lines: int = 3) -> str:
    kept = [ln for ln in text.strip().splitlines() if not ln.startswith("WARNING: Location")]
    return " | ".join(kept[-lines:])


def apt_install(skipped: dict[str, str]) -> None:
    """Install wrk, nginx and libev-dev with apt when they are missing."""
    missing = []
    for name, package in APT_PACKAGES.items():
        present = (
            Path("/usr/include/ev.h").exists()
            if name == "libev-dev"
            else shutil.which(name) or Path(f"/usr/sbin/{name}").exists()
        )
        if not present:
            missing.append(package)
    if not missing:
        return
    reason = None
    if os.geteuid() != 0:
        reason = "not root, cannot apt-get install"
    elif not shutil.which("apt-get"):
        reason = "apt-get is not available"
    else:
        _say(f"apt-get install {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
        proc = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if proc.returncode != 0:
            reason = f"apt-get install failed: {_tail(proc.stdout + proc.stderr)}"
    if reason:
        for package in missing:
            skipped[package] = reason
            _say(f"skipping {package}: {reason}")


def _pip(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _stamp_ok(name: str, value: str) -> bool:
    stamp = VENV / f".bench-{name}"
    return stamp.exists() and stamp.read_text() == value


def _write_stamp(name: str, value: str) -> None:
    (VENV / f".bench-{name}").write_text(value)


def monoceros_source_hash() -> str:
    """A hash of every monoceros source file (tracked or not, ignoring what git ignores)."""
    files: list[Path] = []
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z", *MONOCEROS_SOURCES],
            cwd=REPO, capture_output=True, check=True,
        ).stdout  # fmt: skip
        files = [REPO / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        for src in MONOCEROS_SOURCES:
            path = REPO / src
            files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for path in sorted(files):
        if path.is_file():
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def venv_install(skipped: dict[str, str], optional: set[str]) -> None:
    """The venv, the pinned peers (optional ones only when `optional` names them), monoceros."""
    if not (BIN / "python").exists():
        _say(f"creating {VENV.relative_to(REPO)} ({platform.python_version()})")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    wanted = "\n".join(REQUIRED)
    if not _stamp_ok("required", wanted):
        _say("pip install " + " ".join(REQUIRED))
        proc = _pip("install", *REQUIRED)
        if proc.returncode != 0:
            raise SystemExit(f"[bench] pip install failed: {_tail(proc.stdout + proc.stderr)}")
        _write_stamp("required", wanted)
    for name, requirement in OPTIONAL.items():
        if name not in optional:
            continue
        stamp = VENV / f".bench-failed-{name}"
        if _stamp_ok(name, requirement):
            continue
        if stamp.exists() and stamp.read_text().startswith(requirement + "\n"):
            skipped[name] = stamp.read_text().split("\n", 1)[1]  # failed before: don't retry
            continue
        _say(f"pip install {requirement}")
        proc = _pip("install", requirement)
        if proc.returncode == 0:
            _write_stamp(name, requirement)
        else:
            skipped[name] = f"pip install {requirement} failed: {_tail(proc.stdout + proc.stderr)}"
            stamp.write_text(requirement + "\n" + skipped[name])
            _say(f"skipping {name}: {skipped[name]}")
    source = monoceros_source_hash()
    if _stamp_ok("monoceros", source) and (BIN / "monoceros").exists():
        return
    _say("building monoceros from this tree into the bench venv (incremental after the first)")
    proc = _pip(
        "install", "--no-deps", "--no-build-isolation", "--force-reinstall",
        "-C", f"build-dir={VENV / 'build' / 'monoceros'}", str(REPO), timeout=1800,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(
            f"[bench] building monoceros failed: {_tail(proc.stdout + proc.stderr, 15)}"
        )
    _write_stamp("monoceros", source)


def versions() -> dict[str, str]:
    """Versions of every measured program, for LATEST.md."""
    found: dict[str, str] = {}
    proc = _pip("list", "--format", "json", timeout=120)
    if proc.returncode == 0:
        import json

        wanted = {"monoceros", "gunicorn", "gevent", "granian", "uwsgi", "bjoern", "flask"}
        for pkg in json.loads(proc.stdout):
            if pkg["name"].lower() in wanted:
                found[pkg["name"].lower()] = pkg["version"]
    for exe, args in (("nginx", ["-v"]), ("wrk", ["-v"])):
        path = shutil.which(exe) or f"/usr/sbin/{exe}"
        try:
            out = subprocess.run([path, *args], capture_output=True, text=True, timeout=10)
            text = (out.stdout + out.stderr).strip().splitlines()
            found[exe] = text[0] if text else "?"
        except OSError:
            pass
    found["python"] = platform.python_version()
    return found


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", *MONOCEROS_SOURCES], cwd=REPO,
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
    except OSError:
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head
