"""The service desk's tables in 系统配置 (issue 17): what a save of one of them is checked against in the
database — the codes policies and requests already name, the claim kinds, what incomplete applications
wait with. Saved by `configuration.save_table` like every configuration table (one transaction, one audit
event `config.save`, stale editors refused).

What a change does: a list, a checklist, a parameter or a claim limit governs what is registered or checked
after it (a report's preliminary check, scene and major-claim outcome are kept as they were computed); a desk
clock's new target governs clocks started after it — a running clock keeps the rule it started with
(`desk_clocks`). The desk's pages read the lists through a cache of 60 seconds, cleared by the page after a save.
"""
from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from portal.domain import desk_configuration as desk_rules
from portal.domain.aftersales import RequestKind, RequestState
from portal.domain.configuration import Refusal
from portal.persistence.models import DeskChoice, PolicyRisk, ServiceRequest

# table name → the desk list it holds
LIST_TABLES = {f"desk_{key}": key for key in desk_rules.DESK_LISTS}
TABLE_NAMES = (*LIST_TABLES, "desk_materials", "desk_clocks", "desk_parameters", "desk_products")

# where each list's codes are kept: (model, column, a JSON list of codes?)
_USED_IN = {
    "risk": ((PolicyRisk, PolicyRisk.risk_code, False), (ServiceRequest, ServiceRequest.cause_code, False)),
    "channel": ((ServiceRequest, ServiceRequest.channel, False),),
    "claim_kind": ((ServiceRequest, ServiceRequest.claim_kinds, True),),
    "surrender_reason": ((ServiceRequest, ServiceRequest.reason_code, False),),
    "relation": ((ServiceRequest, ServiceRequest.contact_relation, False),),
    "materials": ((ServiceRequest, ServiceRequest.materials_received, True),
                  (ServiceRequest, ServiceRequest.handover_items, True)),
}


def codes_in_use(session: Session, list_key: str, codes: set[str]) -> set[str]:
    """Which of `codes` a policy or a request names (asked only about the few a save would remove)."""
    used = set()
    for code in sorted(codes):
        for model, column, listed in _USED_IN[list_key]:
            condition = cast(column, String).like(f'%"{code}"%') if listed else column == code
            if session.scalar(select(1).select_from(model).where(condition).limit(1)) is not None:
                used.add(code)
                break
    return used


def _waiting(session: Session) -> list[tuple[list | None, list | None]]:
    """Incomplete applications: their kinds and received documents are checked again when more come."""
    return list(session.execute(select(ServiceRequest.claim_kinds, ServiceRequest.materials_received).where(
        ServiceRequest.kind == RequestKind.CLAIM_APPLICATION.value,
        ServiceRequest.state == RequestState.INCOMPLETE.value)).all())


def refusals(session: Session, name: str, rows: list[dict], current: list[dict]) -> list[Refusal]:
    """The reasons to refuse the desk table `name` as edited (`current`: as stored)."""
    if name in LIST_TABLES:
        list_key = LIST_TABLES[name]
        existing = {row["code"] for row in current}
        removed = existing - {row.get("code") for row in rows}
        waiting = {k for kinds, _ in _waiting(session) for k in (kinds or [])} if list_key == "claim_kind" else set()
        return desk_rules.validate_desk_list(list_key, rows, existing=existing, waiting=waiting,
                                             in_use=codes_in_use(session, list_key, removed) if removed else set())
    if name == "desk_materials":
        existing = {row["code"] for row in current}
        removed = existing - {row.get("code") for row in rows}
        kinds = set(session.scalars(select(DeskChoice.code).where(DeskChoice.list_key == "claim_kind")))
        received = {m for _, materials in _waiting(session) for m in (materials or [])}
        return desk_rules.validate_materials(rows, existing=existing, claim_kinds=kinds, received_waiting=received,
                                             in_use=codes_in_use(session, "materials", removed) if removed else set())
    if name == "desk_clocks":
        return desk_rules.validate_desk_clocks(rows)
    if name == "desk_parameters":
        return desk_rules.validate_desk_parameters(rows)
    return desk_rules.validate_products(rows)

