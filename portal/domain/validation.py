"""The registration form of SPEC §2 (客户抱怨处理表) and its validation rules.

`validate_registration` returns every problem at once, keyed by field, so the form can show each
message beside its field; nothing is saved while any remains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from portal.domain.errors import Message

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

GENDERS = ("male", "female", "unspecified")
AGE_BANDS = ("under_25", "25_34", "35_44", "45_54", "55_64", "65_plus", "unknown")
SEVERITIES = ("general", "important", "major")       # 一般 / 重要 / 重大
URGENCIES = ("normal", "urgent", "very_urgent")

# Longest text each field accepts (phone and ID number have exact formats instead).
MAX_LENGTHS = {
    "customer_name": 50, "customer_occupation": 50,
    "customer_address": 200, "customer_email": 100, "policy_number": 40, "product": 60,
    "insured_name": 50, "claim_report_number": 40, "description": 4000,
    "product_involved": 200, "expected_resolution": 1000, "complained_staff_other": 200,
}
REQUIRED = ("customer_name", "customer_phone", "policy_number", "product", "received_at",
            "channel", "category", "description", "expected_resolution", "severity", "urgency")


@dataclass
class RegistrationForm:
    customer_name: str = ""
    customer_gender: str = "unspecified"
    customer_age_band: str = "unknown"
    customer_occupation: str = ""
    customer_phone: str = ""
    customer_id_number: str = ""
    customer_address: str = ""
    customer_email: str = ""
    policy_number: str = ""
    product: str = ""
    insured_name: str = ""
    claim_report_number: str = ""
    received_at: datetime | None = None
    channel: str = ""
    category: str = ""
    description: str = ""
    product_involved: str = ""
    expected_resolution: str = ""
    complained_staff: list[str] = field(default_factory=list)   # usernames
    complained_staff_other: str = ""                              # names of people not in the system
    severity: str = "general"
    urgency: str = "normal"
    flag_media: bool = False
    flag_regulator: bool = False
    flag_litigation: bool = False
    amount_at_stake: str | Decimal | None = None
    joint_complainants: int = 1

    def stripped(self) -> "RegistrationForm":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in values.items():
            if isinstance(value, str):
                values[key] = value.strip()
        return RegistrationForm(**values)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    max_files: int
    allowed_extensions: tuple[str, ...]


def id_number_is_valid(value: str) -> bool:
    """18-digit resident ID (GB 11643): 17 digits, a real birth date, and the ISO 7064 check digit."""
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS))
    return ID_CHECK[total % 11] == value[17].upper()


def parse_amount(value: str | Decimal | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(value) from None
    if not amount.is_finite():
        raise ValueError(value)
    return amount


def validate_registration(form: RegistrationForm, *, now: datetime, channels: set[str],
                          categories: set[str], staff: set[str],
                          attachments: list[Attachment], limits: AttachmentLimits
                          ) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    for name in REQUIRED:
        value = getattr(form, name)
        if value is None or (isinstance(value, str) and not value):
            errors[name] = Message("form.required")
    for name, limit in MAX_LENGTHS.items():
        value = getattr(form, name)
        if name not in errors and isinstance(value, str) and len(value) > limit:
            errors[name] = Message("form.too_long", {"max": limit})
    if form.customer_phone and "customer_phone" not in errors and not MOBILE.match(form.customer_phone):
        errors["customer_phone"] = Message("form.bad_mobile")
    if form.customer_id_number and "customer_id_number" not in errors \
            and not id_number_is_valid(form.customer_id_number):
        errors["customer_id_number"] = Message("form.bad_id_number")
    if form.customer_email and "customer_email" not in errors and not EMAIL.match(form.customer_email):
        errors["customer_email"] = Message("form.bad_email")
    if form.received_at is not None and form.received_at > now:
        errors["received_at"] = Message("form.received_in_future")
    for name, allowed in (("channel", channels), ("category", categories),
                          ("customer_gender", GENDERS), ("customer_age_band", AGE_BANDS),
                          ("severity", SEVERITIES), ("urgency", URGENCIES)):
        if name not in errors and getattr(form, name) not in allowed:
            errors[name] = Message("form.unknown_choice")
    unknown_staff = [s for s in form.complained_staff if s not in staff]
    if unknown_staff:
        errors["complained_staff"] = Message("form.unknown_staff", {"names": ", ".join(unknown_staff)})
    try:
        amount = parse_amount(form.amount_at_stake)
        if amount is not None and (amount < 0 or amount >= Decimal("1e12")):
            errors["amount_at_stake"] = Message("form.bad_amount")
    except ValueError:
        errors["amount_at_stake"] = Message("form.bad_amount")
    if not isinstance(form.joint_complainants, int) or not 1 <= form.joint_complainants <= 100000:
        errors["joint_complainants"] = Message("form.bad_joint_count")
    attachment_error = validate_attachments(attachments, limits)
    if attachment_error:
        errors["attachments"] = attachment_error
    return errors


def validate_attachments(attachments: list[Attachment], limits: AttachmentLimits) -> Message | None:
    if len(attachments) > limits.max_files:
        return Message("form.too_many_files", {"max": limits.max_files})
    for item in attachments:
        extension = item.filename.rsplit(".", 1)[-1].lower() if "." in item.filename else ""
        if extension not in limits.allowed_extensions:
            return Message("form.bad_file_type", {"name": item.filename,
                                                  "allowed": ", ".join(limits.allowed_extensions)})
        if len(item.data) > limits.max_bytes:
            return Message("form.file_too_big", {"name": item.filename,
                                                 "max_mb": round(limits.max_bytes / 1048576, 1)})
        if not item.data:
            return Message("form.file_empty", {"name": item.filename})
    return None
