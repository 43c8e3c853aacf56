"""Notices in the pages: the decision letter's download button (for the negotiation page), the 通知模板
editor tab of 系统配置, where notices go (the outbox page), and the app's background sender."""
from __future__ import annotations

import logging
import os
import threading

import pandas as pd
import streamlit as st

from portal import config
from portal.adapters.notices import Transports, configured_transports
from portal.domain import notices as rules_of
from portal.domain.errors import DomainError
from portal.domain.regulatory import Decision
from portal.persistence.database import UnitOfWork
from portal.services import notices_templates
from portal.services.actors import Actor
from portal.ui.context import _unit_of_work, now, say, t, uow, wall_clock
from portal.ui.widgets import editor_basis, empty_cell, table_save

log = logging.getLogger(__name__)


def decision_letter_download(uow: UnitOfWork, actor: Actor, complaint_id: int,
                             decision: Decision | None = None) -> None:
    """A download button for the case's decision letter (printable HTML), or why there is none yet.
    `decision`: what the negotiator has typed on the form and not saved yet (else the recorded one)."""
    try:
        html = notices_templates.decision_letter(uow, actor=actor, complaint_id=complaint_id, now=now(),
                                                 decision=decision)
    except DomainError as refused:
        st.caption(say(refused.message))
        return
    st.download_button(t("notices.letter.download"), data=html.encode("utf-8"), mime="text/html",
                       file_name=f"decision-letter-{complaint_id}.html", key=f"decision_letter_{complaint_id}")
    st.caption(t("notices.letter.caption"))


# -- 系统配置 › 通知模板 --

EDITOR = "config_notice_templates"


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [{column: ("" if empty_cell(value) else value) for column, value in record.items()
             if column in notices_templates.COLUMNS} for record in frame.to_dict("records")]


def _slot_name(kind: str, channel: str) -> str:
    return f"{t(f'notices.kind.{kind}')} · {t(f'notices.channel.{channel}')}"


def template_editor(actor: Actor) -> None:
    """The templates as one fixed table: the notice and channel read-only, the texts editable; saved
    as a whole, or refused with each row, column and reason (`portal.domain.notices`)."""
    basis = editor_basis(EDITOR, lambda: notices_templates.templates_version(uow(), actor=actor))
    rows = notices_templates.load_templates(uow(), actor=actor)
    frame = pd.DataFrame(rows, columns=list(notices_templates.COLUMNS))
    frame.insert(0, "notice", [t(f"notices.kind.{k}") for k in frame["kind"]])
    frame.insert(1, "medium", [t(f"notices.channel.{c}") for c in frame["channel"]])
    st.caption(t("config.help.notice_templates"))
    edited = st.data_editor(
        frame, key=EDITOR, hide_index=True, width="stretch", num_rows="fixed",
        column_order=["notice", "medium", "subject", "body", "gateway_template", "gateway_params"],
        column_config={
            "notice": st.column_config.TextColumn(t("config.col.kind"), width=130, disabled=True),
            "medium": st.column_config.TextColumn(t("config.col.channel"), width=110, disabled=True),
            "subject": st.column_config.TextColumn(t("config.col.subject"), width=220,
                                                   max_chars=rules_of.SUBJECT_LIMIT),
            "body": st.column_config.TextColumn(t("config.col.body"), width=480),
            "gateway_template": st.column_config.TextColumn(t("config.col.gateway_template"), width=130,
                                                            max_chars=60),
            "gateway_params": st.column_config.TextColumn(t("config.col.gateway_params"), width=260, max_chars=500),
        })
    table_save(lambda: notices_templates.save_templates(uow(), actor=actor, rows=_rows(edited), now=now(),
                                                        basis=basis),
               label=t("config.save"), button_key="config_save_notice_templates",
               refusals_key="config_refusals_notice_templates", editor_key=EDITOR, notice="notice",
               saved_text=lambda n: t("config.saved", count=n) if n else t("config.unchanged"),
               row_name=lambda i: _slot_name(rows[i]["kind"], rows[i]["channel"]))
    with st.expander(t("notices.placeholders")):
        where = {name: [_slot_name(kind, channel) for kind, channel in rules_of.SLOTS
                        if name in rules_of.allowed_placeholders(kind, channel)] for name in rules_of.PLACEHOLDERS}
        st.dataframe(pd.DataFrame({
            t("notices.placeholder.col.name"): ["{" + name + "}" for name in rules_of.PLACEHOLDERS],
            t("notices.placeholder.col.meaning"): [t(f"notices.placeholder.{name}") for name in rules_of.PLACEHOLDERS],
            t("notices.placeholder.col.where"): ["、".join(where[name]) for name in rules_of.PLACEHOLDERS],
        }), hide_index=True, width="stretch")


# -- where notices go, and the background sender --

@st.cache_resource(show_spinner=False)
def _transports(url: str) -> Transports:
    return configured_transports(url)


def transports() -> Transports:
    """The transports of the real database, as configured when this process started."""
    return _transports(config.database_url())


def destinations(configured: Transports) -> None:
    """Where notices go: the kind of transport per channel in a line, the addresses (host, gateway URL,
    folder path — data, not words) a click away."""
    st.info(t("outbox.where", email=t(f"outbox.where.{configured.email.name}"),
              sms=t(f"outbox.where.{configured.sms.name}")), icon="📮")
    with st.expander(t("outbox.where.details")):
        st.code(f"{t('notices.channel.email')}: {configured.email.where()}\n"
                f"{t('notices.channel.sms')}: {configured.sms.where()}", language=None)


def _real_server() -> bool:
    """A Streamlit server, not a test harness (AppTest runs the scripts under a stand-in runtime)."""
    from streamlit.runtime import Runtime
    try:
        return type(Runtime.instance()) is Runtime
    except RuntimeError:
        return False


@st.cache_resource(show_spinner=False)
def _background_sender(url: str) -> threading.Thread | None:
    if os.environ.get("PORTAL_NOTICES_SENDER", "on").lower() in ("0", "off", "false", "no") or not _real_server():
        return None
    from portal.services.notices_outbox import run_sender
    interval = float(os.environ.get("PORTAL_NOTICES_INTERVAL", "30"))
    thread = threading.Thread(target=run_sender, name="notices-sender", daemon=True,
                              kwargs=dict(uow=_unit_of_work(url), clock=wall_clock, transport=_transports(url),
                                          interval=interval))
    thread.start()
    log.info("notices: background sender started (every %.0f s)", interval)
    return thread


def start_background_sender() -> None:
    """One daemon thread per server process sends the real database's due notices every 30 seconds
    (`PORTAL_NOTICES_INTERVAL`), on the wall clock; several processes share the work through the claim.
    `PORTAL_NOTICES_SENDER=off` leaves sending to `python -m portal notices send` alone. The trainer's
    sandbox is never sent from."""
    _background_sender(config.database_url())
