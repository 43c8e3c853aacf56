"""What surrounds a decision: a department's petition against it (签呈, 002 art.13.12), another
company's responsibility (002 art.13.13); rectification items (整改) live in `portal.services.rectification` and
are re-exported here under their older names."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.domain import lifecycle
from portal.domain.errors import Message, NotFound, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, Department, Petition
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.domain.validation import text_field
from portal.services.handling import _event, _text
from portal.services.steps import case_step
from portal.services.assignment import in_working_group


def file_petition(uow: UnitOfWork, *, actor: Actor, complaint_id: int, text: str, now: datetime) -> int:
    """签呈 (002 art.13.12): a department involved in the case objects to a decision on it, at any stage
    after acceptance. Involved: a department the case is routed to, 市场部 (it registers every case and
    negotiates with the customer: its intake staff), and the departments of the case's working group."""
    errors: dict[str, Message] = {}
    text = _text(errors, "petition", text)
    with case_step(uow, actor, complaint_id, Action.FILE_PETITION, None, appends=True) as (session, user, complaint, source):
        routed = any(r.department_id == user.department_id for r in complaint.departments)
        intake = bool({Role.INTAKE.value, Role.INTAKE_LEAD.value} & set(user.role_keys))
        if user.department_id is None or not (routed or intake or in_working_group(session, complaint.id, user.id)):
            raise TransitionNotAllowed("petition.not_involved")
        if errors:
            raise ValidationFailed(errors)
        petition = Petition(complaint_id=complaint.id, department_id=user.department_id, text=text,
                            filed_at=now, filed_by_id=user.id, answer="")
        session.add(petition)
        session.flush()
        _event(session, user, complaint, Action.FILE_PETITION, source, now, text,
               {"department": user.department.code})
        return petition.id


def answer_petition(uow: UnitOfWork, *, actor: Actor, petition_id: int, answer: str, now: datetime) -> None:
    errors: dict[str, Message] = {}
    answer = _text(errors, "answer", answer)
    with uow.write() as session:
        user = fresh_actor(session, actor)
        petition = session.get(Petition, petition_id, with_for_update=True)
        if petition is None:
            raise NotFound("case.not_found")
        complaint = session.get(Complaint, petition.complaint_id)
        source = State(complaint.state)
        lifecycle.authorize(Action.ANSWER_PETITION, source, actor.roles)
        if petition.answered_at is not None:
            raise TransitionNotAllowed("petition.answered")
        if errors:
            raise ValidationFailed(errors)
        petition.answer, petition.answered_at = answer, now
        record_event(session, actor=user, at=now, action=Action.ANSWER_PETITION.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=source.value, comment=answer)


def mark_other_company(uow: UnitOfWork, *, actor: Actor, complaint_id: int, company: str,
                       expected_version: int, now: datetime) -> None:
    """The complaint involves another company's responsibility; the GM office coordinates."""
    errors: dict[str, Message] = {}
    company = text_field(errors, "other_company", company, limit=200, multiline=False)
    with case_step(uow, actor, complaint_id, Action.MARK_OTHER_COMPANY, expected_version) as (session, user, complaint, source):
        if errors:
            raise ValidationFailed(errors)
        complaint.other_company = company
        _event(session, user, complaint, Action.MARK_OTHER_COMPANY, source, now, company)


# Rectification items live in `portal.services.rectification` (issue 18); the old names stay importable here.
from portal.services.rectification import (RECTIFICATION_STATUSES, RectificationView, add_rectification,  # noqa: E402,F401
                                           complete_rectification, confirm_effect, count_rectifications,
                                           list_rectifications, set_rectification_status)


@dataclass(frozen=True)
class PetitionView:
    id: int
    department: str
    text: str
    filed_at: datetime
    answer: str


def list_petitions(uow: UnitOfWork, *, complaint_id: int) -> list[PetitionView]:
    with uow.read() as session:
        return [PetitionView(p.id, code, p.text, p.filed_at, p.answer) for p, code in session.execute(
            select(Petition, Department.code).join(Department, Department.id == Petition.department_id)
            .where(Petition.complaint_id == complaint_id).order_by(Petition.id))]
