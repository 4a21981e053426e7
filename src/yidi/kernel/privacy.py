"""Masking of personal data for screens, exports and logs (脱敏): the one ID-number mask,
phone numbers, and ID or mobile numbers inside free text."""

from __future__ import annotations

import re
from typing import Final

from yidi.kernel.errors import InvalidInput
from yidi.kernel.identity import ResidentId

_MOBILE: Final = re.compile(r"(?:\+?86)?(1[3-9]\d)(\d{4})(\d{4})")
# Landline: area code 0 + 2-3 digits, optional separator, 7-8 digit local number.
_LANDLINE: Final = re.compile(r"(0\d{2,3})([-\s]?)(\d{3,4})(\d{4})")


def mask_id_number(id_number: str) -> str:
    """An ID number as lists and logs show it: region and last four kept, the birth date
    hidden (``430421********1234``); anything that is not a valid ID keeps its last four."""
    try:
        return ResidentId.parse(id_number).masked()
    except InvalidInput:
        return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def mask_bank_account(account: str) -> str:
    """A bank account number as lists, logs and the printed notice show it: the last four
    digits only (``**** 1234``), so a leaked page never gives the account away."""
    digits = "".join(account.split())
    return f"**** {digits[-4:]}" if digits else ""


def mask_phone(text: str) -> str:
    """Hide the middle of a phone number.

    Mobiles keep the first 3 and last 4 digits (``138****5678``); landlines keep
    the area code and last 4 digits (``0734-***7038``). Anything else keeps only
    its last 4 characters, so an unusual format never leaks in full.
    """
    compact = (
        "".join(text.split()).replace("-", "")
        if text.strip().startswith(("1", "+"))
        else text.strip()
    )
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return f"{mobile.group(1)}****{mobile.group(3)}"
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        area, separator, middle, last4 = landline.groups()
        return f"{area}{separator or '-'}{'*' * len(middle)}{last4}"
    if len(compact) <= 4:
        return "*" * len(compact)
    return "*" * (len(compact) - 4) + compact[-4:]


# An ID number (18 digits, the last may be X; or the legacy 15 digits) or a mobile number
# inside free text. A digit on either side means it is part of a longer number.
_ID_IN_TEXT: Final = re.compile(r"(?<!\d)(\d{6})(\d{8}|\d{6})(\d{3}[\dXx]|\d)(?!\d)")
_MOBILE_IN_TEXT: Final = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def redact_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text (log lines, error texts)."""

    def _id(match: re.Match[str]) -> str:
        whole = match.group(0)
        if len(whole) not in (15, 18):
            return whole
        return whole[:6] + "*" * (len(whole) - 10) + whole[-4:]

    masked = _ID_IN_TEXT.sub(_id, text)
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", masked)
