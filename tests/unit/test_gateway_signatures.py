"""Header signatures of the gateway: both schemes against vectors computed here from the
documented recipes (NHSA-INTERFACE.md §1.1), one captured from a public client, and the
verifier's refusals."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from starlette.datastructures import Headers

from yidi.integrations.nhsa.gateway_auth import (
    GatewayCredential,
    GatewayRefused,
    HeaderVerifier,
    NonceCache,
    Scheme,
    hn_signature,
    hn_string_to_sign,
    tif_signature,
)

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
NOW_SECONDS = int(NOW.timestamp())
HN_KEY = GatewayCredential("AK-H43", "hn-secret-0123456789", Scheme.HN, frozenset({"H1"}))
TIF_KEY = GatewayCredential("hptest", "tif-secret-0123456789", Scheme.X_TIF, frozenset({"H1"}))


def verifier(nonces: NonceCache | None = None) -> HeaderVerifier:
    return HeaderVerifier({"AK-H43": HN_KEY, "hptest": TIF_KEY}, nonces=nonces)


def hn_headers(
    secret: str = HN_KEY.secret, *, at: dt.datetime = NOW, key: str = "AK-H43"
) -> dict[str, str]:
    timestamp = str(int(at.timestamp() * 1000))
    text = f"_api_access_key={key}&_api_name=api_2401&_api_timestamp={timestamp}&_api_version=1.0.0"
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return {
        "_api_name": "api_2401",
        "_api_version": "1.0.0",
        "_api_timestamp": timestamp,
        "_api_access_key": key,
        "_api_signature": base64.b64encode(digest).decode(),
    }


def tif_headers(
    secret: str = TIF_KEY.secret,
    *,
    at: dt.datetime = NOW,
    nonce: str = "n0nce-A1",
    key: str = "hptest",
) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hashlib.sha256((timestamp + secret + nonce + timestamp).encode()).hexdigest()
    return {
        "x-tif-paasid": key,
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": digest,
    }


def refusal(headers: dict[str, str], *, at: dt.datetime = NOW) -> GatewayRefused:
    with pytest.raises(GatewayRefused) as caught:
        verifier().verify(Headers(headers), at)
    return caught.value


# --------------------------------------------------------------------------- vectors


def test_hn_string_to_sign_sorts_the_four_api_headers_by_name() -> None:
    text = hn_string_to_sign(
        api_name="api_1101", api_version="1.0.0", timestamp="1700000000000", access_key="AK"
    )
    assert text == (
        "_api_access_key=AK&_api_name=api_1101&_api_timestamp=1700000000000&_api_version=1.0.0"
    )


def test_hn_signature_is_base64_of_hmac_sha1_with_the_secret() -> None:
    expected = base64.b64encode(
        hmac.new(
            b"SK-123",
            b"_api_access_key=AK&_api_name=1101&_api_timestamp=1700000000000&_api_version=V1",
            hashlib.sha1,
        ).digest()
    ).decode()
    assert (
        hn_signature(
            "SK-123", api_name="1101", api_version="V1", timestamp="1700000000000", access_key="AK"
        )
        == expected
    )
    assert len(expected) == 28  # 20 bytes of SHA-1 in Base64


def test_tif_signature_is_hex_sha256_of_timestamp_secret_nonce_timestamp() -> None:
    expected = hashlib.sha256(b"1700000000" + b"L950secret" + b"abc-123" + b"1700000000")
    assert tif_signature("L950secret", timestamp="1700000000", nonce="abc-123") == (
        expected.hexdigest()
    )


def test_tif_signature_matches_a_request_captured_from_the_national_service_hall() -> None:
    """Headers of a public request script for fuwu.nhsa.gov.cn (code-index file id
    32555033790, the repository name not given by the index): x-tif-timestamp 1720489942,
    x-tif-nonce M0mc5pgk, paasid "undefined", whose web front end signs with an empty token."""
    assert (
        tif_signature("", timestamp="1720489942", nonce="M0mc5pgk")
        == "67991916da3259a78eac1925bbeb617eef5847841c51aa25064f63d2e7be0fdf"
    )


# --------------------------------------------------------------------------- verifier


def test_both_schemes_verify_and_answer_their_credential() -> None:
    assert verifier().verify(Headers(hn_headers()), NOW) is HN_KEY
    assert verifier().verify(Headers(tif_headers()), NOW) is TIF_KEY


def test_upper_case_tif_signature_and_mixed_case_header_names_are_accepted() -> None:
    headers = tif_headers()
    upper = {
        "X-Tif-PaasId": headers["x-tif-paasid"],
        "X-TIF-TIMESTAMP": headers["x-tif-timestamp"],
        "x-tif-Nonce": headers["x-tif-nonce"],
        "x-tif-signature": headers["x-tif-signature"].upper(),
    }
    assert verifier().verify(Headers(upper), NOW) is TIF_KEY


def test_no_gateway_header_and_a_missing_one_are_refused_as_missing_headers() -> None:
    assert refusal({}).message == "缺少服务网关的请求头!"
    partial = hn_headers()
    del partial["_api_version"]
    missing = refusal(partial)
    assert missing.code == "NHSA_GATEWAY_HEADERS_MISSING" and "_api_version" in missing.reason
    no_nonce = tif_headers()
    del no_nonce["x-tif-nonce"]
    assert refusal(no_nonce).message == "缺少服务网关的请求头!"


def test_a_timestamp_just_inside_thirty_minutes_passes_and_just_outside_is_refused() -> None:
    inside = NOW - dt.timedelta(minutes=30)
    assert verifier().verify(Headers(hn_headers(at=inside)), NOW) is HN_KEY
    assert verifier().verify(Headers(tif_headers(at=inside)), NOW) is TIF_KEY
    for at in (NOW - dt.timedelta(minutes=30, seconds=1), NOW + dt.timedelta(minutes=31)):
        assert refusal(hn_headers(at=at)).message == "签名时间戳超时!"
        assert refusal(tif_headers(at=at)).code == "NHSA_GATEWAY_TIMESTAMP_EXPIRED"


def test_an_unreadable_timestamp_is_refused_as_out_of_window() -> None:
    headers = tif_headers()
    headers["x-tif-timestamp"] = "yesterday"
    assert refusal(headers).message == "签名时间戳超时!"


def test_the_window_is_configurable() -> None:
    short = HeaderVerifier({"hptest": TIF_KEY}, window=dt.timedelta(seconds=60))
    with pytest.raises(GatewayRefused, match="签名时间戳超时"):
        short.verify(Headers(tif_headers(at=NOW - dt.timedelta(seconds=61))), NOW)


def test_an_unknown_key_and_a_key_of_the_other_scheme_are_illegal_users() -> None:
    assert refusal(tif_headers(key="nobody")).message == "非法用户!"
    assert refusal(hn_headers(key="nobody")).code == "NHSA_GATEWAY_ILLEGAL_USER"
    # hptest is an x-tif key: signing HN headers with its secret is still refused.
    cross = refusal(hn_headers(TIF_KEY.secret, key="hptest"))
    assert cross.message == "非法用户!" and "scheme" in cross.reason


def test_a_wrong_secret_is_refused_as_a_signature_mismatch() -> None:
    assert refusal(hn_headers("not-the-secret")).message == "签名不一致!"
    assert refusal(tif_headers("not-the-secret")).code == "NHSA_GATEWAY_SIGNATURE_MISMATCH"


def test_a_non_ascii_signature_is_refused_not_an_error() -> None:
    headers = tif_headers()
    headers["x-tif-signature"] = "é" * 64  # latin-1 header text, as a server decodes it
    assert refusal(headers).message == "签名不一致!"


def test_a_reused_nonce_is_refused_within_the_window_and_other_keys_may_use_it() -> None:
    nonces = NonceCache()
    check = verifier(nonces)
    assert check.verify(Headers(tif_headers()), NOW) is TIF_KEY
    with pytest.raises(GatewayRefused) as caught:
        check.verify(Headers(tif_headers()), NOW + dt.timedelta(seconds=5))
    assert caught.value.message == "签名时间戳超时!" and caught.value.reason == "nonce reused"
    other = GatewayCredential("second", "other-secret-000000", Scheme.X_TIF, frozenset({"H2"}))
    both = HeaderVerifier({"hptest": TIF_KEY, "second": other}, nonces=nonces)
    assert (
        both.verify(Headers(tif_headers(other.secret, key="second")), NOW + dt.timedelta(seconds=5))
        is other
    )


def test_a_bad_signature_does_not_use_up_the_nonce() -> None:
    nonces = NonceCache()
    check = verifier(nonces)
    with pytest.raises(GatewayRefused):
        check.verify(Headers(tif_headers("forged-secret")), NOW)
    assert len(nonces) == 0
    assert check.verify(Headers(tif_headers()), NOW) is TIF_KEY


def test_nonces_are_forgotten_once_their_window_has_passed() -> None:
    nonces = NonceCache()
    assert nonces.first_use("k", "n", now=NOW, until=NOW + dt.timedelta(minutes=30))
    assert not nonces.first_use("k", "n", now=NOW, until=NOW + dt.timedelta(minutes=30))
    later = NOW + dt.timedelta(minutes=31)
    assert nonces.first_use("k", "other", now=later, until=later + dt.timedelta(minutes=30))
    assert len(nonces) == 1  # the expired entry was purged


def test_a_credential_acts_only_for_its_hospitals_and_hides_its_secret() -> None:
    assert HN_KEY.may_act_for("H1") and not HN_KEY.may_act_for("H2")
    assert HN_KEY.secret not in repr(HN_KEY)


def test_an_hn_header_set_is_good_for_one_request_only() -> None:
    check = verifier(NonceCache())
    headers = Headers(hn_headers())
    assert check.verify(headers, NOW) is HN_KEY
    with pytest.raises(GatewayRefused) as caught:
        check.verify(headers, NOW + dt.timedelta(seconds=1))
    assert caught.value.message == "签名时间戳超时!" and caught.value.reason == "nonce reused"
    # The next request, signed a millisecond later, has a signature of its own.
    later = NOW + dt.timedelta(milliseconds=1)
    assert check.verify(Headers(hn_headers(at=later)), later) is HN_KEY


def test_an_hn_signature_binds_the_transaction_and_x_tif_cannot() -> None:
    signed = verifier().verify_request(Headers(hn_headers()), NOW)  # _api_name=api_2401
    signed.check_transaction("2401")
    with pytest.raises(GatewayRefused) as other:
        signed.check_transaction("2304")
    assert other.value.message == "签名不一致!" and "api_2401" in other.value.reason
    tif = verifier().verify_request(Headers(tif_headers()), NOW)
    assert tif.signed_api_name is None
    tif.check_transaction("2304")  # nothing in an x-tif signature names the transaction


def test_an_over_long_nonce_is_refused_before_it_is_stored() -> None:
    nonces = NonceCache()
    with pytest.raises(GatewayRefused) as caught:
        verifier(nonces).verify(Headers(tif_headers(nonce="n" * 121)), NOW)
    assert caught.value.code == "NHSA_GATEWAY_SIGNATURE_MISMATCH" and len(nonces) == 0
