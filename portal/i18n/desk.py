"""Catalogue section: the service desk's requests: claim reports, applications, hand-overs, surrenders, endorsements."""
from __future__ import annotations

ZH: dict[str, str] = {
}

EN: dict[str, str] = {
}
