"""The registration form of SPEC §2 (客户抱怨处理表) and its validation rules.

`validate_registration` returns every problem at once, keyed by field, so the form can show each
message beside its field; nothing is saved while any remains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from portal.domain.contacts import preference_errors
from portal.domain.errors import Message
from portal.domain.text import clean_address, clean_code, clean_text

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
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
    "product_involved": 200, "expected_resolution": 1000, "complained_staff_other": 200, "clerk_opinion": 1000,
}
MAX_AMOUNT = Decimal("1e12")                 # Numeric(14, 2)
EARLIEST_BIRTH = date(1900, 1, 1)
EARLIEST_RECEIVED = datetime(2000, 1, 1)
MAX_FILE_NAME = 200
BEIJING = ZoneInfo("Asia/Shanghai")
CODE_FIELDS = ("customer_phone", "customer_id_number", "policy_number", "claim_report_number")
ADDRESS_FIELDS = ("customer_email",)      # checked as typed: a space inside is refused, never dropped
MULTILINE_FIELDS = ("description", "expected_resolution", "customer_address", "product_involved",
                    "complained_staff_other", "clerk_opinion")
CHOICE_FIELDS = ("customer_gender", "customer_age_band", "channel", "category", "severity", "urgency",
                 "preferred_contact")
FLAG_FIELDS = ("flag_media", "flag_regulator", "flag_litigation", "flag_deaths", "flag_association")
# the clerk's 签注意见 is required: the form goes to the GM office signed with it (002 art.13.1)
REQUIRED = ("customer_name", "customer_phone", "policy_number", "product", "received_at",
            "channel", "category", "description", "expected_resolution", "clerk_opinion", "severity", "urgency")


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
    clerk_opinion: str = ""                                       # 签注意见: the receiving clerk's view (002 art.13.1)
    complained_staff: list[str] = field(default_factory=list)   # usernames
    complained_staff_other: str = ""                              # names of people not in the system
    severity: str = "general"
    urgency: str = "normal"
    flag_media: bool = False
    flag_regulator: bool = False
    flag_litigation: bool = False
    flag_deaths: bool = False                 # two or more deaths in one accident (002 ch.2 4.(二)6)
    flag_association: bool = False            # a complaint to the insurers' association (同业公会)
    amount_at_stake: str | Decimal | None = None
    joint_complainants: int = 1
    # how the customer wants to be told (SPEC §11: chosen at intake, nothing preset), and whether they take
    # the notices that are not required (progress, follow-up invitation)
    preferred_contact: str = ""
    optional_notices: bool = True

    def normalised(self) -> tuple["RegistrationForm", dict[str, Message]]:
        """The form as it would be stored, and the fields whose values are of the wrong kind.
        Text loses control characters and outer spaces; codes are NFKC-normalised (full-width
        digits become ASCII) and lose spaces; an aware time becomes Beijing time."""
        errors: dict[str, Message] = {}
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in values.items():
            if name in ADDRESS_FIELDS:
                cleaned = clean_address(value)
            elif name in CODE_FIELDS or name in CHOICE_FIELDS:
                cleaned = clean_code(value)
            elif isinstance(self.__dataclass_fields__[name].default, str):
                cleaned = clean_text(value, multiline=name in MULTILINE_FIELDS)
            else:
                continue
            if cleaned is None:
                errors[name] = Message("form.bad_value")
                cleaned = ""
            values[name] = cleaned
        values["received_at"] = moment_field(errors, "received_at", values["received_at"])
        staff = values["complained_staff"]
        if not isinstance(staff, (list, tuple)) or not all(isinstance(s, str) for s in staff):
            errors["complained_staff"] = Message("form.bad_value")
            values["complained_staff"] = []
        else:
            values["complained_staff"] = list(dict.fromkeys(staff))
        for name in FLAG_FIELDS:
            if not isinstance(values[name], bool):
                errors[name] = Message("form.bad_value")
                values[name] = False
        if not isinstance(values["optional_notices"], bool):
            errors["optional_notices"] = Message("form.bad_value")
            values["optional_notices"] = True
        if isinstance(values["joint_complainants"], bool):
            values["joint_complainants"] = 0          # refused below as a count
        if values["amount_at_stake"] is not None and not isinstance(values["amount_at_stake"], (str, Decimal, int)):
            errors["amount_at_stake"] = Message("form.bad_amount")
            values["amount_at_stake"] = None
        return RegistrationForm(**values), errors


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


def id_number_is_valid(value: str, today: date | None = None) -> bool:
    """18-digit resident ID (GB 11643): 17 digits, a real birth date from 1900 to `today`, and
    the ISO 7064 check digit."""
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born < EARLIEST_BIRTH or (today is not None and born > today):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS))
    return ID_CHECK[total % 11] == value[17].upper()


def parse_amount(value: object) -> Decimal | None:
    """An amount in yuan: text (full-width digits and thousands separators allowed), a Decimal or
    an int; at most two decimal places and below one trillion (the column's size). ValueError
    for anything else, including bools and floats (whose cents are not exact)."""
    if isinstance(value, str):
        text = clean_code(value).replace(",", "").replace("，", "")
        if not text:
            return None
        if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", text):
            raise ValueError(value)
        amount = Decimal(text)
    elif value is None:
        return None
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        raise ValueError(value)
    if not amount.is_finite() or amount.as_tuple().exponent < -2 or amount < 0 or amount >= MAX_AMOUNT:
        raise ValueError(value)
    return amount


def choice_message(value: object) -> Message:
    """Nothing chosen yet, or a value that is not one of the choices."""
    return Message("form.choose_one" if value is None or value == "" else "form.unknown_choice")


def text_field(errors: dict[str, Message], name: str, value: object, *, required: bool = True,
               limit: int = 2000, multiline: bool = True) -> str:
    """A free-text field as stored (controls removed, trimmed), with its problem recorded in `errors`."""
    text = clean_text(value, multiline=multiline)
    if text is None:
        errors[name] = Message("form.bad_value")
        return ""
    if required and not text:
        errors[name] = Message("form.required")
    elif len(text) > limit:
        errors[name] = Message("form.too_long", {"max": limit})
    return text


def amount_field(errors: dict[str, Message], name: str, value: object) -> Decimal | None:
    try:
        return parse_amount(value)
    except ValueError:
        errors[name] = Message("form.bad_amount")
        return None


def moment_field(errors: dict[str, Message], name: str, value: object) -> datetime | None:
    """A date and time as stored: naive Beijing time. An aware time is converted; a bare date,
    a time before 2000 or anything else is refused."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        errors[name] = Message("form.bad_value")
        return None
    if value.tzinfo is not None:
        value = value.astimezone(BEIJING).replace(tzinfo=None)
    if value < EARLIEST_RECEIVED:
        errors[name] = Message("form.too_early", {"earliest": EARLIEST_RECEIVED.year})
        return None
    return value


def validate_registration(form: RegistrationForm, *, now: datetime, channels: set[str],
                          categories: set[str], staff: set[str],
                          attachments: list[Attachment], limits: AttachmentLimits
                          ) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    for name in REQUIRED:
        value = getattr(form, name)
        if value is None or (isinstance(value, str) and not value):
            errors[name] = Message("form.choose_one" if name in CHOICE_FIELDS else "form.required")
    for name, limit in MAX_LENGTHS.items():
        value = getattr(form, name)
        if name not in errors and isinstance(value, str) and len(value) > limit:
            errors[name] = Message("form.too_long", {"max": limit})
    if form.customer_phone and "customer_phone" not in errors and not MOBILE.match(form.customer_phone):
        errors["customer_phone"] = Message("form.bad_mobile")
    if form.customer_id_number and "customer_id_number" not in errors \
            and not id_number_is_valid(form.customer_id_number, now.date()):
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
    if "amount_at_stake" not in errors:
        amount_field(errors, "amount_at_stake", form.amount_at_stake)
    if not isinstance(form.joint_complainants, int) or not 1 <= form.joint_complainants <= 100000:
        errors["joint_complainants"] = Message("form.bad_joint_count")
    for name, message in preference_errors(form.preferred_contact, email=form.customer_email,
                                           address=form.customer_address).items():
        errors.setdefault(name, message)
    attachment_error = validate_attachments(attachments, limits)
    if attachment_error:
        errors["attachments"] = attachment_error
    return errors


def clean_attachment(item: object) -> Attachment | None:
    """The attachment with its file name as stored (controls and folders removed), or None when
    it is not an attachment of file name and bytes at all."""
    if not isinstance(item, Attachment) or not isinstance(item.data, (bytes, bytearray)) \
            or not isinstance(item.filename, str):
        return None
    name = clean_text(item.filename)
    if name is None:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    content_type = clean_code(item.content_type) or "application/octet-stream"
    return Attachment(name, content_type[:100], bytes(item.data))


def clean_attachments(attachments: object) -> tuple[list[Attachment], Message | None]:
    """The attachments as stored, or a message when the value is not a list of attachments."""
    if not isinstance(attachments, (list, tuple)):
        return [], Message("form.bad_value")
    cleaned = [clean_attachment(a) for a in attachments]
    if any(a is None for a in cleaned):
        return [], Message("form.bad_value")
    return cleaned, None


def validate_attachments(attachments: list[Attachment], limits: AttachmentLimits) -> Message | None:
    if not isinstance(attachments, (list, tuple)) or any(clean_attachment(a) is None for a in attachments):
        return Message("form.bad_value")
    if len(attachments) > limits.max_files:
        return Message("form.too_many_files", {"max": limits.max_files})
    for item in attachments:
        if not item.filename.strip(". "):
            return Message("form.file_name_missing")
        if len(item.filename) > MAX_FILE_NAME:
            return Message("form.file_name_too_long", {"max": MAX_FILE_NAME})
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
