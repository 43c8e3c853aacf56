"""The drawing of the process (Graphviz DOT) with the case's current step highlighted."""
from __future__ import annotations

from typing import Callable

from portal.domain.lifecycle import TRANSITIONS, State

HOLDABLE = {t.source.value for t in TRANSITIONS if t.action.value == "hold" and t.source}
_MAIN = [State.REGISTERED, State.INVESTIGATING, State.AWAITING_REPORT, State.AWAITING_GM_INSTRUCTION,
         State.AWAITING_CONSOLIDATION, State.AWAITING_APPROVAL, State.NEGOTIATING, State.AWAITING_REVIEW,
         State.AWAITING_CLOSURE, State.AWAITING_FINAL_APPROVAL, State.CLOSED, State.ARCHIVED]


def process_drawing(current: str, label: Callable[[str], str], step: tuple[str, ...] = ()) -> str:
    """DOT source: every state of the lifecycle table, its transitions, the current one filled
    (and, in training, the states of the step being taught shaded)."""
    lines = ['digraph process {', 'rankdir=LR; node [shape=box, style="rounded,filled", '
             'fillcolor="#F5F1EB", fontname="sans-serif"]; edge [color="#888888"];']
    for state in _MAIN:
        fill = ', fillcolor="#B22222", fontcolor="white"' if state.value == current else (
            ', fillcolor="#F2C14E"' if state.value in step else "")
        lines.append(f'"{state.value}" [label="{label(state.value)}"{fill}];')
    edges = {(t.source.value, t.target.value) for t in TRANSITIONS if t.source and t.source != t.target}
    lines += [f'"{a}" -> "{b}";' for a, b in sorted(edges)]
    lines.append("}")
    return "\n".join(lines)
