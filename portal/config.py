"""Deployment settings: the database URL.

Read from the environment first, then `.streamlit/secrets.toml`; never from the repository.
"""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "db" / "portal.sqlite3"


@lru_cache(maxsize=1)
def _secrets_file() -> dict:
    path = Path(os.environ.get("PORTAL_SECRETS_FILE", ROOT / ".streamlit" / "secrets.toml"))
    if path.is_file():
        with path.open("rb") as handle:
            return tomllib.load(handle)
    return {}


def _setting(name: str) -> str | None:
    return os.environ.get(name) or _secrets_file().get(name)


def database_url() -> str:
    return _setting("PORTAL_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
