"""系统配置's section for the service desk (issue 17): one of its tables at a time — the lists, the materials
checklists, the clocks, the parameters, the products' claim limits — edited as a table and saved by
`configuration.save_table` (validated whole, one audit event, stale editors refused). After a save the desk's
cached lists (`desk_actions.lists_of`, 60 s) are read anew, so its pages show the change at once."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.aftersales import BASIC_KIND, LimitUnit
from portal.domain.clocks import Unit
from portal.services import configuration
from portal.services.actors import Actor
from portal.services.desk_configuration import TABLE_NAMES
from portal.ui.context import lang, now, reference_changed, t, uow
from portal.ui.desk_actions import lists_of
from portal.ui.widgets import editor_basis, empty_cell, table_save

WHOLE = ("sort", "target", "claim_limit")


def _name(row: dict) -> str:
    return str(row.get("name_en" if lang() == "en" else "name_zh") or row.get("code") or "")


def kind_label(code: str, kinds: dict[str, str]) -> str:
    return t("config.desk.kind.basic") if code == BASIC_KIND else kinds.get(code, code)


def _claim_kinds(actor: Actor) -> dict[str, str]:
    """Every claim kind (inactive ones too: old checklist rows name them), code → name."""
    return {r["code"]: _name(r) for r in configuration.load_table(uow(), actor=actor, table="desk_claim_kind")}


def _as_rows(frame: pd.DataFrame, shown_only: tuple[str, ...] = ()) -> list[dict]:
    """The edited table as plain values: empty cells None, whole numbers whole, blank rows dropped."""
    out = []
    for record in frame.drop(columns=[c for c in shown_only if c in frame]).to_dict("records"):
        row = {}
        for column, value in record.items():
            if empty_cell(value) or (isinstance(value, str) and not value.strip() and column != "value"):
                value = None
            elif column in WHOLE and isinstance(value, float) and value.is_integer():
                value = int(value)
            row[column] = value
        if any(v not in (None, "") for k, v in row.items() if k not in ("active", "keeps_scene", "sort")):
            out.append(row)
    return out


def _columns(table: str, rows: list[dict], kinds: dict[str, str]) -> tuple[list[str], dict]:
    """Which columns the editor shows, in order, and how each is edited."""
    col = st.column_config
    label = lambda c: t(f"config.col.{c}")  # noqa: E731
    if table == "desk_clocks":
        return ["clock", "unit", "target"], {
            "clock": col.TextColumn(t("config.col.clock"), width=200, disabled=True),
            "unit": col.SelectboxColumn(label("unit"), width=120, options=[u.value for u in Unit], required=True,
                                        format_func=lambda v: t(f"config.clock.unit.{v}")),
            "target": col.NumberColumn(label("target"), width=90, min_value=1, step=1, format="%d", required=True)}
    if table == "desk_parameters":
        return ["description", "value"], {
            "description": col.TextColumn(label("description"), width=500, disabled=True),
            "value": col.TextColumn(t("config.col.setting"), width=160)}
    if table == "desk_products":
        return ["code", "name", "claim_limit", "claim_limit_unit"], {
            "code": col.TextColumn(t("config.col.code"), width=140, disabled=True),
            "name": col.TextColumn(label("name"), width=240),
            "claim_limit": col.NumberColumn(label("claim_limit"), width=110, min_value=1, step=1, format="%d"),
            "claim_limit_unit": col.SelectboxColumn(label("claim_limit_unit"), width=110,
                                                    options=[u.value for u in LimitUnit],
                                                    format_func=lambda v: t(f"config.desk.limit_unit.{v}"))}
    config = {"code": col.TextColumn(label("code"), width=160, max_chars=40),
              "name_zh": col.TextColumn(label("name_zh"), width=220),
              "name_en": col.TextColumn(label("name_en"), width=220),
              "active": col.CheckboxColumn(label("active"), width=70, default=True),
              "sort": col.NumberColumn(label("sort"), width=70, min_value=0, step=1, format="%d", default=0)}
    shown = ["code", "name_zh", "name_en", "active", "sort"]
    if table == "desk_risk":
        config["keeps_scene"] = col.CheckboxColumn(label("keeps_scene"), width=90, default=False)
        shown.append("keeps_scene")
    if table == "desk_materials":
        options = [BASIC_KIND, *kinds]
        config["claim_kind"] = col.SelectboxColumn(label("claim_kind"), width=200, options=options, required=True,
                                                   format_func=lambda v: kind_label(v, kinds))
        shown.insert(0, "claim_kind")
    return shown, config


def desk_editor(actor: Actor, table: str) -> None:
    """One desk table: its help, the table as stored (edits kept until saved or dropped), the save."""
    basis = editor_basis(f"config_{table}", lambda: configuration.table_version(uow(), actor=actor, table=table))
    rows = configuration.load_table(uow(), actor=actor, table=table)
    st.caption(t(f"config.help.{table}"))
    if not rows and table == "desk_products":
        st.info(t("config.desk.empty"))
        return
    kinds = _claim_kinds(actor) if table == "desk_materials" else {}
    frame = pd.DataFrame(rows, columns=list(configuration.TABLES[table].columns))
    extra: tuple[str, ...] = ()
    if table == "desk_clocks":
        frame.insert(0, "clock", [t(f"config.desk.clock.{key}") for key in frame["key"]])
        frame["target"] = frame["target"].astype("Int64")
        extra = ("clock",)
    if table == "desk_parameters":
        frame["description"] = [t(f"param.{key}") for key in frame["key"]]
    if table == "desk_products":
        frame["claim_limit"] = frame["claim_limit"].astype("Int64")
    shown, config = _columns(table, rows, kinds)
    fixed = table in configuration.FIXED_ROWS
    edited = st.data_editor(frame, key=f"config_{table}", hide_index=True, width="stretch", column_order=shown,
                            num_rows="fixed" if fixed else "dynamic", column_config=config)

    def row_name(index: int) -> str:
        if index >= len(rows):
            return str(index + 1)
        row = rows[index]
        if table == "desk_clocks":
            return t(f"config.desk.clock.{row['key']}")
        if table == "desk_parameters":
            return t(f"param.{row['key']}")
        if table == "desk_products":
            return f"{row['code']} {row['name']}"
        return _name(row)

    def after() -> None:
        reference_changed()
        lists_of.clear()                 # the desk's pages read its lists through this cache

    table_save(lambda: configuration.save_table(uow(), actor=actor, table=table, rows=_as_rows(edited, extra),
                                                now=now(), basis=basis),
               label=t("config.save"), button_key=f"config_save_{table}", refusals_key=f"config_refusals_{table}",
               editor_key=f"config_{table}", after=after, notice="notice", row_name=row_name,
               saved_text=lambda changed: t("config.saved", count=changed) if changed else t("config.unchanged"))


def desk_section(actor: Actor) -> None:
    """The tab: which of the desk's tables, then its editor."""
    st.caption(t("config.desk.intro"))
    table = st.selectbox(t("config.desk.section"), list(TABLE_NAMES), key="config_desk_table",
                         format_func=lambda name: t(f"config.tab.{name}"))
    desk_editor(actor, table)


def log_row_name(change) -> str | None:  # noqa: ANN001
    """A desk table's row in the change log, in the reader's words (None: not a desk table's)."""
    if change.table not in TABLE_NAMES:
        return None
    if change.table == "desk_clocks":
        return t(f"config.desk.clock.{change.key}")
    if change.table == "desk_parameters":
        return t(f"param.{change.key}")
    if change.table == "desk_products":
        return f"{change.key} {change.after.get('name') or ''}".strip()
    return str(change.after.get("name_en" if lang() == "en" else "name_zh") or change.key)


def log_value(column: str, value: object) -> str | None:
    """A desk column's value in the change log in the reader's words (None: shown as it is)."""
    if column == "claim_limit_unit" and value in {u.value for u in LimitUnit}:
        return t(f"config.desk.limit_unit.{value}")
    if column == "claim_kind" and isinstance(value, str):
        return kind_label(value, lists_of(str(uow().engine.url), lang())["claim_kind"])
    return None
