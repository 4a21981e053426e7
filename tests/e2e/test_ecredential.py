"""医保电子凭证 (mdtrt_cert_type 01) through the pluggable verifier: with the signed-token
verifier configured, 1101 resolves a valid token, refuses an invalid or expired one, and
2401 / 2201 refuse a token of another person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_hospital_gateway import admit, call, ok, refused

from filing_support import PERSON_ID
from hospital_support import UNFILED_ID
from yidi.integrations.ecredential import SignedTokenVerifier
from yidi.settings import Settings

KEY = "test-ecredential-key-0123456789abcdef"
LATER = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)  # the suite's clock is 2026-11-20 10:00 +08
EARLIER = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        demo_mode=True,
        import_jobs="inline",
        ecredential="signed",
        ecredential_key=KEY,
    )


def _token(id_number: str = PERSON_ID, until: dt.datetime = LATER) -> str:
    return SignedTokenVerifier(KEY).issue(id_number, until)


def _query(client: TestClient, token: str) -> dict[str, Any]:
    return call(client, "1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})


def test_a_valid_token_names_the_person(client: TestClient, world: None) -> None:
    info = ok(_query(client, _token()))["baseinfo"]
    assert info["psn_name"] == "谢某某" and info["psn_no"].startswith("PSN")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (_token(until=EARLIER), "ECREDENTIAL_EXPIRED"),
        (_token()[:-2] + "AA", "ECREDENTIAL_INVALID"),
        (
            SignedTokenVerifier("another-key-0123456789abcdefghijkl").issue(PERSON_ID, LATER),
            "ECREDENTIAL_INVALID",
        ),
        ("not-a-token", "ECREDENTIAL_INVALID"),
    ],
)
def test_an_invalid_or_expired_token_is_refused(
    client: TestClient, world: None, token: str, code: str
) -> None:
    message = refused(_query(client, token), code)
    assert "电子凭证" in message


def test_admission_with_another_persons_token_is_refused(client: TestClient, world: None) -> None:
    psn_no = ok(_query(client, _token()))["baseinfo"]["psn_no"]
    theirs = {"mdtrt_cert_type": "01", "mdtrt_cert_no": _token(UNFILED_ID)}
    refused(admit(client, psn_no, extra=theirs), "ECREDENTIAL_PERSON_MISMATCH")
    expired = {"mdtrt_cert_type": "01", "mdtrt_cert_no": _token(until=EARLIER)}
    refused(admit(client, psn_no, extra=expired), "ECREDENTIAL_EXPIRED")
    own = {"mdtrt_cert_type": "01", "mdtrt_cert_no": _token()}
    assert ok(admit(client, psn_no, extra=own))["result"]["mdtrt_id"]


def test_the_signed_verifier_needs_a_long_key(database_url: str) -> None:
    with pytest.raises(ValueError, match="YIDI_ECREDENTIAL_KEY"):
        Settings(
            database_url=database_url, demo_mode=True, ecredential="signed", ecredential_key="short"
        )
