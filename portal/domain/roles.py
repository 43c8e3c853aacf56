"""The roles of SPEC §1. Their keys are fixed by the process; their labels live in the catalogue."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INTAKE = "intake"            # 受理专员
    INTAKE_LEAD = "intake_lead"  # 市场部主管
    HANDLER = "handler"          # 部门处理人
    GM_OFFICE = "gm_office"      # 总经理室
    APPROVER = "approver"        # 核决人
    DEPT_LEAD = "dept_lead"      # 部门主管: a duty held with the user's own department (SPEC §1)
    MANAGER = "manager"          # 管理层
    ADMIN = "admin"              # 系统管理员
    TRAINER = "trainer"          # 培训师


def parse_roles(values: list[str] | tuple[str, ...]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values)
