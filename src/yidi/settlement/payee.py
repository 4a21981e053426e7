"""The payee of a manual reimbursement (收款人、开户银行、银行账号), checked field by field.

Each faulty field gets its own stable code and message, so a form can show them all at
once; the use case raises the first. The account is kept as digits (spaces typed for
readability are dropped) and shown masked everywhere but the handler's claim page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from yidi.kernel.errors import InvalidInput
from yidi.kernel.privacy import mask_bank_account

# A format check, not a policy rule: Chinese bank card numbers have 16-19 digits and
# corporate settlement accounts up to about 30; fewer than 8 is always a typing error.
_ACCOUNT: Final = re.compile(r"[0-9]{8,32}")
MAX_NAME: Final = 50
MAX_BANK: Final = 100


@dataclass(frozen=True, slots=True)
class Payee:
    name: str
    bank: str
    account: str  # digits only

    @property
    def account_masked(self) -> str:
        return mask_bank_account(self.account)


def payee_problems(name: str, bank: str, account: str) -> dict[str, InvalidInput]:
    """Every faulty payee field (``payee_name``, ``payee_bank``, ``payee_account``); empty
    when all three are right, or all three are left blank (the payee comes later)."""
    name, bank, digits = name.strip(), bank.strip(), "".join(account.split())
    if not (name or bank or digits):
        return {}
    found: dict[str, InvalidInput] = {}
    if not name or len(name) > MAX_NAME:
        found["payee_name"] = InvalidInput(
            "PAYEE_NAME_INVALID",
            f"请填写收款人姓名（不超过{MAX_NAME}个字）",
            f"enter the payee's name (at most {MAX_NAME} characters)",
            field="payee_name",
        )
    if not bank or len(bank) > MAX_BANK:
        found["payee_bank"] = InvalidInput(
            "PAYEE_BANK_INVALID",
            f"请填写开户银行（不超过{MAX_BANK}个字）",
            f"enter the payee's bank (at most {MAX_BANK} characters)",
            field="payee_bank",
        )
    if not _ACCOUNT.fullmatch(digits):
        found["payee_account"] = InvalidInput(
            "PAYEE_ACCOUNT_INVALID",
            "银行账号应为8至32位数字",
            "the bank account number must be 8 to 32 digits",
            field="payee_account",
        )
    return found


def payee_of(name: str, bank: str, account: str) -> Payee | None:
    """The payee, None when all three fields are blank; the first fault is raised."""
    problems = payee_problems(name, bank, account)
    if problems:
        raise next(iter(problems.values()))
    if not (name.strip() or bank.strip() or account.strip()):
        return None
    return Payee(name.strip(), bank.strip(), "".join(account.split()))
