"""The signed-token e-credential verifier: round trip, expiry, tampering and bad IDs."""

from __future__ import annotations

import datetime as dt

import pytest

from yidi.integrations.ecredential import SignedTokenVerifier
from yidi.kernel.errors import Refused
from yidi.kernel.identity import Gender, make_resident_id

KEY = "unit-ecredential-key-0123456789abcdef"
ID = make_resident_id("430421", dt.date(1955, 3, 8), 123, Gender.MALE).number
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_a_token_names_its_person_until_it_expires() -> None:
    verifier = SignedTokenVerifier(KEY)
    until = NOW + dt.timedelta(minutes=5)
    token = verifier.issue(ID, until)
    assert len(token) <= 50  # mdtrt_cert_no is 文本 50
    identity = verifier.verify(token, NOW)
    assert identity.id_number == ID and identity.expires_at == until
    with pytest.raises(Refused) as expired:
        verifier.verify(token, until)
    assert expired.value.code == "ECREDENTIAL_EXPIRED"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(ID, ID[:-1] + ("0" if ID[-1] != "0" else "1")),  # another person
        lambda t: t.replace("E1.", "E2.", 1),
        lambda t: t + ".x",
        lambda t: "",
    ],
)
def test_a_changed_token_is_invalid(mangle) -> None:  # type: ignore[no-untyped-def]
    token = SignedTokenVerifier(KEY).issue(ID, NOW + dt.timedelta(hours=1))
    with pytest.raises(Refused) as invalid:
        SignedTokenVerifier(KEY).verify(mangle(token), NOW)
    assert invalid.value.code == "ECREDENTIAL_INVALID"


def test_a_signed_token_with_an_invalid_id_number_is_invalid() -> None:
    verifier = SignedTokenVerifier(KEY)
    token = verifier.issue("430421195503081230", NOW + dt.timedelta(hours=1))  # bad check digit
    with pytest.raises(Refused) as invalid:
        verifier.verify(token, NOW)
    assert invalid.value.code == "ECREDENTIAL_INVALID"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        SignedTokenVerifier("short")
