"""Password rules: bcrypt reads at most 72 bytes, so a longer password is refused, not cut."""
from __future__ import annotations

from portal.domain.errors import Message

MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72


def password_problem(password: object) -> Message | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return Message("users.short_password", {"min": MIN_PASSWORD})
    try:
        encoded = password.encode("utf-8")
    except UnicodeEncodeError:
        return Message("users.bad_password")
    if "\x00" in password or len(encoded) > MAX_PASSWORD_BYTES:
        return Message("users.bad_password", {"max": MAX_PASSWORD_BYTES})
    return None


def can_be_a_password(password: object) -> bool:
    """Whether a typed password could match any stored one (so it is worth a bcrypt check)."""
    return password_problem(password) is None
