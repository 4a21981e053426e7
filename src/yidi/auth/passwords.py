"""The password policy (口令策略): what a new password must be, and why it was refused.

A password is refused when it is shorter than the minimum length, is or contains the user
name, is a demo password (published in the repository) or a commonly used one, or consists
of one repeated character or a plain run (``abcdef…``, ``123456…``). Length, not forced
character classes, is what makes a password hard to guess (NIST SP 800-63B, section 3.1.1.2,
https://pages.nist.gov/800-63-4/sp800-63b.html); the refusal always states the rule.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from importlib import resources

from yidi.kernel.errors import InvalidInput

MAX_PASSWORD_LENGTH = 200


@functools.cache
def common_passwords() -> frozenset[str]:
    text = (
        resources.files("yidi")
        .joinpath("data", "security", "common_passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _is_plain_run(password: str) -> bool:
    if len(set(password)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1})


def policy_text(min_length: int) -> tuple[str, str]:
    """The rule in words (Chinese, English), as shown next to every password field."""
    return (
        f"密码至少 {min_length} 个字符，不能包含用户名，不能是演示密码或常见密码，"
        "不能是同一字符重复或连续字符",
        f"at least {min_length} characters, must not contain the user name, must not be a "
        "demo or common password, nor one repeated character or a plain run",
    )


def check_password(
    password: str,
    *,
    username: str,
    min_length: int,
    demo_passwords: Iterable[str] = (),
    field: str = "new_password",
) -> None:
    """Raise :class:`InvalidInput` (``PASSWORD_POLICY``) naming the broken rule."""
    rule_zh, rule_en = policy_text(min_length)

    def refuse(reason_zh: str, reason_en: str) -> InvalidInput:
        return InvalidInput(
            "PASSWORD_POLICY",
            f"{reason_zh}（规则：{rule_zh}）",
            f"{reason_en} (rule: {rule_en})",
            field=field,
        )

    if len(password) < min_length:
        raise refuse(f"密码太短，至少 {min_length} 个字符", f"too short: at least {min_length}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise refuse(
            f"密码太长，最多 {MAX_PASSWORD_LENGTH} 个字符",
            f"too long: at most {MAX_PASSWORD_LENGTH}",
        )
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise refuse("密码不能包含用户名", "contains the user name")
    if lowered in {p.lower() for p in demo_passwords}:
        raise refuse("不能使用演示密码", "is a demo password")
    if lowered in common_passwords():
        raise refuse("这是常见密码，容易被猜中", "is a commonly used password")
    if _is_plain_run(password):
        raise refuse("不能是同一字符重复或连续字符", "is one repeated character or a plain run")
