"""Who sees customers' personal data (SPEC §2), and how it is masked for everyone else."""
from __future__ import annotations

from typing import Iterable

from portal.domain.roles import Role

# Roles that work with the customer or route the case see everything; handlers only on their cases.
_UNMASKED_ROLES = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE})


def may_see_personal_data(roles: Iterable[Role], department_id: int | None,
                          case_department_ids: Iterable[int]) -> bool:
    roles = frozenset(roles)
    if roles & _UNMASKED_ROLES:
        return True
    return Role.HANDLER in roles and department_id is not None and department_id in set(case_department_ids)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "****"


def mask_text(value: str | None, keep: int = 6) -> str:
    """Addresses and emails: keep the first few characters (city, district), hide the rest."""
    if not value:
        return ""
    return value[:keep] + "****" if len(value) > keep else "****"


_CASE_READERS = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.APPROVER, Role.MANAGER})


def may_view_case(roles: Iterable[Role], department_id: int | None,
                  case_department_ids: Iterable[int]) -> bool:
    """Handlers read only cases routed to their department; admins and trainers read none."""
    roles = frozenset(roles)
    if roles & _CASE_READERS:
        return True
    return Role.HANDLER in roles and department_id is not None and department_id in set(case_department_ids)
