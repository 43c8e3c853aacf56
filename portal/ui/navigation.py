"""Which page each role may open (SPEC §1). The entry script and every page consult this table."""
from __future__ import annotations

from dataclasses import dataclass

from portal.config import ROOT
from portal.domain.roles import Role

R = Role


@dataclass(frozen=True)
class PageSpec:
    key: str            # also the URL path
    script: str         # relative to the repository root
    title_key: str
    icon: str
    roles: frozenset[Role]

    @property
    def path(self) -> str:
        return str(ROOT / self.script)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("register", "pages/intake_register.py", "nav.register", "📝",
             frozenset({R.INTAKE, R.INTAKE_LEAD})),
    # 我的案件: what a clerk registered, what a handler is assigned, the working groups one sits on
    PageSpec("my_complaints", "pages/my_complaints.py", "nav.my_complaints", "📋",
             frozenset({R.INTAKE, R.INTAKE_LEAD, R.HANDLER, R.GM_OFFICE, R.APPROVER})),
    PageSpec("gm_office", "pages/gm_office.py", "nav.gm_office", "🏢", frozenset({R.GM_OFFICE})),
    PageSpec("outbox", "pages/outbox.py", "nav.outbox", "📮", frozenset({R.GM_OFFICE})),
    PageSpec("department", "pages/department.py", "nav.department", "🔧", frozenset({R.HANDLER})),
    PageSpec("approval", "pages/approval.py", "nav.approval", "✍️", frozenset({R.APPROVER})),
    PageSpec("negotiation", "pages/negotiation.py", "nav.negotiation", "🤝",
             frozenset({R.INTAKE, R.INTAKE_LEAD})),
    PageSpec("ledger", "pages/ledger.py", "nav.ledger", "📒", frozenset({R.GM_OFFICE, R.MANAGER, R.ADMIN})),
    PageSpec("statistics", "pages/statistics.py", "nav.statistics", "📊",
             frozenset({R.MANAGER, R.GM_OFFICE, R.ADMIN})),
    # 月度检查 (002 art.13.9): the month's closed cases, department heads' confirmations, disputes, 立会
    PageSpec("monthly_review", "pages/monthly_review.py", "nav.monthly_review", "🗓️",
             frozenset({R.GM_OFFICE, R.DEPT_LEAD, R.MANAGER})),
    # 人员考核 (issue 18): each member of staff their own figures; managers and the GM office everyone's
    PageSpec("appraisal", "pages/appraisal.py", "nav.appraisal", "🏅",
             frozenset({R.INTAKE, R.INTAKE_LEAD, R.HANDLER, R.GM_OFFICE, R.APPROVER, R.MANAGER, R.DEPT_LEAD})),
    PageSpec("case", "pages/case_detail.py", "nav.case", "🔎",
             frozenset({R.INTAKE, R.INTAKE_LEAD, R.GM_OFFICE, R.HANDLER, R.APPROVER, R.MANAGER})),
    PageSpec("admin_users", "pages/admin_users.py", "nav.admin_users", "👥", frozenset({R.ADMIN})),
    PageSpec("admin_calendar", "pages/admin_calendar.py", "nav.admin_calendar", "📅",
             frozenset({R.ADMIN})),
    PageSpec("admin_config", "pages/admin_config.py", "nav.admin_config", "⚙️", frozenset({R.ADMIN})),
    # 保单登记簿 (issue 17): the administrator imports and edits the register; the desk looks policies up on its pages
    PageSpec("policies", "pages/aftersales_policies.py", "nav.policies", "🗂️", frozenset({R.ADMIN})),
    # 售后受理 (issue 17): 市场部's clerks look up, register claim reports, applications, surrenders, endorsements
    PageSpec("desk", "pages/aftersales_desk.py", "nav.desk", "🛎️", frozenset({R.INTAKE, R.INTAKE_LEAD})),
    # 理赔移交 (issue 17): 运营部 hands complete applications to the insurer; the page refuses other departments
    PageSpec("handover", "pages/aftersales_handover.py", "nav.handover", "📦", frozenset({R.HANDLER, R.GM_OFFICE})),
    # 受理记录: one request of the desk with its history and printable papers
    PageSpec("request", "pages/aftersales_request.py", "nav.request", "🧾",
             frozenset({R.INTAKE, R.INTAKE_LEAD, R.HANDLER, R.GM_OFFICE, R.MANAGER})),
    # 售后登记簿: every request of the desk, filtered, with its Excel file
    PageSpec("desk_register", "pages/aftersales_register.py", "nav.desk_register", "🗃️",
             frozenset({R.INTAKE, R.INTAKE_LEAD, R.GM_OFFICE, R.MANAGER, R.ADMIN})),
    PageSpec("training", "pages/training.py", "nav.training", "🎓", frozenset({R.TRAINER})),
)
BY_KEY = {p.key: p for p in PAGES}


def allowed(spec: PageSpec, roles: frozenset[Role]) -> bool:
    return bool(spec.roles & roles)
