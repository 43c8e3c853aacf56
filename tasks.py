#!/usr/bin/env python3
"""Set-up and everyday commands with nothing but Python 3.11+:

    python3 tasks.py run     install into .venv, create/migrate the SQLite database, add demo
                             users and data (first time only), serve http://localhost:8501
    python3 tasks.py test    install into .venv and run the whole test suite
    python3 tasks.py bench   install into .venv and print the benchmark figures
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
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> None:
    """Create .venv and install the project (with test tools) whenever pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing dependencies …", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], check=True)
    stamp.write_text(digest)


def portal(*args: str) -> None:
    subprocess.run([PYTHON, "-m", "portal", *args], check=True, cwd=ROOT)


def run() -> None:
    portal("db", "upgrade")
    portal("demo", "seed", "--if-empty", "--complaints", "80", "--seed", "7")
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), "-m", "streamlit", "run", "portal/server.py", "--server.port", "8501"])


def test() -> None:
    os.chdir(ROOT)
    # Two workers (the CI machine has two cores); each has its own databases and servers. Work
    # stealing keeps both busy to the end (the browser walks are long): 782 s -> 517 s.
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", "-q", "-n", "2", "--dist", "worksteal", *sys.argv[2:]])


def bench() -> None:
    portal("bench", *sys.argv[2:])


COMMANDS = {"run": run, "test": test, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_environment()
    COMMANDS[sys.argv[1]]()
