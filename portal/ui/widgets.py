"""Widgets and table formatting shared by the pages. User text is always shown as text."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError, Message, ValidationFailed
from portal.domain.clocks import Badge
from portal.domain.configuration import TABLE
from portal.i18n import translate
from portal.printing.ledger_layout import seed_columns
from portal.i18n.format import badge_text, fmt_times
from portal.services.rules import Choice, ClockInfo
from portal.services import queries
from portal.ui.context import attachment_limits, calendar, lang, now, reference, said, say, t, this_run
from portal.ui.context import uow as _uow
from portal.ui.navigation import BY_KEY


def field_error(errors: dict[str, Message], name: str) -> None:
    if name in errors:
        st.error(say(errors[name]), icon="⚠️")


DATE_FORMAT = "YYYY/MM/DD"      # year first, as a date is written in Chinese; shown as the field's placeholder


def date_label(key: str) -> str:
    """A date field's label saying how to type the date (Streamlit's date input has no placeholder
    of its own; its format string would show as "yyyy/mm/dd" in Chinese mode)."""
    return t(key) + t("date.format_hint")


def lazy_tabs(sections: dict[str, Callable[[], None]], *, key: str) -> None:
    """Tabs of which only the open one runs (Streamlit's stateful tabs, rerun on a switch): a queue on a
    closed tab costs no query. `sections` maps each tab's catalogue key to its section. The key keeps
    the open tab across reruns and notices; an address with `?tab=<the key's last part>` (a home-page
    to-do's link) opens that tab."""
    labels = {name: t(name) for name in sections}
    wanted = st.query_params.get("tab")
    if wanted:
        chosen = next((name for name in sections if name.rsplit(".", 1)[-1] == wanted), None)
        if chosen is not None:
            st.session_state[key] = labels[chosen]
        del st.query_params["tab"]
    for tab, section in zip(st.tabs(list(labels.values()), key=key, on_change="rerun"), sections.values()):
        if tab.open:
            with tab:
                section()


def labels(choices: list[Choice]) -> dict[str, str]:
    return {c.code: c.label(lang()) for c in choices}


def case_label(number: str | None, complaint_id: int) -> str:
    return number if isinstance(number, str) and number else t("case.unnumbered", id=complaint_id)


def cases_table(frame: pd.DataFrame, clocks: list[ClockInfo], *, categories: dict[str, str],
                departments: dict[str, str], with_due: bool = True, seed: bool = False) -> pd.DataFrame:
    """Display columns for a slice of a ledger frame: labels, badges and due times per clock; with
    `seed`, the 登记追踪表's own columns in the seed's order first (see `ledger_layout`)."""
    language = lang()
    tr = lambda key, **kw: translate(key, language, **kw)  # noqa: E731
    states = {s: tr(f"state.{s}") for s in frame["state"].unique()}
    severities = {s: tr(f"severity.{s}") for s in frame["severity"].unique()}
    badges = {int(b): badge_text(b, language) for b in Badge}
    # the columns gathered first and the frame made once (each insertion into a frame copies its blocks)
    columns: dict[str, object] = {
        # A link to the case page; the label after "#" is what the cell shows (see case_links).
        tr("field.number"): [case_href(n, i) for n, i in zip(frame["number"], frame["id"])],
        tr("field.state"): [states[s] for s in frame["state"]],
        tr("field.severity"): [severities[s] for s in frame["severity"]],
    }
    if "urgency" in frame:
        columns[tr("field.urgency")] = [tr(f"urgency.{u}") for u in frame["urgency"]]
    columns.update({
        tr("field.customer"): frame["customer_name"].astype(str).to_numpy(),
        tr("field.category"): [categories.get(c, c) for c in frame["category"]],
        tr("field.departments"): ["、".join(departments.get(d, d) for d in ds) for ds in frame["departments"]],
        tr("field.received"): fmt_times(frame["received_at"]).to_numpy(),
    })
    if "assignees" in frame:         # who of the department(s) investigates, and a late assignment
        columns[tr("field.assignees")] = ["、".join(names) or tr("people.none") for names in frame["assignees"]]
        columns[tr("field.unassigned_late")] = ["⚠️ " + tr("people.unassigned_late") if late else ""
                                               for late in frame["unassigned_late"]]
    for info in clocks:
        key, name = info.rule.key, info.label(language)
        columns[name] = [badges.get(b) for b in frame[f"{key}_badge"]]
        if with_due:
            columns[tr("ledger.due", clock=name)] = fmt_times(frame[f"{key}_due"]).to_numpy()
    if seed:
        number, customer, category, routed = (tr("field.number"), tr("field.customer"), tr("field.category"),
                                              tr("field.departments"))
        extra = seed_columns(frame, language, departments)
        labels_ = list(extra)
        order = {number: 0, labels_[0]: 1, customer: 2, labels_[1]: 3, labels_[2]: 4, labels_[3]: 5, category: 6,
                 routed: 7, labels_[4]: 8, labels_[5]: 9, labels_[6]: 10, labels_[7]: 11, labels_[8]: 12}
        columns.update(extra)
        place = {label: i for i, label in enumerate(columns)}
        columns = {label: columns[label] for label in sorted(columns, key=lambda c: (order.get(c, 99), place[c]))}
    return pd.DataFrame(columns, index=range(len(frame)))


def case_href(number: str | None, complaint_id: int) -> str:
    reference = number if isinstance(number, str) and number else str(complaint_id)
    return f"case?case={quote(reference)}#{case_label(number, complaint_id)}"


def case_links() -> dict:
    """Column settings that show a cases table's number as a link to its case page."""
    return {t("field.number"): st.column_config.LinkColumn(display_text=r"#(.*)$")}


def open_case(reference: str) -> None:
    """Go to the case page showing this case (by number, or internal id before numbering)."""
    st.switch_page(BY_KEY["case"].path, query_params={"case": reference})


def act(call, *, notice, form: str) -> None:  # noqa: ANN001
    """Run a service call from a form: a refused field is shown beside its widget after the rerun
    (the widgets keep what was typed); a refusal of the whole action is shown at once; success
    shows `notice` after the rerun (a text, or a function of what the call returned)."""
    clear_notices()
    try:
        result = call()
    except ValidationFailed as refused:
        st.session_state[f"errors_{form}"] = refused.errors
        st.rerun()
    except DomainError as refused:
        st.error(say(refused.message))
    else:
        st.session_state.pop(f"errors_{form}", None)
        st.session_state["notice"] = notice(result) if callable(notice) else notice
        st.rerun()


def form_errors(form: str) -> dict[str, Message]:
    return st.session_state.get(f"errors_{form}", {})


_PAGE_NOW = "_page_now"
_NOTICE_PAGES = "_notice_pages"       # a shown notice's key → the page it belongs to
_NOTICE_SLOTS = "notice:slots"        # in `this_run()`: this run's notice places, by key


def note_page(url_path: str) -> None:
    """The page this run shows (set by the app before it runs the page): the notices of another page go."""
    st.session_state[_PAGE_NOW] = url_path
    for key, page in list(st.session_state.get(_NOTICE_PAGES, {}).items()):
        if page != url_path:
            _forget_notice(key)


def show_notice(key: str = "notice") -> None:
    """The notice a last action left, shown on the page where it first appears until the person acts
    again (`clear_notices`) or opens another page. Reruns the person did not ask for (a component's, a
    table editor's) keep it: it is not gone before it could be read. Its place is taken on every run,
    notice or not, so what follows keeps its position between runs: tabs further down stay on the tab
    the person opened."""
    slot = st.empty()
    this_run().setdefault(_NOTICE_SLOTS, {})[key] = slot
    if key not in st.session_state:
        return
    st.session_state.setdefault(_NOTICE_PAGES, {}).setdefault(key, st.session_state.get(_PAGE_NOW))
    slot.success(st.session_state[key])


def clear_notices() -> None:
    """A new action starts: the notices of the last one go, from the screen too."""
    for key, slot in this_run().get(_NOTICE_SLOTS, {}).items():
        slot.empty()
        _forget_notice(key)


def _forget_notice(key: str) -> None:
    st.session_state.pop(key, None)
    st.session_state.get(_NOTICE_PAGES, {}).pop(key, None)


def case_summary(case) -> None:  # noqa: ANN001
    """The essentials every handling page shows before its form (user text shown as text)."""
    f = case.fields
    severity = t(f"severity.{f['severity']}")
    st.markdown(f"**{case_label(case.number, case.id)}** · {t(f'state.{case.state}')} · {severity}")
    st.text(f"{t('field.customer')}: {f['customer_name']}  {f['customer_phone']}  ·  "
            f"{t('field.policy_number')}: {f['policy_number']}  ·  {t('field.product')}: {f['product']}")
    st.text(f"{t('field.description')}: {f['description']}")
    st.text(f"{t('field.expected_resolution')}: {f['expected_resolution']}")


def seen_version(case) -> int:  # noqa: ANN001
    """The case's version as the user saw it when the form was drawn.

    A click reruns the whole script, which reloads the case before the form's submit is handled;
    so the version a form sends must be the one remembered from the previous run (see
    `remember_versions`), or a save made meanwhile by someone else would go unnoticed.
    """
    st.session_state.setdefault("_versions_now", {})[case.id] = case.version
    return st.session_state.get("_versions_seen", {}).get(case.id, case.version)


def remember_versions() -> None:
    """Called last by a page: what this run showed is what the next run's forms were based on."""
    st.session_state["_versions_seen"] = st.session_state.pop("_versions_now", {})


def page_of(key: str) -> int:
    """The page of a paged list the user is on (its pager widget is drawn after the query)."""
    return int(st.session_state.get(f"{key}_page", 1))


def pager(ledger, *, key: str) -> None:  # noqa: ANN001
    """Which page of a list counted and paged in SQL, and where this page sits in the whole."""
    if ledger.total > ledger.page_size:
        if st.session_state.get(f"{key}_page", 1) != ledger.page:
            st.session_state[f"{key}_page"] = ledger.page     # clamped by the query (the list shrank)
        st.number_input(t("ledger.page"), min_value=1, max_value=ledger.pages, step=1, key=f"{key}_page")
    first = (ledger.page - 1) * ledger.page_size
    st.caption(t("ledger.showing", first=first + 1 if ledger.total else 0, last=first + len(ledger.frame),
                 total=ledger.total) + " " + t(f"queue.order.{getattr(ledger, 'order', 'priority')}"))


def pick_from_queue(ledger, *, key: str, actor, with_due: bool = False, summary: bool = True,  # noqa: ANN001, ANN201
                    show_table: bool = True):
    """A queue as a table, the case chosen from it loaded for `actor` (its version remembered for
    the forms), and its essentials shown. None when nothing waits or the case cannot be read.
    The queue is one page of what waits (`page_of(key)`), counted and paged in SQL."""
    if ledger.frame.empty:
        st.info(t("gm.nothing"))
        return None
    if show_table:                 # a page that draws its own table draws its own pager
        pager(ledger, key=key)
        ref = reference()
        st.dataframe(cases_table(ledger.frame, ledger.clocks, categories=labels(ref.categories),
                                 departments=labels(ref.departments), with_due=with_due),
                     hide_index=True, width="stretch", column_config=case_links())
    ids = [int(i) for i in ledger.frame["id"]]
    numbers = dict(zip(ids, ledger.frame["number"]))
    names = dict(zip(ids, ledger.frame["customer_name"]))
    chosen = st.selectbox(t(f"pick.{key}"), ids, key=key,     # each queue says what the user is about to do
                          format_func=lambda i: f"{case_label(numbers[i], i)} · {names[i]}")
    try:
        case = queries.case_detail(_uow(), actor=actor, complaint_id=chosen, now=now(), calendar=calendar())
    except DomainError as refused:
        st.error(say(refused.message))
        return None
    seen_version(case)
    if summary:
        case_summary(case)
    return case


# Streamlit's upload box writes "Upload" and "… per file" in English with no option to change
# them: the box's own words are hidden and the limits are said in the portal's language.
_UPLOAD_STYLE = """<style>
[data-testid="stFileUploaderDropzoneInstructions"] {display: none;}
[data-testid="stFileUploaderDropzone"] button p {display: none;}
[data-testid="stFileUploaderDropzone"] button::after {content: "%s";}
</style>"""


def attachments_uploader(label: str, key: str, *, multiple: bool = True):  # noqa: ANN201
    """The attachment picker, limited to what the services accept (type, size), in the UI language;
    with `multiple` False, one file (or None)."""
    limits = attachment_limits()
    st.html(_UPLOAD_STYLE % t("upload.button"))
    files = st.file_uploader(label, accept_multiple_files=multiple, key=key, type=list(limits.allowed_extensions),
                             max_upload_size=max(1, -(-limits.max_bytes // (1024 * 1024))))
    st.caption(t("upload.limits", max_mb=round(limits.max_bytes / 1048576, 1), count=limits.max_files,
                 types="、".join(limits.allowed_extensions)))
    return files


def empty_cell(value: object) -> bool:
    """A table editor's empty cell: None, or pandas' missing values (NaN, NA, NaT)."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def refusal_table(refusals, *, row_name=None, column_prefix: str = "config.col") -> None:  # noqa: ANN001
    """A refused table editor's reasons: which row (its number, or `row_name(index)`), which column,
    why. Shown as text in a grid (nothing to escape)."""
    st.error(t("config.refused", count=len(refusals)))
    st.dataframe(pd.DataFrame({
        t("config.row"): [t("config.whole_table") if r.row == TABLE else row_name(r.row) if row_name else str(r.row + 1)
                          for r in refusals],
        t("config.column"): [t(f"{column_prefix}.{r.field}") for r in refusals],
        t("config.reason"): [said(r.message) for r in refusals],
    }), hide_index=True, width="stretch")


def editor_basis(editor_key: str, read):  # noqa: ANN001, ANN201
    """The version of the stored table a table editor's edits are made on: read anew while the editor
    holds no edits, kept from the first edit until the edits are saved or dropped."""
    edits = st.session_state.get(editor_key) or {}
    basis_key = f"{editor_key}__basis"
    if basis_key not in st.session_state or not any(edits.get(kind) for kind in
                                                     ("edited_rows", "added_rows", "deleted_rows")):
        st.session_state[basis_key] = read()
    return st.session_state[basis_key]


def table_save(save, *, label: str, button_key: str, refusals_key: str, editor_key: str, notice: str,  # noqa: ANN001
               saved_text, after=None, row_name=None, column_prefix: str = "config.col") -> None:  # noqa: ANN001
    """The save of a table editor: the reasons a last attempt was refused, then the button. `save()`
    writes and returns how many rows changed; a refusal is kept for the next run and shown as a table;
    a save clears it, drops the editor's edits (it then shows the table as stored), runs `after`
    (caches read anew) and leaves `saved_text(changed)` as the notice in `notice`. A save refused
    because someone saved the table meanwhile drops the edits too (they were made on the old table)
    and says so."""
    from portal.services.configuration import ConfigurationRefused, ConfigurationStale
    stale_key = f"{editor_key}__stale"
    if stale_key in st.session_state:
        st.error(st.session_state.pop(stale_key))
    refused = st.session_state.get(refusals_key)
    if refused:
        refusal_table(refused, row_name=row_name, column_prefix=column_prefix)
    if not st.button(label, key=button_key, type="primary"):
        return
    clear_notices()
    try:
        changed = save()
    except ConfigurationRefused as refusal:
        st.session_state[refusals_key] = refusal.refusals
        st.rerun()
    except ConfigurationStale as stale:
        for key in (refusals_key, editor_key, f"{editor_key}__basis"):
            st.session_state.pop(key, None)
        st.session_state[stale_key] = say(stale.message)
        st.rerun()
    except DomainError as refusal:
        st.error(say(refusal.message))
    else:
        st.session_state.pop(refusals_key, None)
        st.session_state.pop(editor_key, None)
        if after is not None:
            after()
        st.session_state[notice] = saved_text(changed)
        st.rerun()
