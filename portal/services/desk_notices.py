"""Notices from the after-sales desk (售后服务, 002 ch.2; issue 17) through the notices outbox: an
incomplete claim application is not accepted, and the applicant gets a notice listing exactly what is
missing (补齐理赔材料通知, 4.(四)). The notice is about the request (`Notice.request_id`, no complaint),
and is logged as a contact of the request (`RequestContact`), not as a contact step of a complaint.

The channel is SMS to the applicant's phone (`contact_phone`): a request has no e-mail address today, so
there is no e-mail notice from the desk yet (the e-mail template exists for the day it has one). No
phone: nothing is queued — the clerk tells the applicant in person, as they do at the counter anyway."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain import notices as rules_of
from portal.domain.notices import NoticeKind, TemplateChannel
from portal.persistence.models import Notice, NoticeTemplate, RequestContact, ServiceRequest, User
from portal.services.notices_outbox import enqueue


def _company_contact(session: Session) -> str:
    signature = session.get(NoticeTemplate, (rules_of.SIGNATURE, TemplateChannel.TEXT.value))
    return signature.body if signature is not None else ""


def request_values(session: Session, request: ServiceRequest, missing: list[str]) -> dict[str, str]:
    """What the placeholders of a materials notice stand for on this request: its number, the applicant,
    the day it was received, the missing items, the company's sign-off — nothing else of the request."""
    return {
        "case_reference": request.number,
        "customer_name": request.contact_name,
        "received_date": rules_of.customer_date(request.received_at),
        "company_contact": _company_contact(session),
        "missing_materials": rules_of.materials_line(missing),
    }


def queue_materials_notice(session: Session, *, request: ServiceRequest, missing: list[str], now: datetime,
                           by: User | None) -> Notice | None:
    """Queue the 补齐理赔材料通知 INSIDE the caller's transaction (the act that found the application
    incomplete), by SMS to the applicant — held until the end of quiet hours like every SMS — and log it
    as a contact of the request (its text, the notice). `missing`: the names of the missing materials as
    the customer reads them. None (nothing queued) when the applicant gave no phone. A required notice:
    sent whatever the customer chose."""
    if not rules_of.materials_line(missing):
        raise ValueError("a materials notice names at least one missing item")
    phone = (request.contact_phone or "").strip()
    if not phone:
        return None
    if request.id is None:
        session.flush()
    channel = TemplateChannel.SMS.value
    notice = enqueue(session, kind=NoticeKind.MATERIALS_MISSING, channel=channel, recipient=phone, now=now,
                     values=request_values(session, request, missing), request_id=request.id)
    session.add(RequestContact(request_id=request.id, at=now, channel=channel, content=notice.body,
                               by_id=by.id if by is not None else None, notice_id=notice.id))
    return notice
