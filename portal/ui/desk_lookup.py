"""The one lookup before anything is registered (002 ch.2 4.(二)3; art.11.1(1)), shared by 售后受理 and the
complaint intake: by policy number, insured name or ID number, the person's policies with every request
and complaint and its state; no policy, or one name for several people, said so. Each lookup is audited
by the service; its result is kept while the clerk works from it."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError
from portal.domain.privacy import PersonalField
from portal.i18n.format import fmt_time
from portal.services import policies
from portal.services.actors import Actor
from portal.ui.context import now, say, t, uow


def lookup_form(actor: Actor, *, key: str) -> policies.Lookup | None:
    """The lookup's form; the last result for this page (`key`), or None before any."""
    st.caption(t("desk.lookup.help"))
    with st.form(f"{key}_lookup", enter_to_submit=False):
        left, middle, right = st.columns(3)
        # labels of their own: the registration forms below have fields named 保单号, 姓名, 身份证号 too
        number = left.text_input(t("desk.lookup.by_policy_number"), key=f"{key}_lookup_number")
        name = middle.text_input(t("desk.lookup.by_name"), key=f"{key}_lookup_name")
        id_number = right.text_input(t("desk.lookup.by_id_number"), key=f"{key}_lookup_id_number")
        if st.form_submit_button(t("desk.lookup.submit"), type="primary"):
            st.session_state.pop(f"{key}_found", None)
            try:
                st.session_state[f"{key}_found"] = policies.lookup(uow(), actor=actor, policy_number=number,
                                                                   name=name, id_number=id_number, now=now())
            except DomainError as refused:
                st.error(say(refused.message))
    return st.session_state.get(f"{key}_found")


def show_found(found: policies.Lookup, risks: dict[str, str],
               extra: Callable[[policies.FoundPolicy, frozenset[PersonalField]], None] | None = None) -> None:
    """What the lookup found: no policy (check whether the person is insured with us at all), several people
    with the name (the ID number first), or each policy with its persons, requests and complaints; `extra`
    draws what a page offers from a policy."""
    if found.no_policy:
        st.warning(t("desk.lookup.no_policy"))
        return
    if found.ambiguous:
        st.warning(t("desk.lookup.ambiguous", count=len(found.candidates)))
        st.dataframe(pd.DataFrame({
            t("desk.lookup.name"): [c.name for c in found.candidates],
            t("desk.lookup.id_number"): [c.id_number for c in found.candidates],
            t("desk.lookup.policies"): [c.policies for c in found.candidates],
        }), hide_index=True, width="stretch")
        return
    st.success(t("desk.lookup.found", count=len(found.policies)))
    if found.truncated:
        st.info(t("desk.lookup.truncated"))
    for policy in found.policies:
        with st.container(border=True):
            _policy_tables(policy, risks)
            if extra is not None:
                extra(policy, found.shown)


def _policy_tables(policy: policies.FoundPolicy, risks: dict[str, str]) -> None:
    st.dataframe(pd.DataFrame({
        t("desk.field.policy_number"): [policy.policy_number],
        t("desk.lookup.insurer"): [policy.insurer],
        t("desk.lookup.product"): [f"{policy.product_code} {policy.product_name}"],
        t("desk.lookup.period"): [f"{policy.start_date:%Y/%m/%d} – {policy.end_date:%Y/%m/%d}"],
        t("desk.lookup.sum_insured"): [f"{policy.sum_insured:,.2f}"],
        t("desk.lookup.risks"): ["、".join(risks.get(c, c) for c in policy.risks)],
    }), hide_index=True, width="stretch")
    st.dataframe(pd.DataFrame({
        t("desk.lookup.role"): [t(f"policies.role.{p.role}") for p in policy.persons],
        t("desk.lookup.name"): [p.name for p in policy.persons],
        t("desk.lookup.id_number"): [p.id_number for p in policy.persons],
        t("desk.lookup.phone"): [p.phone for p in policy.persons],
    }), hide_index=True, width="stretch")
    if policy.requests:
        st.caption(t("desk.lookup.requests"))
        st.dataframe(pd.DataFrame({
            t("desk.col.number"): [r.number for r in policy.requests],
            t("desk.col.kind"): [t(f"desk.kind.{r.kind}") for r in policy.requests],
            t("desk.col.state"): [t(f"desk.state.{r.state}") for r in policy.requests],
            t("desk.col.received"): [fmt_time(r.received_at) for r in policy.requests],
        }), hide_index=True, width="stretch")
    else:
        st.caption(t("desk.lookup.no_requests"))
    if policy.complaints:
        st.caption(t("desk.lookup.complaints"))
        st.dataframe(pd.DataFrame({
            t("desk.col.number"): [c.number or t("case.unnumbered", id=c.id) for c in policy.complaints],
            t("desk.col.state"): [t(f"state.{c.state}") for c in policy.complaints],
            t("desk.col.received"): [fmt_time(c.received_at) for c in policy.complaints],
        }), hide_index=True, width="stretch")
