"""Issue 18 (closing the loop): followup — both languages side by side."""
from __future__ import annotations

ZH: dict[str, str] = {
    "action.confirm_effect": "整改效果确认",
    "action.schedule_follow_up": "安排回访",
    "action.act_on_follow_up": "记录部门改进措施",
    "action.record_remedy": "记录补偿已落实",
    "action.quality_check": "质量检验确认",
    "action.archive": "总结并归档",
}

EN: dict[str, str] = {
    "action.confirm_effect": "Confirm a rectification's effect",
    "action.schedule_follow_up": "Schedule a follow-up",
    "action.act_on_follow_up": "Record a department's action",
    "action.record_remedy": "Record the remedy as carried out",
    "action.quality_check": "Quality check",
    "action.archive": "Summarise and archive",
}
