"""the after-sales service desk (002 ch.2): the policy register, requests and their history, the desk's lists

Issue 17: products with their claim time limit, policies with their covered risks and persons, the
requests of the desk (claim reports, claim applications, surrenders, endorsements) with their history
(append-only like `events`) and contacts, the desk's configurable lists (risks, channels, claim kinds,
surrender reasons, relations), the materials checklists per claim kind and the desk's clocks. Complaint
numbering counters widen to hold a request kind's prefix; a notice may concern a request.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 20:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# list → (code, 中文, English[, keeps the scene]) as at this revision; the administrator edits them
CHOICES = {
    "risk": (("accident_death", "意外身故", "Accidental death", True),
             ("accident_disability", "意外伤残", "Accidental disability"),
             ("accident_medical", "意外医疗", "Accidental medical expenses"),
             ("illness_death", "疾病身故", "Death by illness"),
             ("illness_hospital", "疾病住院", "Hospitalisation for illness"),
             ("critical_illness", "重大疾病", "Critical illness"),
             ("burns", "烧烫伤", "Burns"),
             ("vehicle_damage", "车损", "Vehicle damage"),
             ("third_party", "第三者责任", "Third-party liability"),
             ("property_damage", "财产损失", "Property damage")),
    "channel": (("phone", "电话", "Phone"), ("visit", "上门", "Visit"), ("fax", "传真", "Fax"),
                ("letter", "书信", "Letter")),
    "claim_kind": (("accident", "意外事故", "Accident"), ("death", "身故", "Death"),
                   ("disability", "残疾", "Disability"), ("burns", "烧烫伤", "Burns"),
                   ("medical", "医疗", "Medical"), ("property", "财产 / 车辆损失", "Property or vehicle loss")),
    "surrender_reason": (("financial", "经济原因", "Financial reasons"),
                         ("product_unsuitable", "产品不适合", "Product does not suit"),
                         ("service", "对服务不满意", "Dissatisfied with the service"),
                         ("misunderstood", "投保时理解有误", "Misunderstood the policy when buying"),
                         ("switching", "转投其他产品", "Switching to another product"),
                         ("other", "其他", "Other")),
    "relation": (("self", "本人", "Self"), ("spouse", "配偶", "Spouse"), ("child", "子女", "Child"),
                 ("parent", "父母", "Parent"), ("beneficiary", "受益人", "Beneficiary"),
                 ("employer", "雇主", "Employer"), ("other", "其他", "Other")),
}
# claim kind → (code, 中文, English) of its materials (4.(四)2)
MATERIALS = {
    "basic": (("policy_original", "保险单正本", "Original policy"),
              ("premium_receipt", "保费收据", "Premium receipt"),
              ("identity_documents", "被保险人及受益人身份证件", "Identity documents of the insured and beneficiaries"),
              ("application_form", "理赔申请书", "Claim application form")),
    "accident": (("accident_proof", "事故证明", "Proof of the accident"),),
    "death": (("death_certificate", "死亡医学证明或公安机关死亡证明", "Medical or police death certificate"),),
    "disability": (("disability_certificate", "残疾证明", "Disability certificate"),),
    "burns": (("burns_certificate", "烧烫伤证明", "Burns certificate"),),
    "medical": (("medical_history", "门急诊病史", "Outpatient and emergency records"),
                ("test_reports", "检（化）验资料", "Test and laboratory reports"),
                ("outpatient_receipts", "门急诊收据原件", "Original outpatient receipts"),
                ("inpatient_receipts", "住院收据原件", "Original inpatient receipts"),
                ("pathology_report", "病理报告", "Pathology report")),
    "property": (("repair_invoices", "维修、物损发票", "Repair or property-loss invoices"),),
}
CLOCKS = (("handover", "working_days", 3), ("major_report", "hours", 24), ("surrender", "working_days", 3),
          ("endorsement", "working_days", 3))
SETTINGS = (("desk.major_threshold", "500000", "a claim over this amount (CNY) is a major claim (002 ch.2 4.(二)6)"),
            ("desk.scene_hours", "24", "an event reported within this many hours keeps its scene (4.(二)5)"))


def upgrade() -> None:
    with op.batch_alter_table('number_counters') as batch:
        batch.alter_column('period', type_=sa.String(length=12), existing_type=sa.String(length=4))
    choices = op.create_table(
        'desk_choices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_key', sa.String(length=30), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name_zh', sa.String(length=60), nullable=False),
        sa.Column('name_en', sa.String(length=60), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('sort', sa.Integer(), nullable=False, server_default="0"),
        sa.Column('keeps_scene', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint('list_key', 'code', name='uq_desk_choices_code'),
    )
    op.bulk_insert(choices, [dict(list_key=key, code=row[0], name_zh=row[1], name_en=row[2], active=True, sort=i,
                                  keeps_scene=len(row) > 3 and row[3])
                             for key, rows in CHOICES.items() for i, row in enumerate(rows)])
    materials = op.create_table(
        'desk_materials',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('claim_kind', sa.String(length=40), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name_zh', sa.String(length=100), nullable=False),
        sa.Column('name_en', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('sort', sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint('claim_kind', 'code', name='uq_desk_materials_code'),
    )
    op.bulk_insert(materials, [dict(claim_kind=kind, code=c, name_zh=z, name_en=e, active=True, sort=i)
                               for kind, rows in MATERIALS.items() for i, (c, z, e) in enumerate(rows)])
    clocks = op.create_table(
        'desk_clocks',
        sa.Column('key', sa.String(length=30), primary_key=True),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
    )
    op.bulk_insert(clocks, [dict(key=k, unit=u, target=t) for k, u, t in CLOCKS])
    op.bulk_insert(sa.table('settings', sa.column('key'), sa.column('value'), sa.column('description')),
                   [dict(key=k, value=v, description=d) for k, v, d in SETTINGS])
    op.create_table(
        'products',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('code', sa.String(length=40), nullable=False, unique=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('claim_limit', sa.Integer()),
        sa.Column('claim_limit_unit', sa.String(length=10)),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        'policies',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('policy_number', sa.String(length=40), nullable=False, unique=True),
        sa.Column('insurer', sa.String(length=100), nullable=False),
        sa.Column('product_id', sa.Integer(), sa.ForeignKey('products.id'), nullable=False),
        sa.Column('sum_insured', sa.Numeric(14, 2), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        'policy_risks',
        sa.Column('policy_id', sa.Integer(), sa.ForeignKey('policies.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('risk_code', sa.String(length=40), primary_key=True),
    )
    op.create_table(
        'policy_persons',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('policy_id', sa.Integer(), sa.ForeignKey('policies.id', ondelete='CASCADE'), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('id_number', sa.String(length=30), nullable=False, server_default=""),
        sa.Column('phone', sa.String(length=30), nullable=False, server_default=""),
    )
    op.create_index('ix_policy_persons_name', 'policy_persons', ['name'])
    op.create_index('ix_policy_persons_id_number', 'policy_persons', ['id_number'])
    op.create_index('ix_policy_persons_policy', 'policy_persons', ['policy_id', 'role'])
    text, when, flag = sa.Text(), sa.DateTime(), sa.Boolean()
    op.create_table(
        'service_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False, unique=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default="1"),
        sa.Column('policy_id', sa.Integer(), sa.ForeignKey('policies.id')),
        sa.Column('policy_number', sa.String(length=40), nullable=False, server_default=""),
        sa.Column('insured_name', sa.String(length=60), nullable=False, server_default=""),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('received_at', when, nullable=False),
        sa.Column('registered_by_id', sa.Integer(), sa.ForeignKey('users.id')),
        sa.Column('report_id', sa.Integer(), sa.ForeignKey('service_requests.id')),
        sa.Column('event_at', when),
        sa.Column('event_place', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('cause_code', sa.String(length=40), nullable=False, server_default=""),
        sa.Column('event_description', text, nullable=False, server_default=""),
        sa.Column('injury', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('measures_taken', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('present_condition', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('hospital', sa.String(length=100), nullable=False, server_default=""),
        sa.Column('contact_name', sa.String(length=60), nullable=False, server_default=""),
        sa.Column('contact_address', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('contact_phone', sa.String(length=30), nullable=False, server_default=""),
        sa.Column('contact_relation', sa.String(length=40), nullable=False, server_default=""),
        sa.Column('contact_id_number', sa.String(length=30), nullable=False, server_default=""),
        sa.Column('insurer_report_number', sa.String(length=40), nullable=False, server_default=""),
        sa.Column('check_failures', sa.JSON()),
        sa.Column('check_override', text, nullable=False, server_default=""),
        sa.Column('refused_at', when),
        sa.Column('copies_archived', flag, nullable=False, server_default=sa.false()),
        sa.Column('originals_returned', flag, nullable=False, server_default=sa.false()),
        sa.Column('scene_needed', flag, nullable=False, server_default=sa.false()),
        sa.Column('scene_told_at', when),
        sa.Column('survey_requested_at', when),
        sa.Column('deaths', sa.Integer(), nullable=False, server_default="0"),
        sa.Column('estimated_amount', sa.Numeric(14, 2)),
        sa.Column('outcome_uncertain', flag, nullable=False, server_default=sa.false()),
        sa.Column('disputes', sa.JSON()),
        sa.Column('litigation', flag, nullable=False, server_default=sa.false()),
        sa.Column('major_reasons', sa.JSON()),
        sa.Column('major_reported_at', when),
        sa.Column('key_survey_at', when),
        sa.Column('right_verified', flag, nullable=False, server_default=sa.false()),
        sa.Column('claim_kinds', sa.JSON()),
        sa.Column('materials_received', sa.JSON()),
        sa.Column('complete_at', when),
        sa.Column('handed_over_at', when),
        sa.Column('handover_insurer', sa.String(length=100), nullable=False, server_default=""),
        sa.Column('handover_items', sa.JSON()),
        sa.Column('handover_receipt', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('insurer_decision', text, nullable=False, server_default=""),
        sa.Column('decided_at', when),
        sa.Column('reason_code', sa.String(length=40), nullable=False, server_default=""),
        sa.Column('reason_text', text, nullable=False, server_default=""),
        sa.Column('change_requested', text, nullable=False, server_default=""),
        sa.Column('guidance', text, nullable=False, server_default=""),
        sa.Column('insurer_address', sa.String(length=200), nullable=False, server_default=""),
        sa.Column('guided_at', when),
        sa.Column('done_at', when),
        sa.Column('clock_key', sa.String(length=30)),
        sa.Column('clock_started_at', when),
        sa.Column('clock_due_at', when),
        sa.Column('clock_soon_at', when),
        sa.Column('clock_stopped_at', when),
        sa.Column('clock_late', flag),
        sa.Column('clock_calendar_missing', flag, nullable=False, server_default=sa.false()),
    )
    op.create_index('ix_service_requests_kind_state', 'service_requests', ['kind', 'state', 'received_at'])
    op.create_index('ix_service_requests_policy', 'service_requests', ['policy_id', 'received_at'])
    op.create_index('ix_service_requests_clock', 'service_requests', ['clock_key', 'clock_due_at'])
    op.create_index('ix_service_requests_received', 'service_requests', ['received_at'])
    op.create_table(
        'request_events',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('service_requests.id'), nullable=False),
        sa.Column('actor_id', sa.Integer(), sa.ForeignKey('users.id')),
        sa.Column('actor_label', sa.String(length=60), nullable=False),
        sa.Column('at', when, nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('from_state', sa.String(length=20)),
        sa.Column('to_state', sa.String(length=20)),
        sa.Column('comment', text, nullable=False, server_default=""),
        sa.Column('changes', sa.JSON(), nullable=False),
    )
    op.create_index('ix_request_events_request', 'request_events', ['request_id', 'id'])
    op.create_table(
        'request_contacts',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('service_requests.id'), nullable=False),
        sa.Column('at', when, nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('content', text, nullable=False),
        sa.Column('by_id', sa.Integer(), sa.ForeignKey('users.id')),
        sa.Column('notice_id', sa.Integer(), sa.ForeignKey('notices.id')),
    )
    op.create_index('ix_request_contacts_request', 'request_contacts', ['request_id', 'at'])
    with op.batch_alter_table('notices') as batch:
        batch.add_column(sa.Column('request_id', sa.Integer(), sa.ForeignKey('service_requests.id',
                                                                               name='fk_notices_request')))
        batch.create_index('ix_notices_request_id', ['request_id'])
    _protect_history()


def _protect_history() -> None:
    """A request's history is append-only, as the audit trail is."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER request_events_immutable BEFORE UPDATE OR DELETE ON request_events "
                   "FOR EACH ROW EXECUTE FUNCTION events_immutable()")
        op.execute("CREATE TRIGGER request_events_no_truncate BEFORE TRUNCATE ON request_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION events_immutable()")
        op.execute("ALTER TABLE request_events ENABLE ALWAYS TRIGGER request_events_immutable")
        op.execute("ALTER TABLE request_events ENABLE ALWAYS TRIGGER request_events_no_truncate")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER request_events_no_{verb.lower()} BEFORE {verb} ON request_events "
                       "BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END")
        op.execute("CREATE TRIGGER request_events_no_replace BEFORE INSERT ON request_events "
                   "WHEN EXISTS (SELECT 1 FROM request_events WHERE id = NEW.id) "
                   "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS request_events_no_{name}")
    with op.batch_alter_table('notices') as batch:
        batch.drop_index('ix_notices_request_id')
        batch.drop_column('request_id')
    for table in ('request_contacts', 'request_events', 'service_requests', 'policy_persons', 'policy_risks',
                  'policies', 'products', 'desk_clocks', 'desk_materials', 'desk_choices'):
        op.drop_table(table)
    op.execute("DELETE FROM settings WHERE key IN ('desk.major_threshold', 'desk.scene_hours')")
    with op.batch_alter_table('number_counters') as batch:
        batch.alter_column('period', type_=sa.String(length=4), existing_type=sa.String(length=12))
