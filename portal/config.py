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


def secret(env: str, *path: str) -> str | None:
    """A deployment setting that has a table of its own in the secrets file: the environment variable
    `env` first, then the value at `path` (("notices", "smtp", "host") is `host` under
    `[notices.smtp]`); None when neither is set. Numbers and true/false come back as text."""
    value: object = os.environ.get(env)
    if not value:
        value = _secrets_file()
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
    if value is None or value == "" or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def secret_table(*path: str) -> dict[str, str]:
    """A table of the secrets file as text values ({} when absent), e.g. `[notices.sms.templates]`."""
    value: object = _secrets_file()
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return {str(k): str(v) for k, v in value.items() if not isinstance(v, dict)} if isinstance(value, dict) else {}


def password_login() -> bool:
    """Whether the login page offers the user name and password form (`PORTAL_PASSWORD_LOGIN`, or `[login] password`
    in the secrets file; on unless set to false/0/no/off): an installation that signs everyone in through the
    company's single sign-on switches it off."""
    value = secret("PORTAL_PASSWORD_LOGIN", "login", "password")
    return value is None or value.strip().lower() not in ("0", "false", "no", "off")


def sso_provider() -> str | None:
    """The named provider of `[auth.NAME]` to sign in with (`PORTAL_SSO_PROVIDER` or `[login] sso_provider`); None:
    the one `[auth]` itself describes."""
    return secret("PORTAL_SSO_PROVIDER", "login", "sso_provider")
