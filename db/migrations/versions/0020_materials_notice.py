"""the notice of missing claim materials (补齐理赔材料通知): its e-mail and SMS templates

Issue 17 (002 ch.2 4.(四)): an incomplete claim application is not accepted, and the applicant is told
exactly which materials are missing, through the notices outbox. The template rows are fixed per kind
and channel (`domain.notices.SLOTS`); these are the seeded texts, which the administrator edits in
系统配置 › 通知模板. A downgrade removes the two rows (notices already queued stay in the outbox).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 21:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

KIND = "materials_missing"
# (kind, channel, subject, body, gateway template id, gateway parameters), as in 0014: the SMS text is
# what would be registered with a gateway, its template id filled in once registered.
TEMPLATES = [
    (KIND, "email", "请补齐理赔申请材料（{case_reference}）",
     "尊敬的{customer_name}：\n\n您好！我司已于{received_date}收到您的理赔申请（编号 {case_reference}）。"
     "经核对，申请材料尚不齐全，暂不能受理。请您补充提交以下材料：\n{missing_materials}\n\n"
     "材料补齐后，我司将及时受理并移交保险公司。如有疑问，请提供上述编号与我们联系。\n\n{company_contact}",
     "", ""),
    (KIND, "sms", "",
     "尊敬的{customer_name}：您的理赔申请（编号{case_reference}）材料尚不齐全，暂不能受理，"
     "请补充提交：{missing_materials}。材料补齐后我司将及时受理。",
     "", "name={customer_name}; code={case_reference}; items={missing_materials}"),
]


def upgrade() -> None:
    templates = sa.table('notice_templates', sa.column('kind', sa.String), sa.column('channel', sa.String),
                         sa.column('subject', sa.String), sa.column('body', sa.Text),
                         sa.column('gateway_template', sa.String), sa.column('gateway_params', sa.String))
    op.bulk_insert(templates, [dict(kind=k, channel=c, subject=s, body=b, gateway_template=g, gateway_params=p)
                               for k, c, s, b, g, p in TEMPLATES])


def downgrade() -> None:
    op.execute(f"DELETE FROM notice_templates WHERE kind = '{KIND}'")
