"""What text a user typed may hold before it is stored.

Free text keeps what the person wrote (Chinese, emoji, Markdown characters — shown literally
elsewhere) but loses what no one types on purpose and what breaks storage or display: control
characters (NUL, ESC, BEL…), bidirectional overrides that reorder what a reader sees, and lone
surrogates that no database encodes. Line breaks and tabs stay in multi-line fields.

Codes (phones, ID numbers, policy numbers) are also NFKC-normalised, so full-width digits become
ASCII ones; digits of other scripts (Arabic-Indic…) are refused by the formats that follow.
"""
from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides and isolates: they make text read differently than it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Characters that draw nothing: text made only of these is empty.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u3164\u115f\u1160\u00ad")


def _dropped(char: str, keep_newlines: bool) -> bool:
    if keep_newlines and char in "\n\t":
        return False
    if char == "\r":
        return True
    category = unicodedata.category(char)
    return category in ("Cc", "Cs") or char in BIDI_CONTROLS or category == "Co"


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """The text without control, bidi-override, private-use and lone-surrogate characters."""
    return "".join(c for c in text if not _dropped(c, keep_newlines))


def clean_text(value: object, *, multiline: bool = False) -> str | None:
    """Free text as stored: controls removed, trimmed; an invisible-only text becomes empty.
    None when the value is not text at all (the caller reports a wrong type)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    text = strip_controls(value, keep_newlines=multiline).strip()
    if all(c in INVISIBLE or c.isspace() for c in text):
        return ""
    return text


def clean_address(value: object) -> str | None:
    """An address typed in one piece (an e-mail address): NFKC, controls and invisible characters
    removed, the ends trimmed, but nothing inside changed: a space inside stays and is refused by the
    address's own check, never silently dropped. None when the value is not text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", strip_controls(value))
    return "".join(c for c in text if c not in INVISIBLE).strip()


def clean_code(value: object) -> str | None:
    """A code (phone, ID number, policy number): NFKC (full-width digits → ASCII), controls and
    invisible characters removed, spaces dropped. None when the value is not text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", strip_controls(value))
    return "".join(c for c in text if c not in INVISIBLE and not c.isspace())
