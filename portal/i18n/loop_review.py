"""Issue 18 (closing the loop): review — both languages side by side."""
from __future__ import annotations

ZH: dict[str, str] = {
}

EN: dict[str, str] = {
}
