"""The password policy: each rule refuses with the rule named, good passwords pass."""

from __future__ import annotations

import pytest

from yidi.auth.passwords import check_password, common_passwords, policy_text
from yidi.kernel.errors import InvalidInput


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-one", "太短"),
        ("x" * 201, "太长"),
        ("my-name-is-WANG.LI-ok", "用户名"),
        ("hengyang-demo-2017", "演示密码"),
        ("1QAZ2WSX3EDC", "常见密码"),
        ("aaaaaaaaaaaaaaa", "同一字符"),
        ("abcdefghijklmnop", "连续字符"),
        ("987654321098", "常见密码"),
    ],
)
def test_a_weak_password_is_refused_with_the_rule_in_the_message(
    password: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(
            password,
            username="wang.li",
            min_length=12,
            demo_passwords={"hengyang-demo-2017"},
        )
    error = refused.value
    assert error.code == "PASSWORD_POLICY" and error.field == "new_password"
    assert reason in error.message
    rule_zh, rule_en = policy_text(12)
    assert rule_zh in error.message and rule_en in error.message_en


@pytest.mark.parametrize(
    "password", ["lantern-orchard-47", "河边的灯笼与果园2026", "Correct Horse Battery"]
)
def test_a_long_unusual_password_passes(password: str) -> None:
    check_password(password, username="wang.li", min_length=12, demo_passwords={"x"})


def test_the_common_list_is_read_without_its_comments() -> None:
    words = common_passwords()
    assert "1qaz2wsx3edc" in words and not any(w.startswith("#") for w in words)
