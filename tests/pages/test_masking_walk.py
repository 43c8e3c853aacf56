"""Issue 16, done when: a walk of every page (every tab of the lazy-tab pages, every case on the case
page), every export and the printable form as every role finds no field shown that the masking table
masks. Cases carry distinctive personal data; everything each role is shown is searched for it."""
from __future__ import annotations

import io
import shutil

import pytest
from google.protobuf import text_format
from openpyxl import load_workbook
from sqlalchemy import select, update

from portal import demo
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import (Complaint, ComplaintDepartment, ContactLog, Notice, User,
                                       WorkingGroupMember)
from portal.printing.handling_form import handling_form_html
from portal.services import contacts, exports, queries, rules
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from portal.ui.navigation import PAGES, allowed
from tests.pages.conftest import app_as, page_path

# The columns of each field of the masking table, and what each test user's roles are shown by the
# seeded table (SPEC §1–§2, issue 16) — written out here, not read from the code under test.
FIELD_COLUMNS = {"name": ("customer_name", "insured_name"), "phone": ("customer_phone",),
                 "id_number": ("customer_id_number",), "address": ("customer_address",),
                 "email": ("customer_email",), "policy_number": ("policy_number",)}
ALL = frozenset(FIELD_COLUMNS)
NONE = frozenset()
WHO_AND_WHICH_POLICY = frozenset({"name", "policy_number"})
EVERYWHERE = {"clerk": ALL, "lead": ALL, "gmo": ALL, "approver": WHO_AND_WHICH_POLICY,
              "vicegm": WHO_AND_WHICH_POLICY, "genmgr": WHO_AND_WHICH_POLICY, "boss": NONE, "admin": NONE,
              "trainer": NONE, "opshandler": NONE, "techhandler": NONE, "opslead": NONE, "techlead": NONE}
ON_OWN_CASES = {**{u: EVERYWHERE[u] for u in EVERYWHERE}, "opshandler": ALL, "techhandler": ALL,
                "opslead": ALL, "techlead": ALL}
EXPORTED = WHO_AND_WHICH_POLICY            # the export row: never how to reach the customer
USERS = tuple(EVERYWHERE)
LAZY_TABS = {"gm_office": "gm_tabs", "approval": "approval_tabs", "negotiation": "negotiation_tabs",
             "department": "dept_tabs", "admin_config": "config_tabs"}


def _distinctive(i: int) -> dict[str, str]:
    return {"customer_name": f"慕容客{i:03d}", "insured_name": f"慕容保{i:03d}",
            "customer_phone": f"1990000{i:04d}", "customer_id_number": f"99000019900101{i:04d}",
            "customer_address": f"测试省脱敏市幸福路{i:03d}号", "customer_email": f"masked{i:03d}@example.net",
            "policy_number": f"PMASK{i:07d}"}


@pytest.fixture(scope="module")
def seeded_file(sqlite_template, tmp_path_factory):
    """Demo cases in every state, each given personal data found nowhere else (also in its notices and
    contact log, which repeat it): built once, copied for each test."""
    path = tmp_path_factory.mktemp("masking") / "seeded.sqlite3"
    shutil.copy(sqlite_template, path)
    unit = UnitOfWork(make_engine(f"sqlite:///{path}"))
    try:
        values = _seed(unit)
    finally:
        unit.engine.dispose()
    return path, values


@pytest.fixture
def page_db(seeded_file, tmp_path, monkeypatch):
    path = tmp_path / "portal.sqlite3"
    shutil.copy(seeded_file[0], path)
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{path}")
    unit = UnitOfWork(make_engine(f"sqlite:///{path}"))
    yield unit
    unit.engine.dispose()


@pytest.fixture
def seeded(seeded_file, page_db) -> dict[int, dict[str, str]]:
    return seeded_file[1]


def _seed(page_db) -> dict[int, dict[str, str]]:
    demo.seed(page_db, complaints_count=36, seed_value=16, now=wall_now())
    values: dict[int, dict[str, str]] = {}
    with page_db.write() as session:
        cases = session.execute(select(Complaint.id, Complaint.customer_name, Complaint.customer_phone,
                                       Complaint.customer_email, Complaint.customer_address,
                                       Complaint.policy_number).order_by(Complaint.id)).all()
        for i, (case_id, *old) in enumerate(cases, start=1):
            new = _distinctive(i)
            values[case_id] = new
            session.execute(update(Complaint).where(Complaint.id == case_id).values(**new))
            swap = dict(zip(old, (new["customer_name"], new["customer_phone"], new["customer_email"],
                                  new["customer_address"], new["policy_number"])))

            def fix(text: str) -> str:
                for before, after in swap.items():
                    if before:
                        text = text.replace(before, after)
                return text

            for notice in session.scalars(select(Notice).where(Notice.complaint_id == case_id)):
                notice.recipient, notice.subject, notice.body = fix(notice.recipient), fix(notice.subject), fix(notice.body)
            for entry in session.scalars(select(ContactLog).where(ContactLog.complaint_id == case_id)):
                entry.content, entry.proof = fix(entry.content), fix(entry.proof)
    return values


def _own_cases(page_db, username: str) -> set[int]:
    with page_db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        routed = set(session.scalars(select(ComplaintDepartment.complaint_id)
                                     .where(ComplaintDepartment.department_id == user.department_id)))
        return routed | set(session.scalars(select(WorkingGroupMember.complaint_id)
                                            .where(WorkingGroupMember.user_id == user.id)))


def _forbidden(page_db, seeded, username: str, also: frozenset = ALL) -> dict[str, str]:
    """Every value the user must not be shown: value → which case and field."""
    own = _own_cases(page_db, username)
    out = {}
    for case_id, values in seeded.items():
        shown = (ON_OWN_CASES if case_id in own else EVERYWHERE)[username] & also
        for field, columns in FIELD_COLUMNS.items():
            if field not in shown:
                out.update({values[c]: f"case {case_id} {c}" for c in columns})
    return out


def _rendered(at) -> str:  # noqa: ANN001
    """Everything the page put on screen: each element's message (labels, options, texts, links) and
    each table's cells."""
    parts: list[str] = []

    def walk(node) -> None:  # noqa: ANN001
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        if getattr(node, "type", "") in ("dataframe", "table", "arrow_data_frame", "arrow_table", "data_editor"):
            parts.append(node.value.to_csv())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _assert_none_shown(text: str, forbidden: dict[str, str], where: str) -> None:
    leaks = sorted({why for value, why in forbidden.items() if value in text})
    assert not leaks, f"{where} shows masked data: {leaks[:10]}"


def _walk_pages(username: str, forbidden: dict[str, str]) -> str:
    """Open every page the user has (every tab of the tabbed ones), check what each shows, and return
    all of it."""
    actor_roles = load_actor_roles(username)
    home = app_as(username)
    assert not home.exception, (username, home.exception)
    seen: list[str] = [_rendered(home)]
    _assert_none_shown(seen[-1], forbidden, f"{username}'s home page")
    for spec in PAGES:
        if not allowed(spec, actor_roles) or spec.key == "case":
            continue
        at = app_as(username, page_path(spec.key))
        assert not at.exception, (username, spec.key, at.exception)
        seen.append(_rendered(at))
        _assert_none_shown(seen[-1], forbidden, f"{username} on {spec.key}")
        if spec.key in LAZY_TABS:
            for label in [tab.label for tab in at.tabs]:
                at.session_state[LAZY_TABS[spec.key]] = label
                at.run()
                assert not at.exception, (username, spec.key, label, at.exception)
                seen.append(_rendered(at))
                _assert_none_shown(seen[-1], forbidden, f"{username} on {spec.key} › {label}")
    assert seen, username
    return "\n".join(seen)


def load_actor_roles(username: str):  # noqa: ANN201
    import os
    unit = UnitOfWork(make_engine(os.environ["PORTAL_DATABASE_URL"]))
    try:
        return load_actor(unit, username).roles
    finally:
        unit.engine.dispose()


def _walk_case_page(page_db, username: str, forbidden: dict[str, str]) -> int:
    """The case page: its search and recent list, then every case the user may open, one by one."""
    at = app_as(username, page_path("case"))
    assert not at.exception, at.exception
    _assert_none_shown(_rendered(at), forbidden, f"{username} on case search")
    actor = load_actor(page_db, username)
    with page_db.read() as session:
        references = session.execute(select(Complaint.id, Complaint.number).order_by(Complaint.id)).all()
    opened = 0
    for case_id, number in references:
        at.text_input(key="case_ref").input(number or str(case_id)).run()
        assert not at.exception, (username, case_id, at.exception)
        _assert_none_shown(_rendered(at), forbidden, f"{username} on case {number or case_id}")
        try:
            case = queries.case_detail(page_db, actor=actor, complaint_id=case_id, now=wall_now(),
                                       calendar=rules.load_calendar(page_db))
        except Exception:  # noqa: BLE001 - a case the user may not open: the page said so
            continue
        opened += 1
        form = handling_form_html(case, lang="zh", printed_at=wall_now(), names={}, contacts=contacts.contact_timeline(
            page_db, actor=actor, complaint_id=case_id, page_size=None, newest_first=False))
        _assert_none_shown(form, forbidden, f"{username}'s printable form of case {case_id}")
    return opened


CASE_READERS = ("clerk", "lead", "gmo", "opshandler", "techhandler", "approver", "boss", "opslead", "vicegm")


@pytest.mark.parametrize("username", USERS)
def test_no_page_shows_a_field_the_masking_table_masks_for_the_role(page_db, seeded, username):
    forbidden = _forbidden(page_db, seeded, username)
    if username not in ("clerk", "lead", "gmo"):
        assert forbidden, "the walk must look for something"
    shown = _walk_pages(username, forbidden)
    # the walk sees the cases: what the table does show the role is on its pages
    if username in ("gmo", "approver", "opshandler", "opslead"):
        assert any(v["customer_name"] in shown for v in seeded.values()), username


@pytest.mark.parametrize("username", CASE_READERS)
def test_no_case_page_or_printable_form_shows_a_masked_field(page_db, seeded, username):
    opened = _walk_case_page(page_db, username, _forbidden(page_db, seeded, username))
    assert opened >= 1


LEDGER_EXPORTERS = ("gmo", "boss", "admin")


@pytest.mark.parametrize("username", LEDGER_EXPORTERS)
def test_no_export_holds_a_field_the_table_masks_for_the_exporter_or_for_exports(page_db, seeded, username):
    actor = load_actor(page_db, username)
    forbidden = _forbidden(page_db, seeded, username, also=EXPORTED)
    assert any(v.startswith("1990000") for v in forbidden)
    args = dict(actor=actor, filters=queries.LedgerFilter(), now=wall_now(), calendar=rules.load_calendar(page_db),
                lang="zh")
    csv_text = exports.ledger_csv(page_db, **args).decode("utf-8-sig")
    _assert_none_shown(csv_text, forbidden, f"{username}'s ledger CSV")
    book = load_workbook(io.BytesIO(exports.ledger_workbook(page_db, **args)))
    cells = "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    _assert_none_shown(cells, forbidden, f"{username}'s ledger workbook")
    assert len(csv_text.splitlines()) == len(seeded) + 1        # every case exported, masked
    if username == "gmo":       # what the table shows the exporter and exports is there
        assert any(seeded[c]["customer_name"] in csv_text for c in seeded)


def test_the_walk_follows_the_table_an_administrator_changed(page_db, seeded):
    """The GM office's phone masked and the manager's names shown: pages and exports follow the rows."""
    from portal.domain.privacy import default_rows
    from portal.services import configuration
    rows = [{**r, "phone": "masked"} if r["audience"] == "gm_office" else
            {**r, "name": "shown"} if r["audience"] == "manager" else r for r in default_rows()]
    configuration.save_table(page_db, actor=load_actor(page_db, "admin"), table="masking_rules", rows=rows,
                             now=wall_now())
    phones = {v["customer_phone"]: f"case {c} phone" for c, v in seeded.items()}
    shown = _walk_pages("gmo", phones)
    assert any(v["customer_name"] in shown for v in seeded.values())
    ledger = _rendered(app_as("boss", page_path("ledger")))
    assert any(v["customer_name"] in ledger for v in seeded.values())
    assert not any(v["policy_number"] in ledger for v in seeded.values())
