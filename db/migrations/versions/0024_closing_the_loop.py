"""closing the loop (issue 18): causes, rectification chased and verified, quality check, follow-ups,
the remedy carried out, the case summary, the monthly review, meetings, baselines and pushed warnings

- a two-level cause taxonomy (人员 / 流程 / 产品 / 系统 / 外部 and their sub-causes), chosen by each
  department report and at closure (001 总结; 004 §5.3.2);
- rectification items with a named owner, the cause they answer, evidence, the GM office's effect
  confirmation after a set period, reopening; corrective actions of a failed quality check are items too;
- 运营部's quality check before archive (002 art.11.2(3)) with a configurable checklist;
- follow-ups with how and by whom, scheduled follow-ups, dissatisfied follow-ups sent to departments;
- the remedy agreed with the customer recorded as carried out, the case summary at archive;
- the monthly review (002 art.13.9): department heads confirm or dispute their responsibility ratios;
  complaint meetings (立会, 002 art.11.3(3));
- the seed's satisfaction baselines (004 §1.2) as settings, warnings defaulting to them, the complaint rate
  per 10,000 policies in force (a monthly figure where no policy register is kept), pushed warnings;
- 服务质量投诉 among the categories (004 §5.1.2).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 23:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# (code, 中文, English, [(sub code, 中文, English), ...]) as at this revision; the administrator edits them
CAUSES = (
    ("people", "人员", "People", (("attitude", "服务态度", "Service attitude"),
                                  ("skill", "业务技能不足", "Lack of skill"),
                                  ("conduct", "违规操作", "Misconduct"))),
    ("process", "流程", "Process", (("design", "流程设计缺陷", "Flawed process design"),
                                    ("execution", "执行不到位", "Process not followed"),
                                    ("handover", "部门衔接不畅", "Poor hand-over between departments"))),
    ("product", "产品", "Product", (("terms", "条款不清", "Unclear terms"),
                                    ("explanation", "说明不充分", "Insufficient explanation"),
                                    ("pricing", "费用与定价", "Fees and pricing"))),
    ("system", "系统", "Systems", (("outage", "系统故障", "System outage"),
                                   ("function", "功能缺陷", "Missing or faulty function"))),
    ("external", "外部", "External", (("misunderstanding", "客户误解", "Customer misunderstanding"),
                                      ("third_party", "第三方原因", "Third party"),
                                      ("regulation", "政策法规变化", "Change of regulation"))),
)

# 客户投诉质量的检验确认 (002 art.11.2(3)): what 运营部 checks before a case is archived
CHECKLIST = (
    ("deadlines", "各环节在时限内完成或已说明原因", "Every step met its limit or the delay is explained"),
    ("investigation", "调查事实清楚、证据充分", "The investigation established the facts with evidence"),
    ("decision", "处理结果有依据并经核决", "The decision has a basis and was approved by authority"),
    ("customer_told", "客户已获告知处理结果", "The customer was told the decision"),
    ("records", "处理记录与资料完整", "The records and documents are complete"),
)

BASELINES = (("overall", "0.75"), ("process", "0.80"), ("attitude", "0.78"), ("efficiency", "0.72"),
             ("result", "0.76"))

SETTINGS = (
    *((f"satisfaction.baseline.{d}", v, f"004 §1.2 baseline satisfaction rate: {d}") for d, v in BASELINES),
    *((f"warning.satisfaction_min.{d}", v, f"warn when the {d} satisfaction rate falls below (defaults to its "
       "baseline)") for d, v in BASELINES if d != "overall"),
    ("warning.complaint_rate_max", "", "warn when complaints per 10,000 policies in force exceed (empty: off)"),
    ("rectification.effect_days", "30", "days after an item is completed when the GM office confirms its effect"),
    ("follow_up.second_visit_days", "30", "days to the second follow-up after a dissatisfied one"),
)


# the pushed early warning (004 ch.9): a staff notice to the GM office and managers, no case; one text in both
# languages (the recipients may read either); placeholders: indicator, value, threshold, period
WARNING_TEMPLATES = (
    ("warning", "email", "投诉预警 Complaint warning：{warning_indicator}（{warning_period}）",
     "投诉预警：{warning_period} 的{warning_indicator}为 {warning_value}，超出预警值 {warning_threshold}。"
     "请在投诉管理平台的统计分析页记录应对措施。\n\n"
     "Complaint warning: {warning_indicator} for {warning_period} is {warning_value}, past its threshold "
     "{warning_threshold}. Please record the response on the portal's statistics page.", "", ""),
    ("warning", "sms", "",
     "投诉预警：{warning_period}{warning_indicator}为{warning_value}，预警值{warning_threshold}，请登录平台记录应对措施。",
     "", "period={warning_period}; name={warning_indicator}; value={warning_value}; limit={warning_threshold}"),
)


def upgrade() -> None:
    causes = op.create_table(
        'cause_classes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('code', sa.String(40), nullable=False, unique=True),
        sa.Column('parent_code', sa.String(40), nullable=True),    # NULL: a top-level class
        sa.Column('name_zh', sa.String(60), nullable=False),
        sa.Column('name_en', sa.String(60), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('sort', sa.Integer(), nullable=False, server_default="0"),
    )
    rows, sort = [], 0
    for code, zh, en, subs in CAUSES:
        rows.append(dict(code=code, parent_code=None, name_zh=zh, name_en=en, active=True, sort=sort))
        sort += 1
        for sub, szh, sen in subs:
            rows.append(dict(code=f"{code}.{sub}", parent_code=code, name_zh=szh, name_en=sen, active=True,
                             sort=sort))
            sort += 1
    op.bulk_insert(causes, rows)

    with op.batch_alter_table('complaint_departments') as batch:
        batch.add_column(sa.Column('cause_code', sa.String(40), nullable=True))
    with op.batch_alter_table('complaints') as batch:
        batch.add_column(sa.Column('cause_code', sa.String(40), nullable=True))        # chosen at closure
        batch.add_column(sa.Column('remedy_done_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('remedy_paid_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('remedy_amount', sa.Numeric(14, 2), nullable=True))
        batch.add_column(sa.Column('remedy_reference', sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column('remedy_note', sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column('remedy_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_complaints_remedy_by_id'), nullable=True))
        batch.add_column(sa.Column('summary_lessons', sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column('summary_cause_code', sa.String(40), nullable=True))
        batch.add_column(sa.Column('summary_rectification', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('summary_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_complaints_summary_by_id'), nullable=True))
        batch.add_column(sa.Column('summary_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))

    op.create_table(
        'complaint_meetings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('held_on', sa.Date(), nullable=False, index=True),
        sa.Column('title', sa.String(200), nullable=False, server_default=""),
        sa.Column('attendees', sa.Text(), nullable=False),
        sa.Column('decisions', sa.Text(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'meeting_cases',
        sa.Column('meeting_id', sa.Integer(), sa.ForeignKey('complaint_meetings.id'), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), primary_key=True, index=True),
    )
    op.create_table(
        'quality_checklist',
        sa.Column('code', sa.String(40), primary_key=True),
        sa.Column('text_zh', sa.String(200), nullable=False),
        sa.Column('text_en', sa.String(200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('sort', sa.Integer(), nullable=False, server_default="0"),
    )
    op.bulk_insert(sa.table('quality_checklist', sa.column('code'), sa.column('text_zh'), sa.column('text_en'),
                            sa.column('active'), sa.column('sort')),
                   [dict(code=c, text_zh=z, text_en=e, active=True, sort=i) for i, (c, z, e) in enumerate(CHECKLIST)])
    op.create_table(
        'quality_checks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False, index=True),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('checked_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),          # checklist code → met (true/false)
        sa.Column('note', sa.Text(), nullable=False, server_default=""),
    )

    with op.batch_alter_table('rectifications') as batch:
        batch.add_column(sa.Column('kind', sa.String(20), nullable=False, server_default="rectification"))
        batch.add_column(sa.Column('owner_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_rectifications_owner_id'), nullable=True))
        batch.add_column(sa.Column('cause_code', sa.String(40), nullable=True))
        batch.add_column(sa.Column('evidence', sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column('round', sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column('effect_due_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('effect_result', sa.String(20), nullable=True))    # effective / not_effective
        batch.add_column(sa.Column('effect_reason', sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column('effect_confirmed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('effect_confirmed_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_rectifications_effect_confirmed_by_id'), nullable=True))
        batch.add_column(sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_rectifications_created_by_id'), nullable=True))
        batch.add_column(sa.Column('meeting_id', sa.Integer(), sa.ForeignKey('complaint_meetings.id', name='fk_rectifications_meeting_id'), nullable=True))
        batch.add_column(sa.Column('quality_check_id', sa.Integer(), sa.ForeignKey('quality_checks.id', name='fk_rectifications_quality_check_id'),
                                   nullable=True))
        batch.add_column(sa.Column('follows_id', sa.Integer(), sa.ForeignKey('rectifications.id', name='fk_rectifications_follows_id'), nullable=True))
    op.create_index('ix_rectifications_owner', 'rectifications', ['owner_id', 'status', 'deadline'])
    op.create_index('ix_rectifications_effect', 'rectifications', ['effect_result', 'status', 'effect_due_on'])
    op.create_index('ix_rectifications_meeting', 'rectifications', ['meeting_id'])     # the items a 立会 opened
    # 运营部's quality-check queue: closed cases, the oldest closure first
    op.create_index('ix_complaints_state_closed', 'complaints', ['state', 'closed_at'])

    with op.batch_alter_table('follow_ups') as batch:
        batch.add_column(sa.Column('method', sa.String(20), nullable=False, server_default="phone"))
        batch.add_column(sa.Column('dissatisfied', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'follow_up_schedules',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False, index=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False, server_default=""),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('follow_up_id', sa.Integer(), sa.ForeignKey('follow_ups.id'), nullable=True),   # done by
    )
    op.create_index('ix_follow_up_schedules_due', 'follow_up_schedules', ['follow_up_id', 'due_on'])
    op.create_table(
        'follow_up_actions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('follow_up_id', sa.Integer(), sa.ForeignKey('follow_ups.id'), nullable=False, index=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False, index=True),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id'), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False, server_default=""),
        sa.Column('acted_at', sa.DateTime(), nullable=True),
        sa.Column('acted_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.UniqueConstraint('follow_up_id', 'department_id'),
    )
    op.create_index('ix_follow_up_actions_open', 'follow_up_actions', ['department_id', 'acted_at', 'sent_at'])

    op.create_table(
        'month_confirmations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('period', sa.String(7), nullable=False),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id'), nullable=False),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=True),  # a disputed case
        sa.Column('status', sa.String(20), nullable=False),      # confirmed / disputed / resolved
        sa.Column('reason', sa.Text(), nullable=False, server_default=""),
        sa.Column('by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('resolution', sa.Text(), nullable=False, server_default=""),
        sa.Column('resolved_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_month_confirmations_period', 'month_confirmations', ['period', 'department_id', 'status'])

    op.create_table(
        'policies_in_force',
        sa.Column('period', sa.String(7), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('entered_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('entered_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'warning_alerts',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('period', sa.String(7), nullable=False),
        sa.Column('indicator', sa.String(40), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False, server_default=""),
        sa.Column('responded_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('responded_at', sa.DateTime(), nullable=True),
        sa.UniqueConstraint('period', 'indicator'),
    )
    op.create_index('ix_warning_alerts_open', 'warning_alerts', ['responded_at', 'raised_at'])
    # a person's handling acts of a period (人员考核): one range per person
    op.create_index('ix_events_actor_at', 'events', ['actor_id', 'at', 'action', 'complaint_id'])
    # the statistics page's causes, complainant profile and complaint rate read these from the index alone
    op.create_index('ix_complaint_departments_causes', 'complaint_departments',
                    ['report_submitted_at', 'cause_code', 'department_id'])
    op.create_index('ix_complaints_closed_causes', 'complaints', ['closed_at', 'cause_code'])
    op.create_index('ix_complaints_received_profile', 'complaints',
                    ['received_at', 'customer_gender', 'customer_age_band', 'customer_occupation'])
    op.create_index('ix_policies_in_force', 'policies', ['end_date', 'start_date'])
    templates = sa.table('notice_templates', sa.column('kind', sa.String), sa.column('channel', sa.String),
                         sa.column('subject', sa.String), sa.column('body', sa.Text),
                         sa.column('gateway_template', sa.String), sa.column('gateway_params', sa.String))
    op.bulk_insert(templates, [dict(kind=k, channel=c, subject=t, body=b, gateway_template=g, gateway_params=p)
                               for k, c, t, b, g, p in WARNING_TEMPLATES])

    settings = sa.table('settings', sa.column('key'), sa.column('value'), sa.column('description'))
    op.bulk_insert(settings, [dict(key=k, value=v, description=d) for k, v, d in SETTINGS])
    # the overall warning defaults to its baseline (75 %), unless an administrator already moved it
    op.execute("UPDATE settings SET value = '0.75' WHERE key = 'warning.satisfaction_min' AND value IN ('0.80', '0.8')")

    categories = sa.table('categories', sa.column('code'), sa.column('name_zh'), sa.column('name_en'),
                          sa.column('active'), sa.column('sort'), sa.column('default_departments', sa.JSON))
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM categories WHERE code = 'service_quality'")).scalar() == 0:
        top = bind.execute(sa.text("SELECT coalesce(max(sort), 0) FROM categories")).scalar()
        op.bulk_insert(categories, [dict(code="service_quality", name_zh="服务质量投诉", name_en="Service quality",
                                         active=True, sort=int(top) + 1, default_departments=["operations"])])


def downgrade() -> None:
    op.execute("DELETE FROM categories WHERE code = 'service_quality' AND id NOT IN "
               "(SELECT category_id FROM complaints)")
    op.execute("UPDATE settings SET value = '0.80' WHERE key = 'warning.satisfaction_min' AND value = '0.75'")
    keys = ", ".join(f"'{k}'" for k, _, _ in SETTINGS)
    op.execute(f"DELETE FROM settings WHERE key IN ({keys})")
    op.execute("DELETE FROM notice_templates WHERE kind = 'warning'")
    op.drop_index('ix_policies_in_force', 'policies')
    op.drop_index('ix_complaints_received_profile', 'complaints')
    op.drop_index('ix_complaints_closed_causes', 'complaints')
    op.drop_index('ix_complaint_departments_causes', 'complaint_departments')
    op.drop_index('ix_events_actor_at', 'events')
    op.drop_index('ix_warning_alerts_open', 'warning_alerts')
    op.drop_table('warning_alerts')
    op.drop_table('policies_in_force')
    op.drop_index('ix_month_confirmations_period', 'month_confirmations')
    op.drop_table('month_confirmations')
    op.drop_index('ix_follow_up_actions_open', 'follow_up_actions')
    op.drop_table('follow_up_actions')
    op.drop_index('ix_follow_up_schedules_due', 'follow_up_schedules')
    op.drop_table('follow_up_schedules')
    with op.batch_alter_table('follow_ups') as batch:
        batch.drop_column('dissatisfied')
        batch.drop_column('method')
    op.drop_index('ix_complaints_state_closed', 'complaints')
    op.drop_index('ix_rectifications_meeting', 'rectifications')
    op.drop_index('ix_rectifications_effect', 'rectifications')
    op.drop_index('ix_rectifications_owner', 'rectifications')
    with op.batch_alter_table('rectifications') as batch:
        for name in ('follows_id', 'quality_check_id', 'meeting_id', 'created_by_id', 'effect_confirmed_by_id',
                     'effect_confirmed_at', 'effect_reason', 'effect_result', 'effect_due_on', 'round', 'evidence',
                     'cause_code', 'owner_id', 'kind'):
            batch.drop_column(name)
    op.drop_table('quality_checks')
    op.drop_table('quality_checklist')
    op.drop_table('meeting_cases')
    op.drop_table('complaint_meetings')
    with op.batch_alter_table('complaints') as batch:
        for name in ('archived_at', 'summary_at', 'summary_by_id', 'summary_rectification', 'summary_cause_code',
                     'summary_lessons', 'remedy_by_id', 'remedy_note', 'remedy_reference', 'remedy_amount',
                     'remedy_paid_on', 'remedy_done_at', 'cause_code'):
            batch.drop_column(name)
    with op.batch_alter_table('complaint_departments') as batch:
        batch.drop_column('cause_code')
    op.drop_table('cause_classes')
