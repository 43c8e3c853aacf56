"""Text a user typed is shown as typed: Markdown, colour and emoji directives, HTML and
`javascript:` links reach no element that would interpret them, on every page that shows them
and in the printable form."""
from __future__ import annotations

from datetime import timedelta

from portal.domain.validation import Attachment
from portal.persistence.models import Complaint
from portal.printing.handling_form import handling_form_html
from portal.services import complaints, followthrough, handling, queries, rules
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from portal.ui.literal import literal
from portal.services.queries import current_version
from tests.helpers import a_form
from tests.pages.conftest import app_as, page_path
from tests.pages.test_handling_pages import DECISION

PAYLOAD = "**粗体** :red[红字] <b>标签</b> [链接](javascript:alert(1)) $x^2$ :smile: # 标题"
SHORT = "**甲** :red[乙] <i>丙</i>"                       # for fields of at most 50 characters
MARKUP = ("**粗体**", ":red[", "<b>", "](javascript:", "$x^2$", ":smile:", "**甲**", "<i>")
FILE_NAME = "**报告** :red[x] [a](javascript:b).pdf"

LAZY_TABS = {"gm_office": "gm_tabs", "approval": "approval_tabs", "negotiation": "negotiation_tabs",
             "department": "dept_tabs", "desk": "desk_tabs"}
# Elements whose text Streamlit reads as Markdown.
MARKDOWN_KINDS = ("markdown", "caption", "info", "error", "warning", "success", "title", "header", "subheader",
                  "exception", "toast")


def _markdown_texts(at) -> list[str]:  # noqa: ANN001
    out = [str(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind, [])]
    out += [b.label for b in at.button] + [e.label for e in at.expander] + [c.label for c in at.checkbox]
    out += [e.proto.label for e in at.get("download_button")]
    out += [str(tab.label) for tab in at.tabs]
    out += [str(v) for table in at.table for v in [*table.value.columns, *table.value.to_numpy().ravel()]]  # Markdown cells
    return out


def _assert_literal(at) -> None:  # noqa: ANN001
    assert not at.exception, at.exception
    shown = _markdown_texts(at)
    for text in shown:
        for mark in MARKUP:
            assert mark not in text, f"{mark!r} would be interpreted in {text!r}"
    return shown


def _walk(uow) -> int:  # noqa: ANN001
    at = wall_now() - timedelta(days=2)
    who = lambda name: load_actor(uow, name)  # noqa: E731
    form = a_form(received_at=at, customer_name=SHORT, customer_occupation=SHORT, product=SHORT,
                  insured_name=SHORT, customer_address=PAYLOAD, description=PAYLOAD, expected_resolution=PAYLOAD,
                  product_involved=PAYLOAD, complained_staff_other=PAYLOAD)
    case_id = complaints.register_complaint(uow, actor=who("clerk"), form=form, now=at, attachments=[
        Attachment(FILE_NAME, "application/pdf", b"%PDF-1.4 test")]).id
    complaints.accept_complaint(uow, actor=who("gmo"), complaint_id=case_id, category="claim", severity="general",
                                departments=["operations"], now=at)
    handling.submit_report(uow, actor=who("opshandler"), complaint_id=case_id, now=at,
                           report=handling.InvestigationReport(cause_code="process.execution", evidence=PAYLOAD, cause=PAYLOAD, finding="company_fault",
                                                               measures=PAYLOAD, proposed_amount="3000"),
                                                                   expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=who("opshandler"), complaint_id=case_id, report=PAYLOAD, now=at,
                          expected_version=current_version(uow, case_id))
    handling.instruct_report(uow, actor=who("genmgr"), complaint_id=case_id, instruction=PAYLOAD, now=at,
                             expected_version=current_version(uow, case_id))
    handling.consolidate(uow, actor=who("gmo"), complaint_id=case_id, opinion=PAYLOAD, proposed_amount="3000", now=at,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=who("approver"), complaint_id=case_id, instructions=PAYLOAD, amount_limit="3000",
                     now=at, expected_version=current_version(uow, case_id))
    followthrough.mark_other_company(uow, actor=who("gmo"), complaint_id=case_id, company=SHORT, now=at,
                                     expected_version=current_version(uow, case_id))
    return case_id


def test_user_text_reaches_no_markdown_element_on_any_page(page_db):
    case_id = _walk(page_db)
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number

    case_page = app_as("gmo", page_path("case"))
    case_page.text_input(key="case_ref").input(number).run()
    shown = _assert_literal(case_page)
    assert literal(SHORT) in "\n".join(shown)                        # the other company, escaped
    assert any(literal(FILE_NAME) in label for label in shown)       # the attachment's button
    frames = "\n".join(str(df.value.to_dict()) for df in case_page.dataframe)
    assert PAYLOAD in frames and SHORT in frames                     # tables show the text as typed

    negotiation = app_as("clerk", page_path("negotiation"))
    shown = _assert_literal(negotiation)
    assert any(literal(PAYLOAD) in text for text in shown)           # the approver's instructions

    for username, page in (("gmo", "gm_office"), ("gmo", "ledger"), ("opshandler", "department"),
                           ("approver", "approval"), ("clerk", "my_complaints"), ("boss", "statistics"),
                           ("lead", "negotiation"), ("clerk", "desk")):
        at = app_as(username, page_path(page))
        _assert_literal(at)
        if page in LAZY_TABS:                        # only the open tab runs: each one in turn
            for label in [tab.label for tab in at.tabs]:
                at.session_state[LAZY_TABS[page]] = label
                _assert_literal(at.run())


def test_the_printable_form_escapes_user_text(page_db):
    case_id = _walk(page_db)
    uow = page_db
    case = queries.case_detail(uow, actor=load_actor(uow, "gmo"), complaint_id=case_id, now=wall_now(),
                               calendar=rules.load_calendar(uow))
    html = handling_form_html(case, lang="zh", printed_at=wall_now(), names={})
    assert "<b>标签</b>" not in html and "<i>" not in html and "javascript:alert(1)\">" not in html
    assert "&lt;b&gt;标签&lt;/b&gt;" in html and "**粗体**" in html


def test_the_literal_escape_shows_every_character():
    assert literal("a*b_c") == "a\\*b\\_c"
    assert literal("第一行\n  # 第二行") == "第一行  \n\u00a0\u00a0\\# 第二行"
    assert literal(None) == ""
