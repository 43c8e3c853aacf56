"""Issue 18 (closing the loop): people — both languages side by side."""
from __future__ import annotations

ZH: dict[str, str] = {
    "nav.appraisal": "人员考核",
    "action.appraisal.export": "导出人员考核表",
    "appraisal.title": "人员考核",
    "appraisal.intro_own": "这里是您本人的考核数据。",
    "appraisal.intro_all": "全体在岗人员及期间内有数据人员的考核数据，按部门、姓名排列。",
    "appraisal.period_kind": "考核期间",
    "appraisal.kind.month": "按月",
    "appraisal.kind.range": "自定义日期范围",
    "appraisal.month": "月份",
    "appraisal.range": "日期范围（起止）",
    "appraisal.range_incomplete": "请选择起止两个日期。",
    "appraisal.person": "人员",
    "appraisal.everyone": "全部人员",
    "appraisal.period": "考核期间",
    "appraisal.period_shown": "考核期间：{period}",
    "appraisal.table": "人员考核表",
    "appraisal.clocks": "各时效按时率",
    "appraisal.no_clocks": "期间内没有由此人员完成的时效节点。",
    "appraisal.definitions": "各项数据的口径",
    "appraisal.help": (
        "- **经办案件**：期间内本人在该案件上办理过处理环节（登记、受理、调查、呈报、汇总、核决、交涉、结案、"
        "暂停、签呈、监管环节、指派、联系客户、催办与回复等）的案件数；查询、导出、通知及结案后的回访、整改、"
        "质检、归档不计入。\n"
        "- **结案案件**：期间内结案、且本人曾办理过处理环节的案件数。\n"
        "- **完成时效 / 按时完成 / 按时率**：期间内由本人的办理动作完成的时效节点（该动作的时间即节点完成时间），"
        "及其中在时限内完成的个数与比例。\n"
        "- **平均用时（小时）**：上述时效节点自起算至本人完成的平均时长，与统计分析页相同按小时计。\n"
        "- **回访次数 / 平均总体评分 / 满意率**：期间内对本人办理过的案件所做的回访次数、总体评分（1–5 分）"
        "的平均值，以及总体评分不低于 {min_score} 分（设置项“满意评分下限”）的比例。\n"
        "- **负责整改 / 已完成 / 按期完成 / 完成率**：本人负责、整改期限在期间内的整改项（含质检纠正措施），"
        "其中已完成、在期限当日结束前完成的个数，及已完成的比例。"),
    "appraisal.col.person": "人员",
    "appraisal.col.department": "部门",
    "appraisal.col.handled": "经办案件",
    "appraisal.col.closed": "结案案件",
    "appraisal.col.clocks_stopped": "完成时效",
    "appraisal.col.clocks_on_time": "按时完成",
    "appraisal.col.on_time_rate": "按时率",
    "appraisal.col.avg_hours": "平均用时（小时）",
    "appraisal.col.surveys": "回访次数",
    "appraisal.col.average_score": "平均总体评分",
    "appraisal.col.satisfaction_rate": "满意率",
    "appraisal.col.rect_owned": "负责整改",
    "appraisal.col.rect_done": "整改已完成",
    "appraisal.col.rect_on_time": "整改按期完成",
    "appraisal.col.rect_rate": "整改完成率",
    "appraisal.col.clock": "时效",
    "appraisal.col.stopped": "完成",
    "appraisal.col.on_time": "按时",
    "appraisal.col.late": "超期",
    "appraisal.download_excel": "下载 Excel",
    "appraisal.download_csv": "下载 CSV",
    "appraisal.sheet_meta": "考核期间：{period}；导出时间：{at}",
    "appraisal.bad_period": "考核期间的结束日期不能早于开始日期。",
    "appraisal.long_period": "考核期间最长 {days} 天。",
    "appraisal.others_refused": "您只能查看本人的考核数据。",
}

EN: dict[str, str] = {
    "nav.appraisal": "Staff appraisal",
    "action.appraisal.export": "Exported the appraisal table",
    "appraisal.title": "Staff appraisal",
    "appraisal.intro_own": "These are your own appraisal figures.",
    "appraisal.intro_all": "The figures of every active member of staff and of anyone else with figures in the "
                           "period, by department and name.",
    "appraisal.period_kind": "Period",
    "appraisal.kind.month": "A month",
    "appraisal.kind.range": "A date range",
    "appraisal.month": "Month",
    "appraisal.range": "Date range (first and last day)",
    "appraisal.range_incomplete": "Choose both the first and the last day.",
    "appraisal.person": "Person",
    "appraisal.everyone": "Everyone",
    "appraisal.period": "Period",
    "appraisal.period_shown": "Period: {period}",
    "appraisal.table": "Staff appraisal table",
    "appraisal.clocks": "On-time rate per clock",
    "appraisal.no_clocks": "No clock was stopped by this person's acts in the period.",
    "appraisal.definitions": "What each figure counts",
    "appraisal.help": (
        "- **Cases handled**: the cases on which the person recorded a handling step in the period (registering, "
        "accepting, investigating, reporting, consolidating, approving, negotiating, closing, holds, petitions, "
        "the regulatory steps, assigning, contacting the customer, issuing and answering reminders); reads, "
        "exports, notices and the after-care (follow-ups, rectification, quality check, archive) do not count.\n"
        "- **Cases closed**: the cases closed in the period on which the person recorded a handling step.\n"
        "- **Clocks stopped / on time / on-time rate**: the deadline clocks stopped in the period by the person's "
        "act (its time is the clock's stop), and how many and what share of them were on time.\n"
        "- **Average time (hours)**: the mean time from those clocks' start to the person's act, in hours as on "
        "the statistics page.\n"
        "- **Follow-ups / average overall score / satisfaction rate**: the follow-ups made in the period on cases "
        "the person handled, the mean overall score (1–5) and the share scoring at least {min_score} (the "
        "setting for a satisfied customer).\n"
        "- **Rectifications owned / done / done on time / completion rate**: the items (corrective actions of "
        "quality checks too) the person owns with a deadline in the period, how many are done, how many were "
        "done by the end of their deadline day, and the share done."),
    "appraisal.col.person": "Person",
    "appraisal.col.department": "Department",
    "appraisal.col.handled": "Cases handled",
    "appraisal.col.closed": "Cases closed",
    "appraisal.col.clocks_stopped": "Clocks stopped",
    "appraisal.col.clocks_on_time": "On time",
    "appraisal.col.on_time_rate": "On-time rate",
    "appraisal.col.avg_hours": "Average time (hours)",
    "appraisal.col.surveys": "Follow-ups",
    "appraisal.col.average_score": "Average overall score",
    "appraisal.col.satisfaction_rate": "Satisfaction rate",
    "appraisal.col.rect_owned": "Rectifications owned",
    "appraisal.col.rect_done": "Rectifications done",
    "appraisal.col.rect_on_time": "Done on time",
    "appraisal.col.rect_rate": "Completion rate",
    "appraisal.col.clock": "Clock",
    "appraisal.col.stopped": "Stopped",
    "appraisal.col.on_time": "On time",
    "appraisal.col.late": "Late",
    "appraisal.download_excel": "Download Excel",
    "appraisal.download_csv": "Download CSV",
    "appraisal.sheet_meta": "Period: {period}; exported {at}",
    "appraisal.bad_period": "The period cannot end before it starts.",
    "appraisal.long_period": "A period is at most {days} days.",
    "appraisal.others_refused": "You may see only your own appraisal figures.",
}
