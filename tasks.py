#!/usr/bin/env python3
"""Project tasks that work on a fresh machine with only Python >= 3.11.

Usage::

    python3 tasks.py demo    # the main job, end to end, on the embedded default
    python3 tasks.py test    # the whole default test suite (slow tests excluded)
    python3 tasks.py test -m slow      # extra pytest arguments are passed through
    python3 tasks.py bench   # the benchmarks in benchmarks/, printing their figures

Each task creates ``.venv`` beside this file (once) and installs the project with its
test extras into it, then runs inside it.  Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-pyproject-sha256"


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def ensure_environment() -> Path:
    """Create the virtual environment and install the project if pyproject changed."""
    if sys.version_info < (3, 11):
        raise SystemExit(f"Python >= 3.11 is required, this is {sys.version.split()[0]}")
    python = _venv_python()
    if not python.exists():
        print(f"[tasks] creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("[tasks] installing the project and its test dependencies", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"],
            check=True,
        )
        STAMP.write_text(digest)
    return python


def _run(args: list[str]) -> int:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    return subprocess.run(args, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "bench"}:
        print(__doc__)
        return 2
    task, extra = argv[0], argv[1:]
    python = str(ensure_environment())
    if task == "test":
        return _run([python, "-m", "pytest", *extra])
    if task == "bench":
        code = 0
        for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            print(f"[tasks] {script.name}", flush=True)
            code |= _run([python, str(script), *extra])
        return code
    return _run([python, "-m", "optics", "demo", *extra])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
