"""The decision letter (投诉处理决定告知书) as self-contained, print-ready HTML: the filled-in letter
template and nothing else (002 art.13.10: never a copy of the internal 客户抱怨处理表). The whole text
— the template's words and the case's values alike — is escaped: nothing in it becomes markup."""
from __future__ import annotations

from datetime import datetime
from html import escape

from portal.domain.notices import customer_date

_STYLE = """
body { font-family: "Noto Serif CJK SC", "SimSun", "Songti SC", serif; font-size: 12pt; line-height: 1.8;
       max-width: 40em; margin: 2.5em auto; }
h1 { font-size: 18pt; text-align: center; letter-spacing: 0.2em; margin-bottom: 0.2em; }
.reference { text-align: center; margin-bottom: 1.5em; }
p { margin: 0 0 0.8em; white-space: normal; }
.dated { text-align: right; margin-top: 2em; }
@media print { body { margin: 0 auto; } }
"""


def _paragraphs(text: str) -> str:
    blocks = [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join("<p>" + "<br>".join(escape(line) for line in block.split("\n")) + "</p>"
                   for block in blocks if block.strip())


def decision_letter_html(*, title: str, body: str, reference: str, dated: datetime) -> str:
    """`title` and `body`: the letter template filled in (plain text; blank lines part paragraphs)."""
    return ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} {escape(reference)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><div class='reference'>{escape(reference)}</div>"
            f"<section class='letter'>{_paragraphs(body)}</section>"
            f"<div class='dated'>{escape(customer_date(dated))}</div></body></html>")
