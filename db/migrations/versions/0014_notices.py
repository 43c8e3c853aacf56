"""notices outbox and templates

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The sender's rules (业务参数, edited in 系统配置): SMS quiet hours, attempts, backoff, the lease after
# which a notice found `sending` counts as interrupted.
SETTINGS = [
    ("notices.quiet_start_hour", "21", "SMS are held from this hour (0-23) ..."),
    ("notices.quiet_end_hour", "8", "... until this hour (the same hour as the start: no quiet hours)"),
    ("notices.max_attempts", "6", "attempts to send a notice before it is marked failed"),
    ("notices.retry_minutes", "5", "minutes before the first retry; doubled after each failed attempt"),
    ("notices.retry_max_minutes", "240", "longest wait between two attempts, in minutes"),
    ("notices.lease_minutes", "10", "a notice still being sent after this many minutes was interrupted"),
]

_CALL = "\n\n{company_contact}"
# The default notice templates (kind, channel, subject, body, gateway template id, gateway parameters).
# The SMS texts are what would be registered with a gateway; their template ids are filled in once
# registered (an empty id: the SMS gateway refuses the notice, the folder outbox does not need one).
TEMPLATES = [
    ("acknowledgement", "email", "您的投诉已受理登记（{case_reference}）",
     "尊敬的{customer_name}：\n\n您好！我司已于{received_date}收到您的投诉，登记编号为 {case_reference}。"
     "我们将认真调查核实，并在处理过程中及时告知您进展。如需补充材料或查询进度，请提供上述编号。"
     "\n\n感谢您对我司工作的监督与支持。" + _CALL, "", ""),
    ("acknowledgement", "sms", "",
     "尊敬的{customer_name}：我司已于{received_date}收到您的投诉，编号{case_reference}，我们将尽快核实处理并告知进展。",
     "", "name={customer_name}; date={received_date}; code={case_reference}"),
    ("progress", "email", "您的投诉处理进展（{case_reference}）",
     "尊敬的{customer_name}：\n\n您于{received_date}提出的投诉（编号 {case_reference}）目前处于“{case_stage}”阶段，"
     "预计将于{expected_completion_date}前办结。我们会继续跟进，并及时将处理结果告知您。" + _CALL, "", ""),
    ("progress", "sms", "",
     "尊敬的{customer_name}：您的投诉（编号{case_reference}）目前处于“{case_stage}”阶段，"
     "预计{expected_completion_date}前办结，结果将及时告知您。",
     "", "name={customer_name}; code={case_reference}; stage={case_stage}; date={expected_completion_date}"),
    ("expected_completion", "email", "关于您投诉预计完成时间的说明（{case_reference}）",
     "尊敬的{customer_name}：\n\n您于{received_date}提出的投诉（编号 {case_reference}）因需进一步核实有关情况，"
     "目前处于“{case_stage}”阶段，预计将于{expected_completion_date}前办结。给您带来不便，敬请谅解；"
     "办理结果我们将及时告知您。" + _CALL, "", ""),
    ("expected_completion", "sms", "",
     "尊敬的{customer_name}：您的投诉（编号{case_reference}）因需进一步核实，预计{expected_completion_date}前办结，"
     "给您带来不便，敬请谅解。",
     "", "name={customer_name}; code={case_reference}; date={expected_completion_date}"),
    ("decision", "email", "您的投诉处理决定告知书（{case_reference}）",
     "尊敬的{customer_name}：\n\n您于{received_date}提出的投诉（编号 {case_reference}）已有处理决定，"
     "现将《投诉处理决定告知书》全文发送给您，请查阅。\n\n{letter_text}", "", ""),
    ("decision", "sms", "",
     "尊敬的{customer_name}：您的投诉（编号{case_reference}）已有处理决定，我司将以书面告知书或电话向您说明，"
     "您也可致电我司客服热线查询。",
     "", "name={customer_name}; code={case_reference}"),
    ("closure", "email", "您的投诉已办结（{case_reference}）",
     "尊敬的{customer_name}：\n\n您于{received_date}提出的投诉（编号 {case_reference}）已于{closed_date}办结。"
     "感谢您的理解与支持。我们可能会就处理情况与您联系回访，欢迎您提出宝贵意见。" + _CALL, "", ""),
    ("closure", "sms", "",
     "尊敬的{customer_name}：您的投诉（编号{case_reference}）已于{closed_date}办结，感谢您的理解与支持。",
     "", "name={customer_name}; code={case_reference}; date={closed_date}"),
    ("follow_up_invitation", "email", "诚邀您评价投诉处理服务（{case_reference}）",
     "尊敬的{customer_name}：\n\n您的投诉（编号 {case_reference}）已于{closed_date}办结。为持续改进服务，"
     "诚邀您就服务流程、服务态度、服务效率和处理结果作出评价。我司工作人员将与您联系回访，"
     "您也可以致电我司客服热线反馈意见。" + _CALL, "", ""),
    ("follow_up_invitation", "sms", "",
     "尊敬的{customer_name}：您的投诉（编号{case_reference}）已办结，我司工作人员将与您联系回访，"
     "诚邀您对处理服务作出评价。",
     "", "name={customer_name}; code={case_reference}"),
    # The decision letter (002 art.13.10: a letter, never a copy of the internal form), with what
    # CBIRC 2020 No.3 art.19 requires: what was checked, the basis and reasons, the remedies.
    ("decision", "letter", "投诉处理决定告知书",
     "尊敬的{customer_name}：\n\n您于{received_date}向我司提出的投诉（编号 {case_reference}），我司已调查核实完毕。"
     "现将处理决定告知如下：\n\n一、我司核查的情况\n{decision_checked}\n\n二、处理决定的依据和理由\n"
     "{decision_basis}\n\n三、处理意见\n{approved_instructions}\n\n四、您可以选择的救济途径\n"
     "如您对上述处理决定有异议，可以通过以下途径解决：\n{decision_remedies}" + _CALL, "", ""),
    ("signature", "text", "",
     "客户服务中心\n如有疑问，请致电我司客服热线，并告知上述投诉编号。", "", ""),
]


def upgrade() -> None:
    op.create_table('notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('transport_id', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'))
    op.create_index('ix_notices_due', 'notices', ['state', 'next_attempt_at'])
    op.create_index(op.f('ix_notices_complaint_id'), 'notices', ['complaint_id'])
    templates = op.create_table('notice_templates',
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('gateway_template', sa.String(length=60), nullable=False),
        sa.Column('gateway_params', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'channel'))
    op.bulk_insert(templates, [dict(kind=k, channel=c, subject=s, body=b, gateway_template=g, gateway_params=p)
                               for k, c, s, b, g, p in TEMPLATES])
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [dict(key=k, value=v, description=d) for k, v, d in SETTINGS])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key LIKE 'notices.%'")
    op.drop_table('notice_templates')
    op.drop_index(op.f('ix_notices_complaint_id'), table_name='notices')
    op.drop_index('ix_notices_due', table_name='notices')
    op.drop_table('notices')
