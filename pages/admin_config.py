"""系统配置: the business rules as tables an administrator edits (SPEC §8). Each table is checked as a
whole before anything is saved; a refusal names the row, the column and the reason. Every save is
one audit event; the change log shows who changed what and when."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from portal.domain.configuration import PENALTY_TYPES
from portal.domain.clocks import Milestone
from portal.domain.privacy import EXPORT, PersonalField, Visibility
from portal.i18n.format import fmt_time, unit_text
from portal.services import configuration, rules
from portal.ui.auth import require_page
from portal.ui.context import lang, now, reference, reference_changed, t, uow
from portal.ui import desk_config
from portal.ui.notices import template_editor
from portal.ui.widgets import editor_basis, empty_cell, labels, show_notice, table_save

actor = require_page("admin_config")
st.title(t("config.title"))
st.caption(t("config.intro"))
show_notice()

EDITABLE = ("categories", "channels", "departments", "authority_levels", "penalty_standards", "warnings",
            "parameters", "cause_classes", "quality_checklist", "policies_in_force")
AMOUNTS = ("max_amount", "department_loss")
KEYS = {"code", "key", "level"}


WIDE = ("name_zh", "name_en", "max_amount", "department_loss", "penalty_type", "value", "code")
LONG = ("text_zh", "text_en")


def column_config(table: str, rows: list[dict]) -> dict:
    config = {}
    for column in configuration.TABLES[table].columns:
        label = t("config.col.setting") if (table, column) in (("parameters", "value"), ("baselines", "value")) \
            else t(f"config.col.{column}")
        width = 400 if column in ("description", *LONG) else 200 if column in WIDE else 100   # a steady layout
        if column in ("active", "investigates", "covers_major"):
            config[column] = st.column_config.CheckboxColumn(label, width=width,
                                                             default=True if column == "active" else False)
        elif column == "count":
            config[column] = st.column_config.NumberColumn(label, width=width, min_value=0, step=1, format="%d")
        elif column in ("sort", "rank"):
            config[column] = st.column_config.NumberColumn(label, width=width, min_value=0, step=1, format="%d")
        elif column == "penalty_type":
            config[column] = st.column_config.SelectboxColumn(label, width=width, options=list(PENALTY_TYPES),
                                                              format_func=lambda v: t(f"penalty.{v}"))
        elif column == "default_departments":
            routable = labels(reference().investigating)
            config[column] = st.column_config.MultiselectColumn(label, width=200, options=list(routable),
                                                                format_func=lambda v: routable.get(v, v))
        elif column == "description":
            config[column] = st.column_config.TextColumn(label, width=width, disabled=True)
        elif table in configuration.FIXED_ROWS and (column in KEYS or column in ("name_zh", "name_en")):
            config[column] = st.column_config.TextColumn(label, width=width, disabled=True)   # catalogue names
        else:
            config[column] = st.column_config.TextColumn(label, width=width)
    return config


def as_rows(frame: pd.DataFrame) -> list[dict]:
    """The edited table as plain values: empty cells as None, amounts as text (kept exact)."""
    out = []
    for record in frame.to_dict("records"):
        row = {}
        for column, value in record.items():
            if column == "default_departments":
                value = [] if empty_cell(value) else list(value)
            elif empty_cell(value):
                value = None
            elif isinstance(value, str) and not value.strip() and column in AMOUNTS:
                value = None
            row[column] = value
        if any(v not in (None, "", []) for v in row.values()):
            out.append(row)
    return out


def editor(table: str) -> None:
    basis = editor_basis(f"config_{table}", lambda: configuration.table_version(uow(), actor=actor, table=table))
    rows = configuration.load_table(uow(), actor=actor, table=table)
    frame = pd.DataFrame(rows, columns=list(configuration.TABLES[table].columns))
    for column in AMOUNTS:
        if column in frame:
            frame[column] = [("" if v is None else str(v)) for v in frame[column]]
    if "description" in frame:                 # what each value means, in the reader's language
        frame["description"] = [t(f"param.{key}") for key in frame["key"]]
    st.caption(t(f"config.help.{table}"))
    # Codes are the portal's identifiers, not words to read: hidden, and given to new rows by the service. A
    # cause's code is its place in the taxonomy (`class.sub`): typed and shown; its class is derived from it.
    shown = [c for c in frame.columns if c not in KEYS or table == "cause_classes"]
    if "parent_code" in shown:
        shown.remove("parent_code")
    if "description" in shown:                 # what a value means, read before the value
        shown.remove("description")
        shown.insert(0, "description")
    edited = st.data_editor(frame, key=f"config_{table}", hide_index=True, width="stretch", column_order=shown,
                            num_rows="fixed" if table in configuration.FIXED_ROWS else "dynamic",
                            column_config=column_config(table, rows))
    table_save(lambda: configuration.save_table(uow(), actor=actor, table=table, rows=as_rows(edited), now=now(),
                                                basis=basis),
               label=t("config.save"), button_key=f"config_save_{table}", refusals_key=f"config_refusals_{table}",
               editor_key=f"config_{table}", after=reference_changed, notice="notice", saved_text=saved_text)


def saved_text(changed: int) -> str:
    return t("config.saved", count=changed) if changed else t("config.unchanged")


UNITS = ("hours", "days", "working_days")
PERSONAL = {f.value for f in PersonalField}
MILESTONES = [m.value for m in Milestone]


def clock_editor() -> None:
    """时限规则: a change takes effect for complaints received from its date; running cases keep theirs."""
    basis = editor_basis("config_clocks", lambda: configuration.table_version(uow(), actor=actor, table="clocks"))
    rows = configuration.load_clocks(uow(), actor=actor, now=now())
    frame = pd.DataFrame(rows)
    frame.insert(0, "clock", [r["name_en" if lang() == "en" else "name_zh"] for r in rows])
    frame["target"] = frame["target"].astype("Int64")
    # Empty cells as empty text (a grid shows a missing value as "None"): typed, checked by the service.
    frame["due_soon_percent"] = ["" if v is None else str(v) for v in frame["due_soon_percent"]]
    frame["effective_date"] = ["" if v is None else v.isoformat() for v in frame["effective_date"]]
    st.caption(t("config.help.clocks"))
    edited = st.data_editor(
        frame, key="config_clocks", hide_index=True, width="stretch", num_rows="fixed",
        column_order=["clock", "unit", "target", "start_milestone", "stop_milestone", "due_soon_percent",
                      "effective_date"],
        column_config={
            "clock": st.column_config.TextColumn(t("config.col.clock"), width=100, disabled=True),
            "unit": st.column_config.SelectboxColumn(t("config.col.unit"), width=90, options=list(UNITS),
                                                     required=True,
                                                     format_func=lambda v: t(f"config.clock.unit.{v}")),
            "target": st.column_config.NumberColumn(t("config.col.target"), width=70, min_value=1, step=1,
                                                    format="%d", required=True),
            "start_milestone": st.column_config.SelectboxColumn(
                t("config.col.start_milestone"), width=170, options=MILESTONES, required=True,
                format_func=lambda v: t(f"milestone.{v}")),
            "stop_milestone": st.column_config.SelectboxColumn(
                t("config.col.stop_milestone"), width=170, options=MILESTONES, required=True,
                format_func=lambda v: t(f"milestone.{v}")),
            "due_soon_percent": st.column_config.TextColumn(t("config.col.due_soon_percent"), width=130,
                                                            max_chars=3),
            "effective_date": st.column_config.TextColumn(t("config.col.effective_date"), width=170,
                                                          max_chars=10),
        })
    def save() -> int:
        wanted = []
        for record in edited.drop(columns=["clock"]).to_dict("records"):
            row = {k: None if empty_cell(v) else v for k, v in record.items()}
            if row.get("target") is not None:
                row["target"] = int(row["target"])
            wanted.append(row)
        return configuration.save_clocks(uow(), actor=actor, rows=wanted, now=now(), basis=basis)

    table_save(save, label=t("config.save"), button_key="config_save_clocks", refusals_key="config_refusals_clocks",
               editor_key="config_clocks", after=reference_changed, notice="notice", saved_text=saved_text,
               row_name=lambda i: rows[i]["name_en" if lang() == "en" else "name_zh"])
    st.markdown(f"**{t('config.clock.history')}**")
    history = configuration.clock_history(uow(), actor=actor, now=now())
    st.dataframe(pd.DataFrame({
        t("config.col.clock"): [v.name_en if lang() == "en" else v.name_zh for v in history],
        t("config.clock.status"): [t("config.clock.pending") if v.pending else t("config.clock.in_force")
                                   for v in history],
        t("config.clock.for_cases"): [fmt_time(v.effective_from) if v.created_by else t("config.clock.seeded")
                                      for v in history],
        t("config.clock.until"): [fmt_time(v.effective_until) if v.effective_until else "—" for v in history],
        t("config.col.target"): [unit_text(v.unit, v.target, lang()) for v in history],
        t("config.col.start_milestone"): [t(f"milestone.{v.start_milestone}") for v in history],
        t("config.col.stop_milestone"): [t(f"milestone.{v.stop_milestone}") for v in history],
        t("config.col.due_soon_percent"): ["—" if v.due_soon_percent is None else f"{v.due_soon_percent}%"
                                           for v in history],
        t("config.clock.by"): [v.created_by or "—" for v in history],
    }), hide_index=True, width="stretch")


VISIBILITIES = [v.value for v in Visibility]


def masking_editor() -> None:
    """个人信息脱敏: for each audience (a role, or exported files) how each field of personal data is shown."""
    basis = editor_basis("config_masking_rules",
                         lambda: configuration.table_version(uow(), actor=actor, table="masking_rules"))
    rows = configuration.load_table(uow(), actor=actor, table="masking_rules")
    frame = pd.DataFrame(rows, columns=list(configuration.TABLES["masking_rules"].columns))
    frame.insert(0, "audience_label", [audience_label(a) for a in frame["audience"]])
    st.caption(t("config.help.masking_rules"))
    fields = [f.value for f in PersonalField]
    edited = st.data_editor(
        frame, key="config_masking_rules", hide_index=True, width="stretch", num_rows="fixed",
        column_order=["audience_label", *fields],
        column_config={"audience_label": st.column_config.TextColumn(t("masking.audience"), width=120, disabled=True),
                       **{f: st.column_config.SelectboxColumn(t(f"masking.field.{f}"), width=130, options=VISIBILITIES,
                                                              required=True,
                                                              format_func=lambda v: t(f"masking.visibility.{v}"))
                          for f in fields}})

    def save() -> int:
        wanted = [{k: None if empty_cell(v) else v for k, v in record.items() if k != "audience_label"}
                  for record in edited.to_dict("records")]
        return configuration.save_table(uow(), actor=actor, table="masking_rules", rows=wanted, now=now(),
                                        basis=basis)

    table_save(save, label=t("config.save"), button_key="config_save_masking_rules",
               refusals_key="config_refusals_masking_rules", editor_key="config_masking_rules",
               after=reference_changed, notice="notice", saved_text=saved_text,
               row_name=lambda i: audience_label(rows[i]["audience"]), column_prefix="masking.field")


def audience_label(audience: str) -> str:
    return t("masking.audience.export") if audience == EXPORT else t(f"role.{audience}")


# A key keeps the open tab when a notice above it comes and goes between runs.
TABS = (*EDITABLE[:3], "clocks", *EDITABLE[3:], "masking_rules", "notice_templates", "desk")
tabs = st.tabs([t(f"config.tab.{name}") for name in TABS] + [t("config.tab.log")], key="config_tabs")
for name, tab in zip(TABS, tabs):
    with tab:
        if name == "clocks":
            clock_editor()
        elif name == "warnings":                # the thresholds, and the baselines the rates are shown against
            editor("warnings")
            st.divider()
            editor("baselines")
        elif name == "masking_rules":           # 个人信息脱敏 (portal/domain/privacy.py)
            masking_editor()
        elif name == "notice_templates":        # 通知模板 (portal/ui/notices.py)
            template_editor(actor)
        elif name == "desk":                    # 售后服务 (portal/ui/desk_config.py)
            desk_config.desk_section(actor)
        else:
            editor(name)

with tabs[-1]:
    left, right = st.columns(2)
    logged = [*TABS[:-1], "baselines", *desk_config.TABLE_NAMES]    # the desk's section saves several tables
    which = left.selectbox(t("config.log.table"), [None, *logged], key="config_log_table",
                           format_func=lambda v: t("ledger.any") if v is None else t(f"config.tab.{v}"))
    who = right.text_input(t("config.log.who"), key="config_log_who")
    changes = configuration.change_log(uow(), actor=actor, table=which, who=who.strip() or None)
    if not changes:
        st.info(t("config.log.empty"))
    else:
        def shown_value(column: str, value: object) -> str:
            if value in (None, ""):
                return "—"
            if (desk := desk_config.log_value(column, value)) is not None:
                return desk
            if isinstance(value, bool):
                return t("yes") if value else t("no")
            if column == "penalty_type":
                return t(f"penalty.{value}")
            if column == "unit":
                return t(f"config.clock.unit.{value}")
            if column == "default_departments":
                names = labels(reference().departments)
                return "、".join(names.get(code, code) for code in value) if value else "—"
            if column in ("start_milestone", "stop_milestone"):
                return t(f"milestone.{value}")
            if value in VISIBILITIES:
                return t(f"masking.visibility.{value}")
            return str(value)

        def describe(values: dict | None) -> str:
            if not values:
                return t("config.log.new")
            return "；".join(f"{column_name(k)}：{shown_value(k, v)}" for k, v in values.items()
                            if k not in KEYS and k not in ("description", "audience"))

        def column_name(column: str) -> str:
            return t(f"masking.field.{column}") if column in PERSONAL else t(f"config.col.{column}")

        def row_name(change) -> str:  # noqa: ANN001
            if (desk := desk_config.log_row_name(change)) is not None:
                return desk
            if change.table in ("warnings", "parameters", "baselines"):
                return t(f"param.{change.key}")
            if change.table == "clocks":
                return clock_names.get(change.key, change.key)
            if change.table == "masking_rules":
                return audience_label(change.key)
            if change.table == "notice_templates":
                kind, _, channel = change.key.partition(".")
                return f"{t(f'notices.kind.{kind}')} · {t(f'notices.channel.{channel}')}"
            return str(change.after.get("name_en" if lang() == "en" else "name_zh")
                       or change.after.get("text_en" if lang() == "en" else "text_zh") or change.key)

        clock_names = {c.rule.key: c.label(lang()) for c in rules.load_clocks(uow())}
        st.dataframe(pd.DataFrame({
            t("case.event.at"): [fmt_time(c.at) for c in changes],
            t("case.event.actor"): [c.actor for c in changes],
            t("config.log.table"): [t(f"config.tab.{c.table}") for c in changes],
            t("config.log.row"): [row_name(c) for c in changes],
            t("config.log.before"): [describe(c.before) for c in changes],
            t("config.log.after"): [describe(c.after) for c in changes],
        }), hide_index=True, width="stretch")
