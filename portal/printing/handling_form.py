"""The printable complaint handling form (客户抱怨处理表) in its three copies (002 art.13.7: the
first kept by the marketing department, the second by operations, the third by the GM office), as
self-contained print-ready HTML with every field of the form. Every value is escaped: user text
never becomes markup."""
from __future__ import annotations

from datetime import datetime
from html import escape

from portal.i18n import translate
from portal.i18n.format import badge_text, fmt_time
from portal.printing.contact_log import contact_log_section
from portal.printing.form_sections import Section, handling_form_sections, show

COPIES = 3
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 10.5pt; }
.copy { page-break-after: always; }
.copy:last-child { page-break-after: auto; }
h1 { font-size: 16pt; text-align: center; margin: 0 0 4pt; }
.meta { text-align: center; margin-bottom: 8pt; }
.keeper { text-align: right; font-weight: bold; }
.internal { text-align: center; font-weight: bold; color: #B22222; border: 1.5pt solid #B22222; padding: 2pt;
            margin-bottom: 4pt; letter-spacing: 2pt; }
table { width: 100%; border-collapse: collapse; margin-bottom: 6pt; }
th, td { border: 1px solid #333; padding: 3pt 5pt; vertical-align: top; text-align: left; white-space: pre-wrap; }
th { width: 24%; background: #f2f2f2; }
.grid th { width: auto; }
h2 { font-size: 11.5pt; margin: 8pt 0 3pt; }
.sign td { height: 30pt; }
"""


def _section(section: Section) -> str:
    body = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in section.rows)
    html = f"<h2>{escape(section.title)}</h2><table data-section='{escape(section.key)}'>{body}</table>"
    if section.grid:
        columns = list(section.grid[0])
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        lines = "".join("<tr>" + "".join(f"<td>{escape(row[c])}</td>" for c in columns) + "</tr>"
                        for row in section.grid)
        html += f"<table class='grid'><tr>{head}</tr>{lines}</table>"
    return html


def handling_form_html(case, *, lang: str, printed_at: datetime,  # noqa: ANN001
                       names: dict[str, dict[str, str]], contacts=None) -> str:  # noqa: ANN001
    """`contacts`: the case's whole contact log (`services.contacts.contact_timeline`, oldest first)."""
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    number = case.number or t("case.unnumbered", id=case.id)
    clocks = [(c.info.label(lang), f"{badge_text(c.badge, lang)} · {show(c.due)}") for c in case.clocks]
    sections = handling_form_sections(case, lang=lang, names=names)
    if contacts is not None:
        sections.append(contact_log_section(contacts, lang=lang))
    sections.append(Section("clocks", t("case.clocks"), clocks))
    approver = case.handling.get("approved_by") or ""
    signatures = [(t("print.sign.clerk"), case.fields["receiving_clerk"]), (t("print.sign.department"), ""),
                  (t("print.sign.approver"), approver),
                  (t("print.sign.final_approver"), case.handling.get("final_approved_by")),
                  (t("print.sign.gm_office"), case.handling.get("accepted_by"))]
    sign = ("<table class='sign'><tr>" + "".join(f"<th>{escape(label)}</th>" for label, _ in signatures) + "</tr><tr>"
            + "".join(f"<td>{escape(name or '')}</td>" for _, name in signatures) + "</tr></table>")
    body = "".join(_section(s) for s in sections) + f"<h2>{escape(t('print.signatures'))}</h2>{sign}"
    copies = "".join(
        # 002 art.13.10: the form is never copied to the customer (the decision letter is)
        f"<section class='copy' data-copy='{n}'><div class='internal'>{escape(t('form.internal_only'))}</div>"
        f"<div class='keeper'>{escape(t(f'print.copy.{n}'))}</div>"
        f"<h1>{escape(t('print.title'))}</h1><div class='meta'>"
        f"{escape(t('field.number'))}: {escape(number)} · {escape(t('print.copy', n=n, total=COPIES))} · "
        f"{escape(t('print.printed', at=fmt_time(printed_at)))}</div>{body}</section>"
        for n in range(1, COPIES + 1))
    return (f"<!DOCTYPE html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head><meta charset='utf-8'>"
            f"<title>{escape(t('print.title'))} {escape(number)}</title><style>{_STYLE}</style></head>"
            f"<body>{copies}</body></html>")
