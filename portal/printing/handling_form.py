"""The printable complaint handling form (客户抱怨处理表) in three copies (002 art.13.7), as
self-contained print-ready HTML. Every value is escaped: user text never becomes markup."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from portal.i18n import translate
from portal.i18n.format import badge_text, fmt_time

COPIES = 3
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 11pt; }
.copy { page-break-after: always; }
.copy:last-child { page-break-after: auto; }
h1 { font-size: 16pt; text-align: center; margin: 0 0 4pt; }
.meta { text-align: center; margin-bottom: 8pt; }
table { width: 100%; border-collapse: collapse; margin-bottom: 8pt; }
th, td { border: 1px solid #333; padding: 3pt 5pt; vertical-align: top; text-align: left; }
th { width: 22%; background: #f2f2f2; }
h2 { font-size: 12pt; margin: 8pt 0 4pt; }
.sign td { height: 28pt; }
"""


def _value(value) -> str:  # noqa: ANN001
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _rows(pairs: list[tuple[str, object]]) -> str:
    return "".join(f"<tr><th>{escape(label)}</th><td>{escape(_value(value))}</td></tr>" for label, value in pairs)


def handling_form_html(case, *, lang: str, printed_at: datetime, category: str, channel: str) -> str:  # noqa: ANN001
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    f, h = case.fields, case.handling
    number = case.number or t("case.unnumbered", id=case.id)
    customer = [(t("field.customer_name"), f["customer_name"]), (t("field.customer_phone"), f["customer_phone"]),
                (t("field.customer_id_number"), f["customer_id_number"]),
                (t("field.customer_address"), f["customer_address"]),
                (t("field.policy_number"), f["policy_number"]), (t("field.product"), f["product"]),
                (t("field.insured_name"), f["insured_name"]), (t("field.claim_report_number"), f["claim_report_number"])]
    complaint = [(t("field.received_at"), f["received_at"]), (t("field.channel"), channel),
                 (t("field.category"), category), (t("field.severity"), t(f"severity.{f['severity']}")),
                 (t("field.description"), f["description"]), (t("field.expected_resolution"), f["expected_resolution"]),
                 (t("field.receiving_clerk"), f["receiving_clerk"])]
    reports = "".join(
        f"<h2>{escape(d['name_en'] if lang == 'en' else d['name_zh'])}</h2><table>" + _rows([
            (t("field.initial_plan"), d["initial_plan"]), (t("field.evidence"), d["evidence"]),
            (t("field.cause"), d["cause"]),
            (t("field.finding"), t(f"finding.{d['finding']}") if d["finding"] else ""),
            (t("field.responsible_unit"), d["responsible_unit"]), (t("field.measures"), d["measures"]),
            (t("field.proposed_amount"), d["proposed_amount"])]) + "</table>" for d in case.departments)
    handling = [(t("field.opinion"), h["consolidated_opinion"]),
                (t("field.instructions"), h["approval_instructions"]), (t("field.amount_limit"), h["amount_limit"]),
                (t("field.result"), t(f"result.{h['negotiation_result']}") if h["negotiation_result"] else ""),
                (t("field.note"), h["negotiation_note"]), (t("field.final_opinion"), h["closure_note"]),
                (t("field.responsibility_level"), t(f"resp.{h['responsibility_level']}") if h["responsibility_level"] else ""),
                (t("field.penalty_persons"), h["penalty_persons"])]
    clocks = [(c.info.label(lang), f"{badge_text(c.badge, lang)} · {fmt_time(c.due)}") for c in case.clocks]
    body = (f"<h2>{escape(t('register.section.customer'))}</h2><table>{_rows(customer)}</table>"
            f"<h2>{escape(t('register.section.complaint'))}</h2><table>{_rows(complaint)}</table>"
            f"<h2>{escape(t('case.reports'))}</h2>{reports or '<p>—</p>'}"
            f"<h2>{escape(t('case.process'))}</h2><table>{_rows(handling)}</table>"
            f"<h2>{escape(t('case.clocks'))}</h2><table>{_rows(clocks)}</table>"
            f"<table class='sign'><tr><th>{escape(t('print.signatures'))}</th><td></td></tr></table>")
    copies = "".join(
        f"<section class='copy'><h1>{escape(t('print.title'))}</h1><div class='meta'>"
        f"{escape(t('field.number'))}: {escape(number)} · {escape(t('print.copy', n=n, total=COPIES))} · "
        f"{escape(t('print.printed', at=fmt_time(printed_at)))}</div>{body}</section>"
        for n in range(1, COPIES + 1))
    return (f"<!DOCTYPE html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head><meta charset='utf-8'>"
            f"<title>{escape(t('print.title'))} {escape(number)}</title><style>{_STYLE}</style></head>"
            f"<body>{copies}</body></html>")
