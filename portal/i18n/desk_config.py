"""Catalogue section: the service desk's rules in 系统配置 — its lists, materials checklists, clocks, parameters and
products' claim time limits."""
from __future__ import annotations

ZH: dict[str, str] = {
    "config.tab.desk": "售后服务",
    "config.desk.intro": "售后受理的可选清单、理赔材料清单、时限、参数和各险种的申请时效。每张表整表校验后保存，并记入变更记录；"
                         "已保存的代码不能删除或改名（保单和受理件引用它们），不再使用的行请取消“启用”。"
                         "修改只影响此后登记或检查的受理件；售后受理页面在保存后即显示新清单（其他服务进程最迟 1 分钟）。",
    "config.desk.section": "配置表",
    "config.tab.desk_risk": "保险责任（出险原因）",
    "config.tab.desk_channel": "报案方式",
    "config.tab.desk_claim_kind": "理赔类别",
    "config.tab.desk_surrender_reason": "退保原因",
    "config.tab.desk_relation": "与被保险人关系",
    "config.tab.desk_materials": "理赔材料清单",
    "config.tab.desk_clocks": "售后时限",
    "config.tab.desk_parameters": "售后参数",
    "config.tab.desk_products": "险种申请时效",
    "config.help.desk_risk": "保单承保的风险及报案时的出险原因（保单导入文件的“保险责任”列填写代码）。“现场保全”勾选的原因在及时报案时提示告知报案人保护现场并通知保险公司查勘。",
    "config.help.desk_channel": "报案、理赔申请、退保和批改的受理方式。",
    "config.help.desk_claim_kind": "理赔申请的类别，每类对应理赔材料清单中的一组材料。",
    "config.help.desk_surrender_reason": "客户退保时可选的原因（统计页按此汇总）。",
    "config.help.desk_relation": "报案人或申请人与被保险人的关系。",
    "config.help.desk_materials": "每类理赔须提交的材料；“基本材料”每项理赔都须提交。代码在整张表中唯一。未收齐材料的申请仍在等待时，"
                                  "其理赔类别和已收到的材料不能停用。",
    "config.help.desk_clocks": "售后各项时限的计时单位和目标。修改只适用于此后开始计时的受理件；已在计时的受理件仍按开始时的规则计算，期限不会被改写。",
    "config.help.desk_parameters": "重大案件金额标准和现场保全的及时报案时限，用于此后登记的报案。",
    "config.help.desk_products": "各险种的理赔申请时效（自出险日起的天数或年数，最后一天计入）；数值和单位都空表示不设时效。"
                                 "险种由保单导入新增；导入文件写明的名称或时效会覆盖此处的设置。修改只影响此后登记的报案的初步审核。",
    "config.col.keeps_scene": "现场保全",
    "config.col.claim_kind": "理赔类别",
    "config.col.name": "险种名称",
    "config.col.claim_limit": "申请时效",
    "config.col.claim_limit_unit": "时效单位",
    "config.desk.kind.basic": "基本材料（每项理赔）",
    "config.desk.limit_unit.days": "天",
    "config.desk.limit_unit.years": "年",
    "config.desk.clock.handover": "移交保险公司",
    "config.desk.clock.major_report": "重大案件向总部呈报",
    "config.desk.clock.surrender": "退保办理",
    "config.desk.clock.endorsement": "批改办理",
    "config.desk.empty": "尚无险种：险种随保单导入建立。",
    "config.desk.code_in_use": "“{code}”已被保单或受理件引用，不能删除或改名：请改为停用。",
    "config.desk.basic_reserved": "代码“{code}”留给每项理赔都须提交的基本材料，理赔类别不能使用。",
    "config.desk.kind_waiting": "有未收齐材料的理赔申请属于类别“{code}”，待其收齐后才能停用。",
    "config.desk.material_waiting": "有未收齐材料的理赔申请已收到材料“{code}”，待其收齐后才能停用。",
    "config.desk.unknown_kind": "请选择“基本材料”或理赔类别清单中的类别。",
    "config.desk.no_basic": "基本材料至少保留一项启用。",
    "config.desk.none_active": "此清单是受理时的必选项，至少保留一行启用。",
    "config.desk.limit_unit": "申请时效须同时填写数值和单位（天或年），或都留空（不设时效）。",
    "config.cents": "金额最多保留两位小数。",
    "param.desk.major_threshold": "重大案件金额标准（元）：预估赔款或保险金额超过此数且结果不确定的报案为重大案件",
    "param.desk.scene_hours": "现场保全时限（小时）：出险后此时间内报案、且出险原因须保全现场的，提示保护现场",
}

EN: dict[str, str] = {
    "config.tab.desk": "After-sales service",
    "config.desk.intro": "The service desk's lists, materials checklists, clocks, parameters and each product's "
                         "claim time limit. Each table is checked as a whole before it is saved and every save is "
                         "logged. A saved code cannot be removed or renamed (policies and requests name it): clear "
                         "\"Active\" instead. A change applies to what is registered or checked after it; the desk's pages show new lists "
                         "right after a save (other server processes within a minute).",
    "config.desk.section": "Table",
    "config.tab.desk_risk": "Covered risks (causes)",
    "config.tab.desk_channel": "Report channels",
    "config.tab.desk_claim_kind": "Claim kinds",
    "config.tab.desk_surrender_reason": "Surrender reasons",
    "config.tab.desk_relation": "Relations to the insured",
    "config.tab.desk_materials": "Claim materials",
    "config.tab.desk_clocks": "Desk time limits",
    "config.tab.desk_parameters": "Desk parameters",
    "config.tab.desk_products": "Products' claim time limits",
    "config.help.desk_risk": "The risks policies cover and the causes a report names (the policy file's risks column "
                             "holds the codes). A cause marked \"Scene\" prompts the clerk, when reported promptly, to "
                             "tell the reporter to preserve the scene and to ask the insurer for a survey.",
    "config.help.desk_channel": "How reports, claim applications, surrenders and endorsements come in.",
    "config.help.desk_claim_kind": "The kinds of claim application; each has its group of materials.",
    "config.help.desk_surrender_reason": "The reasons a customer may give for a surrender (counted on the statistics "
                                         "page).",
    "config.help.desk_relation": "The reporter's or applicant's relation to the insured.",
    "config.help.desk_materials": "The documents each kind of claim needs; the basic documents are needed for every "
                                  "claim. A code appears once in the whole table. While incomplete applications wait, "
                                  "their claim kinds and the documents they have brought stay active.",
    "config.help.desk_clocks": "Each desk clock's unit and target. A change applies to clocks started after it; "
                               "a clock already running keeps the rule it started with, and its deadline is not rewritten.",
    "config.help.desk_parameters": "The major-claim amount and the hours within which a reported event keeps its "
                                   "scene, for reports registered after the change.",
    "config.help.desk_products": "Each product's claim time limit (days or years from the event date, the last day "
                                 "included); both empty: no limit. Products are created by the policy import, and a "
                                 "name or limit a file states replaces the one set here. A change applies to the "
                                 "preliminary check of reports registered after it.",
    "config.col.keeps_scene": "Scene",
    "config.col.claim_kind": "Claim kind",
    "config.col.name": "Product name",
    "config.col.claim_limit": "Claim time limit",
    "config.col.claim_limit_unit": "Limit unit",
    "config.desk.kind.basic": "Basic documents (every claim)",
    "config.desk.limit_unit.days": "days",
    "config.desk.limit_unit.years": "years",
    "config.desk.clock.handover": "Hand-over to the insurer",
    "config.desk.clock.major_report": "Major claim reported to headquarters",
    "config.desk.clock.surrender": "Surrender handled",
    "config.desk.clock.endorsement": "Endorsement handled",
    "config.desk.empty": "No products yet: they are created by the policy import.",
    "config.desk.code_in_use": "\"{code}\" is named by policies or requests and cannot be removed or renamed: make it "
                               "inactive instead.",
    "config.desk.basic_reserved": "The code \"{code}\" names the basic documents every claim needs; no claim kind may "
                                  "use it.",
    "config.desk.kind_waiting": "Incomplete claim applications of kind \"{code}\" are waiting; it can be made inactive "
                                "once they are complete.",
    "config.desk.material_waiting": "Incomplete claim applications have brought \"{code}\"; it can be made inactive "
                                    "once they are complete.",
    "config.desk.unknown_kind": "Choose the basic documents or a claim kind of the list.",
    "config.desk.no_basic": "Keep at least one basic document active.",
    "config.desk.none_active": "The desk's forms require a choice from this list: keep at least one row active.",
    "config.desk.limit_unit": "A claim time limit needs both a number and a unit (days or years), or neither (no "
                              "limit).",
    "config.cents": "An amount has at most two decimals.",
    "param.desk.major_threshold": "Major-claim amount (CNY): a report whose estimated claim or sum insured is over "
                                  "this with the outcome uncertain is a major claim",
    "param.desk.scene_hours": "Scene preservation (hours): an event reported within this time whose cause needs it "
                              "keeps its scene",
}
