"""Pushed early warnings (预警, 004 ch.9): a breached threshold becomes a `WarningAlert` once per month and
indicator, a to-do on the home page of the GM office and managers and an e-mail to each of them through the
notices outbox; someone records the response (who, what action, when) and the warning shows as answered.

`raise_warnings` runs in the reminder sweep (`reminders.issue_reminders`); it reads the month's warnings as
the statistics page computes them (`statistics.month_warnings`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.domain.errors import Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.notices import NoticeKind
from portal.domain.roles import Role
from portal.domain.statistics import indicator_text
from portal.domain.validation import text_field
from portal.i18n import translate
from portal.persistence.database import UnitOfWork
from portal.persistence.models import User, UserRole, WarningAlert
from portal.services import statistics, stats_rollup
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.notices_outbox import enqueue

RESPONDERS = (Role.GM_OFFICE, Role.MANAGER)
RECIPIENT_ROLES = tuple(r.value for r in RESPONDERS)
PAGE = 50          # the newest alerts a list shows


def _recipients(session) -> list[str]:  # noqa: ANN001
    """The e-mail addresses of every active GM-office and manager user that has one, each once."""
    return sorted(set(session.scalars(
        select(User.email).join(UserRole, UserRole.user_id == User.id)
        .where(User.active, UserRole.role_key.in_(RECIPIENT_ROLES), func.trim(User.email) != ""))))


def raise_warnings(uow: UnitOfWork, *, now: datetime) -> list[int]:
    """Raise this month's breached warnings not raised yet: one alert per (period, indicator), an e-mail to
    each GM-office and manager user with an address, one audit event each. Returns the new alerts' ids.
    A warning that clears and breaches again in the same month is not raised twice."""
    with uow.write() as session:
        stats_rollup.refresh(session)
        warnings = statistics.month_warnings(session, now)
        if not warnings:
            return []
        raised = set(session.execute(select(WarningAlert.period, WarningAlert.indicator).where(
            WarningAlert.period.in_({w["period"] for w in warnings}))).all())
        recipients = _recipients(session)
        out = []
        for warning in warnings:
            if (warning["period"], warning["indicator"]) in raised:
                continue
            alert = WarningAlert(period=warning["period"], indicator=warning["indicator"], value=warning["value"],
                                 threshold=warning["threshold"], raised_at=now, response="")
            session.add(alert)
            session.flush()
            label = f"stats.rate.{warning['indicator']}"       # the staff read either language: both named
            values = {"warning_indicator": f"{translate(label, 'zh')} / {translate(label, 'en')}",
                      "warning_value": indicator_text(warning["indicator"], warning["value"]),
                      "warning_threshold": indicator_text(warning["indicator"], warning["threshold"]),
                      "warning_period": warning["period"]}
            for address in recipients:
                enqueue(session, kind=NoticeKind.WARNING, channel="email", recipient=address, now=now, values=values)
            record_event(session, actor=None, at=now, action="warning.raise",
                         changes={"alert": alert.id, "period": alert.period, "indicator": alert.indicator,
                                  "value": alert.value, "threshold": alert.threshold, "notified": len(recipients)})
            out.append(alert.id)
        return out


def respond_to_warning(uow: UnitOfWork, *, actor: Actor, alert_id: int, response: str, now: datetime) -> None:
    """The GM office or a manager records what is done about a warning (required); it then shows as answered.
    An answered warning keeps its first answer."""
    if not actor.has(*RESPONDERS):
        raise PermissionDenied("auth.missing_role")
    errors: dict[str, Message] = {}
    text = text_field(errors, "response", response, limit=2000)
    if errors:
        raise ValidationFailed(errors)
    with uow.write() as session:
        user = fresh_actor(session, actor, *RESPONDERS)
        alert = session.get(WarningAlert, alert_id, with_for_update=True)
        if alert is None:
            raise NotFound("insight.warning.not_found")
        if alert.responded_at is not None:
            raise ValidationFailed({"response": Message("insight.warning.already_answered")})
        alert.response, alert.responded_by_id, alert.responded_at = text, user.id, now
        record_event(session, actor=user, at=now, action="warning.respond",
                     changes={"alert": alert.id, "period": alert.period, "indicator": alert.indicator,
                              "response": text})


@dataclass(frozen=True)
class AlertView:
    id: int
    period: str
    indicator: str
    value: float
    threshold: float
    raised_at: datetime
    response: str
    responded_by: str | None
    responded_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.responded_at is not None


def alerts(uow: UnitOfWork, *, actor: Actor, open_only: bool = False, limit: int = PAGE) -> list[AlertView]:
    """The raised warnings, unanswered first, newest first (at most `limit`)."""
    if not actor.has(*statistics.READERS):
        raise PermissionDenied("auth.missing_role")
    responder = aliased(User)
    query = (select(WarningAlert, responder.display_name).outerjoin(responder, responder.id == WarningAlert.responded_by_id)
             .order_by(WarningAlert.responded_at.is_not(None), WarningAlert.raised_at.desc(), WarningAlert.id.desc())
             .limit(limit))
    if open_only:
        query = query.where(WarningAlert.responded_at.is_(None))
    with uow.read() as session:
        return [AlertView(a.id, a.period, a.indicator, a.value, a.threshold, a.raised_at, a.response, name,
                          a.responded_at) for a, name in session.execute(query)]


def open_count(uow: UnitOfWork, *, actor: Actor) -> int:
    """Unanswered warnings: the home page's to-do of the GM office and managers (0 for anyone else)."""
    if not actor.has(*RESPONDERS):
        return 0
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(WarningAlert)
                                  .where(WarningAlert.responded_at.is_(None))) or 0)
