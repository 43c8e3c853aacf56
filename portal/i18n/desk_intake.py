"""Catalogue section: the 售后受理 page: lookup, registration and the desk's queue."""
from __future__ import annotations

ZH: dict[str, str] = {
}

EN: dict[str, str] = {
}
