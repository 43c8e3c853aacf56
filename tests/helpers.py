"""Builders shared by the tests."""
from __future__ import annotations

from datetime import datetime

from portal.domain.validation import RegistrationForm


def a_form(**overrides) -> RegistrationForm:  # noqa: ANN003
    values = dict(customer_name="陈小明", customer_gender="male", customer_age_band="35_44",
                  customer_phone="13812345678", customer_id_number="11010519491231002X",
                  customer_address="北京市朝阳区建国路88号", customer_email="chen@example.com",
                  policy_number="P2025000123", product="机动车辆保险", insured_name="陈小明",
                  received_at=datetime(2025, 9, 30, 9, 0), channel="phone", category="claim_speed",
                  description="报案一个月仍未赔付。", expected_resolution="尽快赔付。",
                  severity="general", urgency="normal")
    values.update(overrides)
    return RegistrationForm(**values)


def row_counts(url: str) -> dict[str, int]:
    """How many rows each table of the database at `url` holds (to show a database was left alone)."""
    from sqlalchemy import inspect
    from portal.persistence.database import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {table: connection.exec_driver_sql(f'SELECT COUNT(*) FROM "{table}"').scalar()
                    for table in inspect(engine).get_table_names()}
    finally:
        engine.dispose()
