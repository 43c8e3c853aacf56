"""Typed SQLAlchemy 2.x models. Times are naive Beijing local time (UTC+8, no DST)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, Numeric, String, Text, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    investigates: Mapped[bool] = mapped_column(Boolean, default=False)  # may be routed a case
    # its analysis goes to its lead for 批示 before the GM office consolidates (技术部, 002 art.13.3)
    lead_instructs: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class RoleRow(Base):
    __tablename__ = "roles"
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    approval_level: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # the `sub` of the company account (single sign-on); without it a sign-on is matched by `email`
    sso_subject: Mapped[str | None] = mapped_column(String(255), index=True, unique=True)
    department: Mapped[Department | None] = relationship(lazy="joined")
    role_links: Mapped[list["UserRole"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_keys(self) -> list[str]:
        return sorted(link.role_key for link in self.role_links)


class LoginSession(Base):
    """A login: its cookie holds a random token whose hash is kept here. Logging out, disabling
    the user or resetting their password revokes it, so the cookie is refused in every process."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_user", "user_id", "revoked_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))
    # a session opened by single sign-on: the provider's sign-in it came from (issuer, subject, issued at), used once
    sso_key: Mapped[str | None] = mapped_column(String(300), index=True, unique=True)


class LoginFailure(Base):
    """A failed login, by the user name typed (known or not) and the address it came from."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username", "username", "at"),
                      Index("ix_login_failures_address", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("roles.key"), primary_key=True)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    # department codes the acceptance form proposes for this category (its default routing)
    default_departments: Mapped[list | None] = mapped_column(JSON, default=list)


class Channel(Base):
    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class SlaClock(Base):
    """A deadline clock (SPEC §4): its name and nature; what starts and stops it, its unit and target
    are its versions (`SlaClockVersion`)."""

    __tablename__ = "sla_clocks"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    pausable: Mapped[bool] = mapped_column(Boolean, default=False)  # stops while waiting for the customer
    regulatory: Mapped[bool] = mapped_column(Boolean, default=False)  # extensions, appraisal/mediation pauses


class SlaClockVersion(Base):
    """One version of a clock's rule: it applies to the cases received from `effective_from` until
    the next version's (`effective_until`, kept so that SQL can pick a case's version by its
    received time). A change is a new version from now or a later date; a version in force is never
    edited, so a running case keeps the deadlines it was received under."""

    __tablename__ = "sla_clock_versions"
    __table_args__ = (UniqueConstraint("clock_key", "effective_from", name="uq_sla_clock_versions_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clock_key: Mapped[str] = mapped_column(ForeignKey("sla_clocks.key"))
    effective_from: Mapped[datetime] = mapped_column(DateTime)
    effective_until: Mapped[datetime | None] = mapped_column(DateTime)
    unit: Mapped[str] = mapped_column(String(20))
    target: Mapped[int] = mapped_column(Integer)
    start_milestone: Mapped[str] = mapped_column(String(40))
    stop_milestone: Mapped[str] = mapped_column(String(40))
    due_soon_percent: Mapped[int | None] = mapped_column(Integer)   # None: the portal's 临期 threshold
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(80))


class AuthorityLevel(Base):
    """核决权限 (002 art.13.3/13.5): who may approve up to which amount, and major cases."""

    __tablename__ = "authority_levels"
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)
    max_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))   # None: no upper limit
    covers_major: Mapped[bool] = mapped_column(Boolean, default=False)


class PenaltyStandard(Base):
    """罚扣判定基准 (002 art.13.6): responsibility level → department loss and individual penalty."""

    __tablename__ = "penalty_standards"
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40))
    department_loss: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    penalty_type: Mapped[str] = mapped_column(String(20))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Setting(Base):
    """A single business rule value (badge threshold, major-case amount, attachment limits…)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(200), default="")


class MaskingRule(Base):
    """One row of the masking table (issue 16): for an audience (a role, or `export`), how each field of
    personal data is shown: `shown`, `own_department` (on the cases of the user's own department) or
    `masked` (`portal/domain/privacy.py`)."""

    __tablename__ = "masking_rules"
    audience: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(20))
    policy_number: Mapped[str] = mapped_column(String(20))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDayRow(Base):
    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(20))  # "package" or "admin"


class NumberCounter(Base):
    """Last serial handed out per numbering period (YYMM for complaints; a request kind's prefix + YYMM for
    the service desk); locked by the accepting or registering transaction."""

    __tablename__ = "number_counters"
    period: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class Complaint(Base):
    """One 客户抱怨处理表. Milestone columns are written by the same transaction as their event."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_state", "state"),
        Index("ix_complaints_submission_token", "submission_token", unique=True),   # one case per form sent
        Index("ix_complaints_received", "received_at", "id"),
        Index("ix_complaints_received_facts", "received_at", "category_id", "channel_id", "severity", "original_id"),
        Index("ix_complaints_accepted", "accepted_at"),
        Index("ix_complaints_closed_facts", "closed_at", "category_id", "channel_id", "severity",
              "responsibility_department_id", "received_at", "closed_late"),
        Index("ix_complaints_ageing", "state", "received_at", "next_due_at", "next_soon_at", "held_clock"),
        Index("ix_complaints_state_closed", "state", "closed_at"),      # 运营部's quality-check queue
        Index("ix_complaints_archive_queue", "state", "archive_blocked", "closed_at", "id"),   # 总经理室 › 归档
        Index("ix_complaints_follow_up_due", "follow_up_due", "queue_rank", "next_due_at", "received_at", "id"),
        Index("ix_complaints_remedy_due", "remedy_due", "queue_rank", "next_due_at", "received_at", "id"),
        Index("ix_complaints_clerk", "receiving_clerk_id", "received_at"),
        Index("ix_complaints_original", "original_id"),
        # 总经理室 › 回访跟进: the cases with a follow-up task, in queue order, from the index alone (issue 19: at a million
        # cases the queue order index walked every closed case to find none); partial, so it holds those few cases
        # and no other queue's plan can take it
        Index("ix_complaints_follow_up", "state", "queue_rank", "next_due_at", "received_at", "id",
              sqlite_where=text("follow_up_task IS 1"), postgresql_where=text("follow_up_task IS TRUE")),
        Index("ix_complaints_phone_created", "customer_phone", "created_at"),
        Index("ix_complaints_policy_created", "policy_number", "created_at"),
        Index("ix_complaints_id_number_created", "customer_id_number", "created_at"),
        Index("ix_complaints_closed_causes", "closed_at", "cause_code"),                  # issue 18: causes
        Index("ix_complaints_stuck", "stuck_decision"),
        # queue order (issue 15 §4): 重大, urgency, earliest running due time, oldest — per state, per clerk
        Index("ix_complaints_queue", "state", "queue_rank", "next_due_at", "received_at", "id"),
        Index("ix_complaints_clerk_queue", "receiving_clerk_id", "queue_rank", "next_due_at", "received_at", "id"),
        Index("ix_complaints_overdue", "next_due_at", "received_at", "id"),     # the ledger's 超时 filter
        Index("ix_complaints_contact_due", "contact_due_at"),     # 待联系客户: one range against now
        # 行政处理 not yet concluded: the few cases with a penalty whose outcome is not recorded
        Index("ix_complaints_penalty_open", "penalty_type",
              sqlite_where=text("penalty_type <> '' AND sanction_outcome_at IS NULL"),
              postgresql_where=text("penalty_type <> '' AND sanction_outcome_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(12), unique=True)
    # The registration form's own token: the same form sent twice (a double click, a retried request)
    # registers one case.
    submission_token: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # customer (complainant profile, 001 §1)
    customer_name: Mapped[str] = mapped_column(String(50))
    customer_gender: Mapped[str] = mapped_column(String(12))
    customer_age_band: Mapped[str] = mapped_column(String(12))
    customer_occupation: Mapped[str] = mapped_column(String(50), default="")
    customer_phone: Mapped[str] = mapped_column(String(11))
    customer_id_number: Mapped[str] = mapped_column(String(18), default="")
    customer_address: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(100), default="")
    # policy
    policy_number: Mapped[str] = mapped_column(String(40))
    product: Mapped[str] = mapped_column(String(60))
    insured_name: Mapped[str] = mapped_column(String(50), default="")
    claim_report_number: Mapped[str] = mapped_column(String(40), default="")
    # complaint
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    description: Mapped[str] = mapped_column(Text)
    product_involved: Mapped[str] = mapped_column(String(200), default="")
    expected_resolution: Mapped[str] = mapped_column(Text)
    clerk_opinion: Mapped[str] = mapped_column(Text, default="")        # 签注意见 (002 art.13.1)
    complained_staff_other: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(12))
    urgency: Mapped[str] = mapped_column(String(12))
    flag_media: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_regulator: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_deaths: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # 2+ deaths in one accident
    flag_association: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # 同业公会
    amount_at_stake: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    joint_complainants: Mapped[int] = mapped_column(Integer, default=1)
    receiving_clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    original_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_since: Mapped[datetime | None] = mapped_column(DateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)    # finished holds, in total
    # consolidation, approval, negotiation, closure (002 art.13.3–13.6)
    consolidated_opinion: Mapped[str] = mapped_column(Text, default="")
    proposed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    required_level: Mapped[str | None] = mapped_column(String(20))
    approval_instructions: Mapped[str] = mapped_column(Text, default="")
    amount_limit: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    negotiation_result: Mapped[str | None] = mapped_column(String(20))
    negotiation_note: Mapped[str] = mapped_column(Text, default="")
    negotiated_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    responsibility_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    responsibility_level: Mapped[str | None] = mapped_column(String(20))
    department_loss: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    penalty_type: Mapped[str | None] = mapped_column(String(20))
    penalty_persons: Mapped[str] = mapped_column(String(200), default="")
    closure_note: Mapped[str] = mapped_column(Text, default="")
    gm_report: Mapped[str] = mapped_column(Text, default="")      # the investigation report to the GM office
    # the general manager's 批示 on that report (002 art.13.2)
    gm_instruction: Mapped[str] = mapped_column(Text, default="")
    gm_instructed_at: Mapped[datetime | None] = mapped_column(DateTime)
    gm_instructed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the final 核决 (002 art.13.5-13.7): the level the agreed amount and severity need, who signed, when
    final_required_level: Mapped[str | None] = mapped_column(String(20))
    final_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    final_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    final_comment: Mapped[str] = mapped_column(Text, default="")
    # an administrative sanction referred under the 行政处理原则 (002 art.13.6)
    sanction_referred_to: Mapped[str] = mapped_column(String(200), default="")
    sanction_referred_at: Mapped[datetime | None] = mapped_column(DateTime)
    sanction_outcome: Mapped[str] = mapped_column(Text, default="")
    sanction_outcome_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 无可处理人: the decision the case waits for that no active user may take (four eyes, recusal,
    # nobody holding the duty), and why; kept by every step and every change of users' duties
    stuck_decision: Mapped[str | None] = mapped_column(String(30))
    stuck_reason: Mapped[str | None] = mapped_column(String(30))
    penalty_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    penalty_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    follow_up_task: Mapped[bool] = mapped_column(Boolean, default=False)
    other_company: Mapped[str] = mapped_column(String(200), default="")   # 002 art.13.13
    # the regulatory decision (CBIRC order 2020 No. 3, art. 18–23)
    decision_checked: Mapped[str] = mapped_column(Text, default="")
    decision_basis: Mapped[str] = mapped_column(Text, default="")
    decision_remedies: Mapped[str] = mapped_column(String(100), default="")   # comma-separated
    decision_told_via: Mapped[str | None] = mapped_column(String(20))
    decision_proof: Mapped[str] = mapped_column(String(200), default="")
    regulatory_extension_days: Mapped[int] = mapped_column(Integer, default=0)
    outside_process: Mapped[str | None] = mapped_column(String(20))     # appraisal / mediation running
    outside_since: Mapped[datetime | None] = mapped_column(DateTime)
    outside_seconds: Mapped[int] = mapped_column(Integer, default=0)
    review_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    review_decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    review_decision: Mapped[str] = mapped_column(Text, default="")
    # milestones (clock starts and stops)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    initial_plan_at: Mapped[datetime | None] = mapped_column(DateTime)
    investigation_done_at: Mapped[datetime | None] = mapped_column(DateTime)
    reported_to_gm_at: Mapped[datetime | None] = mapped_column(DateTime)
    negotiation_returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    consolidated_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Whether the closure clock (结案) was met: kept with its stored clock by `services.dues`, so
    # "closed on time" is read from one index.
    closed_late: Mapped[bool | None] = mapped_column(Boolean)
    # The case's place in every queue (`portal.domain.priority`), kept with its stored clocks by
    # `services.dues`: the earliest due time of its running, unheld clocks, and its rank.
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    queue_rank: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # when the case's worst badge turns due soon (the earliest 黄牌 time of its running, unheld clocks) and whether
    # one of its running clocks is held: with `next_due_at`, the statistics' ageing reads its badge from the case
    next_soon_at: Mapped[datetime | None] = mapped_column(DateTime)
    held_clock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # From when the case asks for a contact with the customer (待联系客户), NULL for none: kept with
    # its stored clocks and contacts by `services.contact_due`.
    contact_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    major_flagged_at: Mapped[datetime | None] = mapped_column(DateTime)
    major_reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_told_at: Mapped[datetime | None] = mapped_column(DateTime)
    # customer contact (SPEC §11): how the customer wants to be told, whether they take notices that
    # are not required, and the moments the required contacts were made (contact clocks)
    preferred_contact: Mapped[str] = mapped_column(String(20), default="phone")
    optional_notices: Mapped[bool] = mapped_column(Boolean, default=True)
    customer_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    closure_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # closing the loop (issue 18): the cause chosen at closure, the remedy agreed with the customer as
    # carried out (004 §5.1.5), the case summary (总结, 001) written at archive
    cause_code: Mapped[str | None] = mapped_column(String(40))
    remedy_done_at: Mapped[datetime | None] = mapped_column(DateTime)
    remedy_paid_on: Mapped[date | None] = mapped_column(Date)
    remedy_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    remedy_reference: Mapped[str] = mapped_column(String(100), default="")
    remedy_note: Mapped[str] = mapped_column(Text, default="")
    remedy_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary_lessons: Mapped[str] = mapped_column(Text, default="")
    summary_cause_code: Mapped[str | None] = mapped_column(String(40))
    summary_rectification: Mapped[bool | None] = mapped_column(Boolean)
    summary_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # what `domain.closing.archive_blockers` says of the case (blocked unless closed with nothing before its
    # archive), kept by the session hook (`services.archive_readiness`): the archive tab reads an index
    archive_blocked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # the same hook keeps 市场部's two queues after closure: waiting for a follow-up; an agreed payment not made
    follow_up_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    remedy_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    departments: Mapped[list["ComplaintDepartment"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ComplaintDepartment.department_id")
    staff_links: Mapped[list["ComplainedStaff"]] = relationship(cascade="all, delete-orphan",
                                                                 lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class ComplaintDepartment(Base):
    """A department a case is routed to (one investigation per department)."""

    __tablename__ = "complaint_departments"
    __table_args__ = (Index("ix_complaint_departments_department", "department_id", "complaint_id",
                            "report_submitted_at"),
                      # routed departments nobody has been assigned to yet (待指派), by routing time
                      Index("ix_complaint_departments_unassigned", "report_submitted_at", "assigned_at",
                            "routed_at"),
                      # issue 18: causes by month and department, read from the index alone
                      Index("ix_complaint_departments_causes", "report_submitted_at", "cause_code", "department_id"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    routed_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)   # when the lead first named a handler
    initial_plan_at: Mapped[datetime | None] = mapped_column(DateTime)
    report_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the investigation report (调查报告)
    initial_plan: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    cause_code: Mapped[str | None] = mapped_column(String(40))   # a sub-cause of `cause_classes`
    finding: Mapped[str | None] = mapped_column(String(20))   # company_fault / misunderstanding / …
    responsible_unit: Mapped[str] = mapped_column(String(100), default="")
    responsible_persons: Mapped[str] = mapped_column(String(200), default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    proposed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # the department lead's 批示 on the analysis (002 art.13.3), where the department's rule asks for it
    lead_instruction: Mapped[str] = mapped_column(Text, default="")
    lead_instructed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lead_instructed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department: Mapped[Department] = relationship(lazy="joined")


class ResponsibilityShare(Base):
    """One department's share of the responsibility for a closed case, in percent (002 art.13.9); the
    shares of a case add up to 100. `complaints.responsibility_department_id` keeps the largest."""

    __tablename__ = "responsibility_shares"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)
    ratio: Mapped[int] = mapped_column(Integer)


class ComplainedStaff(Base):
    """A staff member the complaint names: they may not handle, approve or negotiate it."""

    __tablename__ = "complained_staff"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class CaseAssignment(Base):
    """A named handler investigating a routed department's part of a case (指定责任人员, 000 §5),
    named by the department's lead. Reassigning replaces the rows; the audit event keeps before/after."""

    __tablename__ = "case_assignments"
    __table_args__ = (Index("ix_case_assignments_user", "user_id", "complaint_id"),)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class WorkingGroupMember(Base):
    """A member of the working group of a 重大 case (专项工作组, 000 §8), set by the GM office; one of
    them leads it."""

    __tablename__ = "working_group_members"
    __table_args__ = (Index("ix_working_group_members_user", "user_id", "complaint_id"),)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


class Event(Base):
    """An immutable audit event: who, when, from-state, to-state, comment, changed fields.

    Configuration changes are events too (complaint_id empty). Database triggers refuse
    UPDATE and DELETE on this table.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_complaint", "complaint_id", "id"), Index("ix_events_action", "action", "id"),
                      Index("ix_events_actor", "actor_id", "action", "complaint_id"),   # a person's own acts (four eyes)
                      Index("ix_events_actor_at", "actor_id", "at", "action", "complaint_id"))   # 人员考核: a period's acts
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Reminder(Base):
    """催办单 for an overdue open case, or 洽办单 for a case closed late (002 art.15): one per case,
    clock, department and kind, so issuing twice issues nothing. The GM office may also issue one by
    hand with its own text and reply deadline (no clock: `clock_key` is NULL, never a duplicate)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("complaint_id", "department_id", "clock_key", "kind"),
                      Index("ix_reminders_issued", "issued_at", "kind"),
                      Index("ix_reminders_open", "answered_at", "issued_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    clock_key: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))          # "reminder" or "late_inquiry"
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # None: the sweep
    content: Mapped[str] = mapped_column(Text, default="")        # a hand-issued item's own text
    due_at: Mapped[datetime | None] = mapped_column(DateTime)     # the missed due time, or the reply deadline
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FollowUp(Base):
    """回访 with the four-dimension satisfaction survey (004 §1.2), each 1–5, plus overall."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_visited", "visited_at", "process", "attitude", "efficiency", "result",
                            "overall", "complaint_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(Text)
    process: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[int] = mapped_column(Integer)
    efficiency: Mapped[int] = mapped_column(Integer)
    result: Mapped[int] = mapped_column(Integer)
    overall: Mapped[int] = mapped_column(Integer)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(20), default="phone", server_default="phone")  # phone / questionnaire / visit / online
    dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Petition(Base):
    """签呈: a department's written objection to a decision on the case (002 art.13.12)."""

    __tablename__ = "petitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    text: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)


class Rectification(Base):
    """整改 item (000 §7): what to fix, who owns it, by when, its status; tied to the case's cause."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_deadline", "deadline", "status"),
                      Index("ix_rectifications_owner", "owner_id", "status", "deadline"),
                      Index("ix_rectifications_effect", "effect_result", "status", "effect_due_on"),
                      Index("ix_rectifications_meeting", "meeting_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    cause: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))     # open / in_progress / done
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # issue 18: "rectification", or "corrective" (the action a failed quality check records)
    kind: Mapped[str] = mapped_column(String(20), default="rectification", server_default="rectification")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))     # the named person (NULL: before 0024)
    cause_code: Mapped[str | None] = mapped_column(String(40))               # a sub-cause of `cause_classes`
    evidence: Mapped[str] = mapped_column(Text, default="")                  # of completion
    round: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))   # 1 + times reopened
    effect_due_on: Mapped[date | None] = mapped_column(Date)    # when the GM office confirms the effect
    effect_result: Mapped[str | None] = mapped_column(String(20))           # effective / not_effective
    effect_reason: Mapped[str] = mapped_column(Text, default="")
    effect_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    effect_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_meetings.id"))
    quality_check_id: Mapped[int | None] = mapped_column(ForeignKey("quality_checks.id"))
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("rectifications.id"))   # the item it follows


class CaseClock(Base):
    """A started clock of one case with the due time its milestones, holds and the calendar give.

    Stored so that badge filters and statistics are SQL conditions; rewritten whenever the case is
    written, and for every running clock when the calendar or the clock rules change. Badges shown
    on a page are still computed at load time from the milestones.
    """

    __tablename__ = "case_clocks"
    __table_args__ = (
        Index("ix_case_clocks_stopped", "clock_key", "stopped_at", "late", "duration_s",
              sqlite_where=text("stopped_at IS NOT NULL"), postgresql_where=text("stopped_at IS NOT NULL")),
        Index("ix_case_clocks_running", "due_at", "soon_at", "held_since", "started_at", "case_closed_at",
              "case_received_at", "complaint_id", "clock_key",
              sqlite_where=text("stopped_at IS NULL"), postgresql_where=text("stopped_at IS NULL")),
        Index("ix_case_clocks_missing", "calendar_missing", "complaint_id"),
        # the running clocks of open cases only (a closed case's never-stopped clocks stay in the index above):
        # the statistics' overdue-now by clock
        # the statistics' percentiles: the durations of one clock within one hour taken, in order
        Index("ix_case_clocks_duration", "clock_key", "duration_s", "stopped_at", "late",
              sqlite_where=text("stopped_at IS NOT NULL"), postgresql_where=text("stopped_at IS NOT NULL")),
        Index("ix_case_clocks_open", "due_at", "held_since", "started_at", "clock_key", "complaint_id",
              sqlite_where=text("stopped_at IS NULL AND case_closed_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL AND case_closed_at IS NULL")),
    )
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    clock_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)      # None: calendar missing
    soon_at: Mapped[datetime | None] = mapped_column(DateTime)     # when the badge turns 临期
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    held_since: Mapped[datetime | None] = mapped_column(DateTime)  # stopped by a hold still on, since
    late: Mapped[bool | None] = mapped_column(Boolean)              # stopped after its due time
    calendar_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_s: Mapped[int | None] = mapped_column(Integer)         # stop − start, in seconds
    case_closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # the case's, so counts need no join
    case_received_at: Mapped[datetime] = mapped_column(DateTime)       # likewise, for the ageing of open cases


class StatsSnapshot(Base):
    """A compiled monthly complaint statistics table (客户投诉案件统计表, 002 art.13.9), kept as
    it was compiled: later edits of cases do not change it."""

    __tablename__ = "stats_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)      # YYYY-MM
    compiled_at: Mapped[datetime] = mapped_column(DateTime)
    compiled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class StatsRollup(Base):
    """Statistics rollup (`services.stats_rollup`): the sums of one measure over the cases of one day (grain D) or
    month (grain M, keyed by its first day) with the same dimensions; department 0 holds every case."""

    __tablename__ = "stats_rollup"
    __table_args__ = ({"sqlite_with_rowid": False},)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    severity: Mapped[str] = mapped_column(String(12), primary_key=True)
    item: Mapped[str] = mapped_column(String(60), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    a: Mapped[int] = mapped_column(BigInteger)
    b: Mapped[int] = mapped_column(BigInteger)


class StatsDirtyDay(Base):
    """A day whose rollup a committed change may have moved, until the next refresh recomputes it (one row per
    marking transaction and day: no two writers ever wait on the same row)."""

    __tablename__ = "stats_dirty_days"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)


class Notice(Base):
    """A notice to the customer in the outbox (SPEC §11): queued in the transaction of the act that
    causes it, delivered at least once by the sender. `key` is its Message-ID, the same on every
    attempt, so a resend after a crash is recognisably the same message."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))          # acknowledgement / progress / decision / …
    channel: Mapped[str] = mapped_column(String(10))       # email / sms
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)   # an SMS template's parameters
    state: Mapped[str] = mapped_column(String(20))          # queued / sending / sent / failed / unconfirmed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    transport_id: Mapped[str] = mapped_column(String(200), default="")   # the gateway's id, or the file written


class NoticeTemplate(Base):
    """通知模板: the text of one kind of notice on one channel (SPEC §11), edited in 系统配置. E-mail:
    subject and body; SMS: the text registered with the gateway, its template id and which placeholder
    fills each of its parameters; letter: the decision letter's title and body; (signature, text): the
    company's sign-off, what {company_contact} stands for. The rows are fixed (`domain.notices.SLOTS`)."""

    __tablename__ = "notice_templates"
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    gateway_template: Mapped[str] = mapped_column(String(60), default="")
    gateway_params: Mapped[str] = mapped_column(String(500), default="")


class ContactLog(Base):
    """One contact with the customer (SPEC §11): when, how, by whom, what was said or sent, the proof,
    and the step of the process it serves. A notice sent by the outbox is a contact too."""

    __tablename__ = "contact_log"
    __table_args__ = (Index("ix_contact_log_complaint", "complaint_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(20))       # phone / sms / letter / email / visit / wechat
    step: Mapped[str] = mapped_column(String(30))          # acknowledgement / progress / decision / closure / …
    content: Mapped[str] = mapped_column(Text)
    proof: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))    # None: sent by the outbox
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))


class ContactPrompt(Base):
    """A running clock of a case that turned 临期 and for which the reminder sweep asked for a progress
    contact (000 §6: tell the customer the expected completion date): one per case and clock, so the
    sweep queues its notice once however often it runs."""

    __tablename__ = "contact_prompts"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    clock_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_soon_at: Mapped[datetime] = mapped_column(DateTime)     # when the clock turned 临期
    prompted_at: Mapped[datetime] = mapped_column(DateTime)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))    # None: no notice could go


# -- the after-sales service desk (002 ch.2, SPEC §12) ------------------------------------------------


class DeskChoice(Base):
    """A configurable list of the desk: `list_key` names the list (risk, channel, claim_kind, surrender_reason,
    relation); a risk row also says whether its scene is preserved (4.(二)5)."""

    __tablename__ = "desk_choices"
    __table_args__ = (UniqueConstraint("list_key", "code", name="uq_desk_choices_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    list_key: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    keeps_scene: Mapped[bool] = mapped_column(Boolean, default=False)


class DeskMaterial(Base):
    """One item of a claim kind's materials checklist (4.(四)2); kind `basic` is asked of every claim."""

    __tablename__ = "desk_materials"
    __table_args__ = (UniqueConstraint("claim_kind", "code", name="uq_desk_materials_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class DeskClockRow(Base):
    """A clock of the desk: the hand-over to the insurer, the major-claim report, a surrender, an endorsement."""

    __tablename__ = "desk_clocks"
    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    unit: Mapped[str] = mapped_column(String(20))
    target: Mapped[int] = mapped_column(Integer)


class Product(Base):
    """A product (险种) the company sells, with its claim time limit (申请时效, None: none set)."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    claim_limit: Mapped[int | None] = mapped_column(Integer)
    claim_limit_unit: Mapped[str | None] = mapped_column(String(10))     # days / years
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Policy(Base):
    """A policy the company sold for an insurer (承保公司): it covers from 00:00 of `start_date` to 24:00
    of `end_date` the risks listed in `policy_risks`."""

    __tablename__ = "policies"
    __table_args__ = (Index("ix_policies_in_force", "end_date", "start_date"),)   # the complaint rate's count
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_number: Mapped[str] = mapped_column(String(40), unique=True)
    insurer: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sum_insured: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class PolicyRisk(Base):
    __tablename__ = "policy_risks"
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True)
    risk_code: Mapped[str] = mapped_column(String(40), primary_key=True)


class PolicyPerson(Base):
    """A person on a policy: its policyholder (投保人), an insured person (被保险人) or a beneficiary (受益人)."""

    __tablename__ = "policy_persons"
    __table_args__ = (Index("ix_policy_persons_name", "name"), Index("ix_policy_persons_id_number", "id_number"),
                      Index("ix_policy_persons_policy", "policy_id", "role"))
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))           # policyholder / insured / beneficiary
    name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(30), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")


class ServiceRequest(Base):
    """A request to the desk: a claim report (报案), a claim application (理赔申请), a surrender (退保) or an
    endorsement (批改). One row per request; the kind says which groups of columns it fills. Its one running
    clock (the major-claim report of a report, the hand-over of an application, the whole of a surrender or
    endorsement) is stored with its due and due-soon instants, so a badge is a SQL condition."""

    __tablename__ = "service_requests"
    __table_args__ = (Index("ix_service_requests_kind_state", "kind", "state", "received_at"),
                      Index("ix_service_requests_policy", "policy_id", "received_at"),
                      Index("ix_service_requests_clock", "clock_key", "clock_due_at"),
                      Index("ix_service_requests_received", "received_at"),
                      # the running clocks alone: overdue / due-soon filters and the desk's queue stay small
                      Index("ix_service_requests_running", "clock_key", "clock_due_at",
                            sqlite_where=text("clock_stopped_at IS NULL"),
                            postgresql_where=text("clock_stopped_at IS NULL")),
                      # the statistics page: requests by month and kind read from the index alone; hand-overs
                      # and refusals of a period are index ranges
                      Index("ix_service_requests_month_kind", "received_at", "kind"),
                      # (issue 19, a year at a million) the hand-overs on time / late and the surrenders by reason
                      # of a period, from the index alone
                      Index("ix_service_requests_handed", "handed_over_at", "kind", "clock_late"),
                      Index("ix_service_requests_kind_reason", "kind", "received_at", "reason_code"),
                      # the refused reports of a period with their reasons (on PostgreSQL the reasons carried in the
                      # index: a year's refusals were 10,000 scattered rows, 200 ms at a million requests)
                      Index("ix_service_requests_refused", "refused_at", "kind", "state",
                            postgresql_include=["check_failures"]))
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    policy_number: Mapped[str] = mapped_column(String(40), default="")     # as the caller gave it
    insured_name: Mapped[str] = mapped_column(String(60), default="")
    channel: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))   # an application's report
    # the event (报案)
    event_at: Mapped[datetime | None] = mapped_column(DateTime)
    event_place: Mapped[str] = mapped_column(String(200), default="")
    cause_code: Mapped[str] = mapped_column(String(40), default="")
    event_description: Mapped[str] = mapped_column(Text, default="")
    injury: Mapped[str] = mapped_column(String(200), default="")
    measures_taken: Mapped[str] = mapped_column(String(200), default="")
    present_condition: Mapped[str] = mapped_column(String(200), default="")
    hospital: Mapped[str] = mapped_column(String(100), default="")
    # the reporter, applicant or requester
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_address: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    contact_relation: Mapped[str] = mapped_column(String(40), default="")
    contact_id_number: Mapped[str] = mapped_column(String(30), default="")
    insurer_report_number: Mapped[str] = mapped_column(String(40), default="")     # the insurer's 报案号
    # the preliminary check (4.(二)4) and its outcome
    check_failures: Mapped[list | None] = mapped_column(JSON, default=list)
    check_override: Mapped[str] = mapped_column(Text, default="")
    refused_at: Mapped[datetime | None] = mapped_column(DateTime)
    copies_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    originals_returned: Mapped[bool] = mapped_column(Boolean, default=False)
    # scene preservation (4.(二)5)
    scene_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    scene_told_at: Mapped[datetime | None] = mapped_column(DateTime)
    survey_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the major claim (4.(二)6, 4.(三))
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    estimated_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    outcome_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    disputes: Mapped[list | None] = mapped_column(JSON, default=list)
    litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    major_reasons: Mapped[list | None] = mapped_column(JSON, default=list)
    major_reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    key_survey_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the application (4.(四)) and its hand-over (4.(五))
    right_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    claim_kinds: Mapped[list | None] = mapped_column(JSON, default=list)
    materials_received: Mapped[list | None] = mapped_column(JSON, default=list)
    complete_at: Mapped[datetime | None] = mapped_column(DateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime)
    handover_insurer: Mapped[str] = mapped_column(String(100), default="")
    handover_items: Mapped[list | None] = mapped_column(JSON, default=list)
    handover_receipt: Mapped[str] = mapped_column(String(200), default="")
    insurer_decision: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # a surrender (art.5) or an endorsement (art.6)
    reason_code: Mapped[str] = mapped_column(String(40), default="")
    reason_text: Mapped[str] = mapped_column(Text, default="")
    change_requested: Mapped[str] = mapped_column(Text, default="")
    guidance: Mapped[str] = mapped_column(Text, default="")
    insurer_address: Mapped[str] = mapped_column(String(200), default="")
    guided_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the running clock
    clock_key: Mapped[str | None] = mapped_column(String(30))
    clock_unit: Mapped[str | None] = mapped_column(String(20))          # the rule it started with (0022):
    clock_target: Mapped[int | None] = mapped_column(Integer)           # a later change never rewrites it
    clock_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_soon_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_stopped_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_late: Mapped[bool | None] = mapped_column(Boolean)
    clock_calendar_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    __mapper_args__ = {"version_id_col": version}


class RequestEvent(Base):
    """The history of a request: who did what, when, from which state to which (append-only, like `events`)."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request", "request_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RequestContact(Base):
    """A contact with the caller about a request (e.g. "your report is in hand, at this step")."""

    __tablename__ = "request_contacts"
    __table_args__ = (Index("ix_request_contacts_request", "request_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))


class RequestReminder(Base):
    """催办单 for a request of the desk whose clock ran out (like the complaint clocks, 002 art.15): one per
    request and clock, issued by the sweep to the department that owns the step (运营部 for the hand-over,
    市场部 for the major-claim report, a surrender or an endorsement)."""

    __tablename__ = "request_reminders"
    __table_args__ = (UniqueConstraint("request_id", "clock_key", name="uq_request_reminders_clock"),
                      Index("ix_request_reminders_issued", "issued_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    clock_key: Mapped[str] = mapped_column(String(30))
    department_code: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)


# -- closing the loop (issue 18) --

class CauseClass(Base):
    """原因分类: a two-level taxonomy (人员 / 流程 / 产品 / 系统 / 外部 and their sub-causes, `parent.sub`)."""

    __tablename__ = "cause_classes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(40))     # NULL: a top-level class
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintMeeting(Base):
    """客户投诉立会 (002 art.11.3(3)): when, who attended, the cases discussed, what was decided."""

    __tablename__ = "complaint_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    attendees: Mapped[str] = mapped_column(Text)
    decisions: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class MeetingCase(Base):
    __tablename__ = "meeting_cases"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meetings.id"), primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True, index=True)


class QualityChecklistItem(Base):
    """One point of 运营部's quality check (客户投诉质量的检验确认, 002 art.11.2(3)), configurable."""

    __tablename__ = "quality_checklist"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    text_zh: Mapped[str] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class QualityCheck(Base):
    """运营部's check of a closed case's handling before archive; a failed one records a corrective action."""

    __tablename__ = "quality_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)      # checklist code → met
    note: Mapped[str] = mapped_column(Text, default="")


class FollowUpSchedule(Base):
    """A follow-up to make by a date (e.g. a second visit after a dissatisfied one); done by `follow_up_id`."""

    __tablename__ = "follow_up_schedules"
    __table_args__ = (Index("ix_follow_up_schedules_due", "follow_up_id", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))


class FollowUpAction(Base):
    """A dissatisfied follow-up sent to a responsible department to act on, and what it did."""

    __tablename__ = "follow_up_actions"
    __table_args__ = (UniqueConstraint("follow_up_id", "department_id"),
                      Index("ix_follow_up_actions_open", "department_id", "acted_at", "sent_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(Text, default="")
    acted_at: Mapped[datetime | None] = mapped_column(DateTime)
    acted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MonthConfirmation(Base):
    """The monthly review (002 art.13.9): a department head confirms the responsibility and ratios of a
    month that fall on their department (`complaint_id` NULL), or disputes one case; the GM office resolves."""

    __tablename__ = "month_confirmations"
    __table_args__ = (Index("ix_month_confirmations_period", "period", "department_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    status: Mapped[str] = mapped_column(String(20))          # confirmed / disputed / resolved
    reason: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)


class PoliciesInForce(Base):
    """保单件数: the policies in force in a month, entered where no policy register is kept (the
    complaint rate per 10,000 policies is read from the register when it holds policies)."""

    __tablename__ = "policies_in_force"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class WarningAlert(Base):
    """A breached early-warning threshold (004 ch.9), raised once per month and indicator, pushed to
    the GM office and managers, and answered (who, what action, when)."""

    __tablename__ = "warning_alerts"
    __table_args__ = (UniqueConstraint("period", "indicator"),
                      Index("ix_warning_alerts_open", "responded_at", "raised_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    indicator: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    response: Mapped[str] = mapped_column(Text, default="")
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
