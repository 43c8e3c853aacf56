"""The contact log as the printable 客户抱怨处理表 lists it (SPEC §11): the customer's preferred channel,
then every contact in order (when, how, who, the step, what was said, proof, a notice's state)."""
from __future__ import annotations

from portal.i18n import translate
from portal.i18n.format import fmt_time
from portal.printing.form_sections import EMPTY, Section


def contact_log_section(contacts, *, lang: str) -> Section:  # noqa: ANN001
    """`contacts`: a `services.contacts.ContactPage` holding every contact of the case, oldest first."""
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    rows = [(t("field.preferred_contact"), t(f"contact.channel.{contacts.preferred_contact}")),
            (t("field.optional_notices"), t("yes") if contacts.optional_notices else t("no"))]
    grid = [{t("contact.col.at"): fmt_time(c.at), t("contact.col.channel"): t(f"contact.channel.{c.channel}"),
             t("contact.col.step"): t(f"contact.step.{c.step}"), t("contact.col.by"): c.by or t("contact.system"),
             t("contact.col.content"): c.content or EMPTY,
             t("contact.col.proof"): "；".join(p for p in (c.proof, c.attachment_name or "") if p) or EMPTY,
             t("contact.col.notice"): t(f"contact.notice.{c.notice_state}") if c.notice_state else EMPTY}
            for c in contacts.rows]
    if not grid:
        rows.append((t("contact.title"), t("contact.empty")))
    return Section("contacts", t("contact.title"), rows, grid)
