"""通知发件箱 (GM office): every notice to the customers with its state, attempts and last error, where
notices go, and the 待确认 and failed ones to settle — confirm delivered, or send again (audited). A
notice about a request to the after-sales desk shows the request's number where a case number would be."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.notices import NoticeKind, NoticeState
from portal.services import notices_office
from portal.ui.auth import require_page
from portal.ui.context import now, t, uow
from portal.ui.notices import destinations, transports
from portal.ui.widgets import act, case_href, case_label, page_of, pager, show_notice

actor = require_page("outbox")
st.title(t("outbox.title"))
st.caption(t("outbox.intro"))
show_notice()

try:
    destinations(transports())
except ValueError as wrong:                 # a secrets file the transports cannot read
    st.error(str(wrong))

STATES = [s.value for s in NoticeState]
KINDS = [k.value for k in NoticeKind]
left, middle, right = st.columns(3)
state = left.selectbox(t("outbox.filter.state"), [None, *STATES], key="outbox_state",
                       format_func=lambda v: t("outbox.any") if v is None else t(f"outbox.state.{v}"))
kind = middle.selectbox(t("outbox.filter.kind"), [None, *KINDS], key="outbox_kind",
                        format_func=lambda v: t("outbox.any") if v is None else t(f"notices.kind.{v}"))
channel = right.selectbox(t("outbox.filter.channel"), [None, "email", "sms"], key="outbox_channel",
                          format_func=lambda v: t("outbox.any") if v is None else t(f"notices.channel.{v}"))

listing = notices_office.list_notices(uow(), actor=actor, state=state, kind=kind, channel=channel,
                                      page=page_of("outbox"))
for column, name in zip(st.columns(len(STATES)), STATES):
    column.metric(t(f"outbox.state.{name}"), listing.counts.get(name, 0))
if listing.counts.get("unconfirmed") or listing.counts.get("failed"):
    st.warning(t("outbox.attention", unconfirmed=listing.counts.get("unconfirmed", 0),
                 failed=listing.counts.get("failed", 0)))


def reference(row: dict) -> str:
    """What the notice is about: the case (a link to its page), or the request to the desk by its number."""
    if pd.notna(row["complaint_id"]):
        return case_href(row["number"] if isinstance(row["number"], str) else None, int(row["complaint_id"]))
    return f"#{row['number']}" if isinstance(row["number"], str) else ""


def reference_label(row: dict) -> str:
    if pd.notna(row["complaint_id"]):
        return case_label(row["number"] if isinstance(row["number"], str) else None, int(row["complaint_id"]))
    return row["number"] if isinstance(row["number"], str) else ""


def moment(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def error_text(value: str) -> str:
    """The outbox's own reasons in the reader's language; a server's words as they came."""
    if not value:
        return ""
    head, _, rest = value.partition(" ")
    return f"{t(head)} {rest}".strip() if head.startswith("outbox.error.") else value


frame = listing.frame
if frame.empty:
    st.info(t("outbox.nothing"))
else:
    pager(listing, key="outbox")
    st.dataframe(pd.DataFrame({
        t("outbox.request_or_case_number"): [reference(r) for r in
                                             frame[["number", "complaint_id"]].to_dict("records")],
        t("outbox.col.customer"): frame["customer_name"].fillna("").astype(str),
        t("outbox.col.kind"): [t(f"notices.kind.{k}") for k in frame["kind"]],
        t("outbox.col.channel"): [t(f"notices.channel.{c}") for c in frame["channel"]],
        t("outbox.col.recipient"): frame["recipient"].astype(str),
        t("outbox.col.state"): [t(f"outbox.state.{s}") for s in frame["state"]],
        t("outbox.col.attempts"): frame["attempts"].astype(int),
        t("outbox.col.next_attempt"): [moment(v) if s == "queued" else "—"
                                       for v, s in zip(frame["next_attempt_at"], frame["state"])],
        t("outbox.col.queued"): [moment(v) for v in frame["queued_at"]],
        t("outbox.col.sent"): [moment(v) for v in frame["sent_at"]],
        t("outbox.col.error"): [error_text(e) for e in frame["last_error"]],
    }), hide_index=True, width="stretch",
        column_config={t("outbox.request_or_case_number"): st.column_config.LinkColumn(display_text=r"#(.*)$")})

st.subheader(t("outbox.act.header"))
open_items = notices_office.list_notices(uow(), actor=actor, state=("unconfirmed", "failed"), page_size=200).frame
if open_items.empty:
    st.info(t("outbox.act.none"))
else:
    rows = {int(r["id"]): r for r in open_items.to_dict("records")}

    def label(notice_id: int) -> str:
        r = rows[notice_id]
        case = reference_label(r)
        state, kind, channel = (t(f"outbox.state.{r['state']}"), t(f"notices.kind.{r['kind']}"),
                                t(f"notices.channel.{r['channel']}"))
        return f"{state} · {case} · {kind} · {channel} · {r['recipient']}"

    chosen = st.selectbox(t("outbox.pick"), list(rows), index=None, key="outbox_pick", format_func=label)
    if chosen is not None:
        picked = rows[chosen]
        st.caption(t("outbox.content"))
        st.text("\n\n".join(p for p in (picked["subject"], picked["body"]) if p))
        st.text(f"{t('outbox.col.key')}: {picked['key']}\n{t('outbox.col.error')}: {error_text(picked['last_error'])}")
        with st.form(f"outbox_act_{chosen}", enter_to_submit=False):
            comment = st.text_input(t("outbox.comment"), key=f"outbox_comment_{chosen}", max_chars=500)
            first, second = st.columns(2)
            confirm = first.form_submit_button(t("outbox.confirm_sent"), disabled=picked["state"] != "unconfirmed")
            resend = second.form_submit_button(t("outbox.resend"), type="primary")
        if confirm:
            act(lambda: notices_office.confirm_sent(uow(), actor=actor, notice_id=chosen, now=now(), comment=comment),
                notice=t("outbox.confirmed"), form="outbox_act")
        if resend:
            act(lambda: notices_office.resend_notice(uow(), actor=actor, notice_id=chosen, now=now(), comment=comment),
                notice=t("outbox.resent"), form="outbox_act")
