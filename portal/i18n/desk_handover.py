"""Catalogue section: the 理赔移交 page, the request page and the desk's printable forms."""
from __future__ import annotations

ZH: dict[str, str] = {
}

EN: dict[str, str] = {
}
