"""The one catalogue of user-facing text: Simplified Chinese by default, English available."""
from __future__ import annotations

from typing import Any

from portal.domain.errors import Message
from portal.i18n import (chrome, desk, desk_config, desk_handover, desk_intake, loop_followup, loop_insight, loop_people,
                         loop_rectify, loop_review, policies)
from portal.i18n.en import EN
from portal.i18n.zh import ZH

# a capability added later keeps its words in its own section (both languages side by side)
SECTIONS = (policies, desk, desk_intake, desk_handover, desk_config, loop_rectify, loop_followup, loop_review,
            loop_insight, loop_people, chrome)
CATALOGUES = {"zh": {**ZH, **{k: v for s in SECTIONS for k, v in s.ZH.items()}},
              "en": {**EN, **{k: v for s in SECTIONS for k, v in s.EN.items()}}}
LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    text = CATALOGUES.get(lang, CATALOGUES["zh"]).get(key) or CATALOGUES["zh"].get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def render(message: Message, lang: str = DEFAULT_LANGUAGE) -> str:
    params = dict(message.params)
    for name, prefix in (("action", "action"), ("state", "state"), ("kind", "day"), ("start", "milestone"),
                         ("stop", "milestone"), ("decision", "four_eyes.decision"), ("desk_state", "desk.state")):
        if name in params and params[name]:
            params[name] = translate(f"{prefix}.{params[name]}", lang)
    return translate(message.key, lang, **params)
