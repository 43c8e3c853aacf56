"""Catalogue section: the policy register and the one lookup before anything is registered (002 ch.2 4.(二)3)."""
from __future__ import annotations

ZH: dict[str, str] = {
}

EN: dict[str, str] = {
}
