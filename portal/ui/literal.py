"""Text a user typed, made safe for the Streamlit elements that read Markdown.

st.info, st.error, st.caption, button and expander labels interpret Markdown, colour and emoji
directives (`:red[…]`, `:smile:`), LaTeX (`$…$`) and autolinks. Every ASCII punctuation mark is
backslash-escaped (CommonMark shows an escaped mark as itself), line breaks are kept as hard
breaks, and leading spaces cannot start a code block. Elements that never interpret text
(st.text, st.code, data frames) take the text unchanged.
"""
from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=^&\"'%@/;,?])")


def literal(text: object) -> str:
    """`text` escaped so that a Markdown element shows exactly these characters."""
    value = "" if text is None else str(text)
    lines = [_PUNCTUATION.sub(r"\\\1", line).replace(" ", "\u00a0", len(line) - len(line.lstrip(" ")))
             for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "  \n".join(lines)
