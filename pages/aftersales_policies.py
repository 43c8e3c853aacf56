"""保单登记簿: the administrator imports the policies the company sold from a CSV or Excel file (all or
nothing: refused rows listed with their reasons), browses the register page by page and changes a policy.
Personal data as the masking table shows it to the administrator."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.adapters.policy_files import MAX_BYTES, PolicyFileRefused, read_policy_file, template_csv
from portal.domain.errors import DomainError, Message, ValidationFailed
from portal.domain.privacy import PersonalField
from portal.services import policies
from portal.ui.auth import require_page
from portal.ui.context import lang, now, said, say, t, uow
from portal.ui.widgets import _UPLOAD_STYLE, DATE_FORMAT, clear_notices, date_label, field_error, show_notice

actor = require_page("policies")
st.title(t("policies.title"))
show_notice("policies_notice")
risks = policies.risk_list(uow())
risk_names = {r.code: r.name_en if lang() == "en" else r.name_zh for r in risks}


def limit_text(amount: object, unit: object) -> str:
    return t(f"policies.unit.{unit}", n=amount) if amount and unit in ("days", "years") else t("policies.limit.none")


def show_import_result(result: policies.ImportResult) -> None:
    if result.refused:
        st.error(t("policies.import.refused", count=len(result.refused)))
        sheets = {t("policies.import.sheet"): [r.sheet for r in result.refused]} \
            if any(r.sheet for r in result.refused) else {}        # a CSV file has no sheets
        st.dataframe(pd.DataFrame({
            **sheets,
            t("policies.import.row"): [t("policies.import.whole_file") if r.row is None else str(r.row)
                                       for r in result.refused],
            t("policies.import.column"): [t(f"policies.col.{r.column}") if r.column else "" for r in result.refused],
            t("policies.import.reason"): [said(r.message) for r in result.refused],
        }), hide_index=True, width="stretch")
        return
    st.success(t("policies.import.saved", rows=result.rows, created=result.created, replaced=result.replaced,
                 persons=result.persons))
    if result.products_created:
        st.text(t("policies.import.products_created", codes="、".join(result.products_created)))
    for change in result.products_updated:
        st.text(t("policies.import.product_updated", code=change.code,
                  before=f"{change.before['name']} · {limit_text(change.before['claim_limit'], change.before['claim_limit_unit'])}",
                  after=f"{change.after['name']} · {limit_text(change.after['claim_limit'], change.after['claim_limit_unit'])}"))


# -- the import ---------------------------------------------------------------------------------------
st.subheader(t("policies.import.header"))
st.caption(t("policies.import.help"))
st.download_button(t("policies.import.template"), data=template_csv(), file_name="policies-template.csv",
                   mime="text/csv", key="policies_template")
with st.expander(t("policies.import.risk_list")):
    st.dataframe(pd.DataFrame({t("policies.import.risk_code"): [r.code for r in risks],
                               t("policies.import.risk_name"): [risk_names[r.code] for r in risks]}),
                 hide_index=True, width="stretch")
st.html(_UPLOAD_STYLE % t("upload.button"))
upload = st.file_uploader(t("policies.import.file"), type=["csv", "xlsx"], key="policies_file",
                          max_upload_size=MAX_BYTES // (1024 * 1024))
if st.button(t("policies.import.submit"), type="primary", key="policies_import"):
    if upload is None:
        st.error(t("policies.import.pick_file"))
    else:
        try:
            rows = read_policy_file(upload.name, upload.getvalue())
        except PolicyFileRefused as refused:
            if refused.missing:             # the columns named in the reader's language
                st.error(t(refused.message.key, sheet=refused.message.params.get("sheet", ""),
                           columns="、".join(t(f"policies.col.{c}") for c in refused.missing)))
            else:
                st.error(say(refused.message))
        else:
            try:
                show_import_result(policies.import_policies(uow(), actor=actor, rows=rows, now=now(),
                                                            source=upload.name))
            except DomainError as refused:
                st.error(say(refused.message))

# -- the register -------------------------------------------------------------------------------------
st.subheader(t("policies.register.header"))
wanted = ""
page = int(st.session_state.get("policies_page", 1))
try:
    listing = policies.register_page(uow(), actor=actor, page=page)
except DomainError as refused:
    st.error(say(refused.message))
    st.stop()
if PersonalField.POLICY_NUMBER in listing.shown:
    wanted = st.text_input(t("policies.register.search"), key="policies_search")
    if wanted.strip():
        try:
            listing = policies.register_page(uow(), actor=actor, policy_number=wanted)
        except DomainError as refused:
            st.error(say(refused.message))
else:
    st.caption(t("policies.register.search_masked"))
if not listing.policies:
    st.info(t("policies.register.empty"))
else:
    if listing.total > listing.page_size and not wanted.strip():
        st.number_input(t("policies.register.page"), min_value=1, max_value=listing.pages, step=1, key="policies_page")
    first = (listing.page - 1) * listing.page_size
    st.caption(t("policies.register.showing", first=first + 1, last=first + len(listing.policies), total=listing.total))
    found = listing.policies
    st.dataframe(pd.DataFrame({
        t("policies.col.policy_number"): [p.policy_number for p in found],
        t("policies.col.insurer"): [p.insurer for p in found],
        t("policies.col.product"): [f"{p.product_code} {p.product_name}" for p in found],
        t("policies.col.period"): [f"{p.start_date:%Y/%m/%d} – {p.end_date:%Y/%m/%d}" for p in found],
        t("policies.col.sum_insured"): [f"{p.sum_insured:,.2f}" for p in found],
        t("policies.col.risks"): ["、".join(risk_names.get(c, c) for c in p.risks) for p in found],
        t("policies.col.insured"): ["、".join(x.name for x in p.persons if x.role == "insured") for p in found],
        t("policies.col.persons"): [len(p.persons) for p in found],
        t("policies.col.version"): [p.version for p in found],
    }), hide_index=True, width="stretch")

    # -- changing one policy ----------------------------------------------------------------------------
    st.subheader(t("policies.edit.header"))
    by_id = {p.id: p for p in found}
    chosen = st.selectbox(t("policies.register.pick"), list(by_id), index=None, placeholder=t("widget.choose"),
                          key="policies_pick",
                          format_func=lambda i: f"{by_id[i].policy_number} · {by_id[i].insurer} · {by_id[i].product_name}")
    if chosen is not None:
        policy = by_id[chosen]
        seen_key = f"policies_seen_{chosen}"
        # the version the form opened on: a save on it is refused if someone saved the policy since
        st.session_state.setdefault(seen_key, policy.version)
        errors: dict[str, Message] = st.session_state.get("policies_errors", {})
        products = dict(policies.product_codes(uow()))
        codes = list(dict.fromkeys([*risk_names, *policy.risks]))
        with st.form(f"policy_{chosen}", enter_to_submit=False):
            insurer = st.text_input(t("policies.col.insurer"), value=policy.insurer)
            field_error(errors, "insurer")
            product = st.selectbox(t("policies.col.product"), list(products),
                                   index=list(products).index(policy.product_code) if policy.product_code in products else None,
                                   format_func=lambda c: f"{c} {products[c]}", placeholder=t("widget.choose"))
            field_error(errors, "product_code")
            amount = st.text_input(t("policies.col.sum_insured"), value=f"{policy.sum_insured:.2f}")
            field_error(errors, "sum_insured")
            start = st.date_input(date_label("policies.col.start_date"), value=policy.start_date, format=DATE_FORMAT)
            field_error(errors, "start_date")
            end = st.date_input(date_label("policies.col.end_date"), value=policy.end_date, format=DATE_FORMAT)
            field_error(errors, "end_date")
            covered = st.multiselect(t("policies.col.risks"), codes, default=list(policy.risks),
                                     format_func=lambda c: risk_names.get(c, c), placeholder=t("widget.choose"))
            field_error(errors, "risks")
            st.caption(t("policies.edit.persons_note"))
            if st.form_submit_button(t("policies.edit.save"), type="primary"):
                clear_notices()
                try:
                    version = policies.update_policy(
                        uow(), actor=actor, policy_id=chosen, expected_version=st.session_state[seen_key],
                        insurer=insurer, product_code=product or "", sum_insured=amount, start_date=start,
                        end_date=end, risks=covered, now=now())
                except ValidationFailed as refused:
                    st.session_state["policies_errors"] = refused.errors
                    st.rerun()
                except DomainError as refused:
                    st.session_state.pop(seen_key, None)       # the form opens again on the policy as it is now
                    st.session_state.pop("policies_errors", None)
                    st.error(say(refused.message))
                else:
                    st.session_state.pop(seen_key, None)
                    st.session_state.pop("policies_errors", None)
                    st.session_state["policies_notice"] = t("policies.edit.saved", version=version)
                    st.rerun()
