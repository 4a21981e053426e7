"""Header authentication of hospital systems at the gateway (服务网关鉴权).

Two schemes real hospital clients send (NHSA-INTERFACE.md §1.1):

* ``hn``, the Hunan "服务网关" (HN tables 5–6, SDK ``gateway_auth.py``): headers
  ``_api_name``, ``_api_version``, ``_api_timestamp`` (13-digit milliseconds),
  ``_api_access_key`` and ``_api_signature`` = Base64(HmacSHA1(secret, string)) where the
  string is the four other ``_api_*`` headers sorted by name and joined as ``k=v`` with
  ``&``. A timestamp more than 30 minutes away is refused.
* ``x-tif``, the Tencent PaaS gateway (OHS ``yibao/info.py``, OH ``ClassHelper.cs``):
  headers ``x-tif-paasid``, ``x-tif-timestamp`` (seconds), ``x-tif-nonce`` and
  ``x-tif-signature`` = hex SHA-256 of ``timestamp + secret + nonce + timestamp``, in lower
  case (OHS) or upper case (others).

Neither signature covers the body: what binds a request to the hospital is the check that
the envelope's ``fixmedins_code`` is one the credential may act for. What binds it further:

* every signature is good for one request only. An x-tif nonce, and an HN signature (its
  millisecond timestamp makes it unique per request), is remembered in a
  :class:`NonceStore` until its timestamp leaves the window, so a captured header set
  cannot be sent again (the service keeps them in the database, shared by all workers and
  kept across restarts);
* an HN signature covers ``_api_name``, which names the transaction (``api_{infno}``, the
  SDK's default, or ``{infno}``): :meth:`Verified.check_transaction` refuses an envelope of
  another transaction. x-tif signs no transaction field, and neither scheme signs the
  ``msgid`` or the input: a header set intercepted before it reached yidi can still carry
  another body once (docs/nhsa-gateway.md, "What each scheme protects").

Refusals carry one of the four messages the HN gateway itself answers, so a caller learns no
more than it would there; the precise reason (``reason``) goes to the refusal log only.

Pure: the current time is an argument, nothing here reads a clock or a file.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from yidi.kernel.errors import Unauthenticated

DEFAULT_TIMESTAMP_WINDOW: Final = dt.timedelta(minutes=30)  # HN 服务网关: 30 minutes


class Scheme(enum.StrEnum):
    """Which header scheme a hospital client signs with."""

    HN = "hn"  # 湖南服务网关 _api_* HmacSHA1
    X_TIF = "x-tif"  # 腾讯 TIF 网关 x-tif-* SHA-256


HN_HEADERS: Final = (
    "_api_name",
    "_api_version",
    "_api_timestamp",
    "_api_access_key",
    "_api_signature",
)
TIF_HEADERS: Final = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A stable code and the HN gateway's own wording for one kind of refusal."""

    code: str
    message: str
    message_en: str


HEADERS_MISSING: Final = Refusal(
    "NHSA_GATEWAY_HEADERS_MISSING", "缺少服务网关的请求头!", "gateway headers missing"
)
TIMESTAMP_EXPIRED: Final = Refusal(
    "NHSA_GATEWAY_TIMESTAMP_EXPIRED", "签名时间戳超时!", "signature timestamp out of window"
)
ILLEGAL_USER: Final = Refusal("NHSA_GATEWAY_ILLEGAL_USER", "非法用户!", "illegal user")
SIGNATURE_MISMATCH: Final = Refusal(
    "NHSA_GATEWAY_SIGNATURE_MISMATCH", "签名不一致!", "signature mismatch"
)


class GatewayRefused(Unauthenticated):
    """A request the gateway refuses; ``reason`` is for the audit log, never the reply."""

    def __init__(self, refusal: Refusal, reason: str, *, access_key: str = "") -> None:
        super().__init__(refusal.code, refusal.message, refusal.message_en)
        self.reason = reason
        self.access_key = access_key


@dataclass(frozen=True, slots=True)
class GatewayCredential:
    """One hospital client's key: access key / paasid, secret, scheme, and the
    定点医药机构编号 (fixmedins_code) it may act for."""

    access_key: str
    secret: str = field(repr=False)
    scheme: Scheme
    hospital_codes: frozenset[str]

    def may_act_for(self, fixmedins_code: str) -> bool:
        return fixmedins_code in self.hospital_codes


# --------------------------------------------------------------------------- signatures


def hn_string_to_sign(*, api_name: str, api_version: str, timestamp: str, access_key: str) -> str:
    """The four ``_api_*`` values sorted by header name, joined as ``k=v&k=v``."""
    values = {
        "_api_access_key": access_key,
        "_api_name": api_name,
        "_api_timestamp": timestamp,
        "_api_version": api_version,
    }
    return "&".join(f"{name}={values[name]}" for name in sorted(values))


def hn_signature(
    secret: str, *, api_name: str, api_version: str, timestamp: str, access_key: str
) -> str:
    """Base64(HmacSHA1(secret, string to sign)), UTF-8 throughout (HN, SDK)."""
    message = hn_string_to_sign(
        api_name=api_name, api_version=api_version, timestamp=timestamp, access_key=access_key
    )
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def tif_signature(secret: str, *, timestamp: str, nonce: str) -> str:
    """Lower-case hex SHA-256 of ``timestamp + secret + nonce + timestamp`` (OHS, OH)."""
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


def _hn_expected(secret: str, signed: Mapping[str, str]) -> str:
    return hn_signature(
        secret,
        api_name=signed["_api_name"],
        api_version=signed["_api_version"],
        timestamp=signed["_api_timestamp"],
        access_key=signed["_api_access_key"],
    )


def _tif_expected(secret: str, signed: Mapping[str, str]) -> str:
    return tif_signature(secret, timestamp=signed["x-tif-timestamp"], nonce=signed["x-tif-nonce"])


@dataclass(frozen=True, slots=True)
class _SchemeHeaders:
    """A scheme's headers: which carry the access key, the timestamp and the signature, and
    the signature they should carry."""

    names: tuple[str, ...]
    access_key: str
    timestamp: str
    signature: str
    expected: Callable[[str, Mapping[str, str]], str]


_SCHEME_HEADERS: Final[Mapping[Scheme, _SchemeHeaders]] = {
    Scheme.HN: _SchemeHeaders(
        HN_HEADERS, "_api_access_key", "_api_timestamp", "_api_signature", _hn_expected
    ),
    Scheme.X_TIF: _SchemeHeaders(
        TIF_HEADERS, "x-tif-paasid", "x-tif-timestamp", "x-tif-signature", _tif_expected
    ),
}


def _same(expected: str, presented: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII text, and headers may carry any byte.
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


# --------------------------------------------------------------------------- replay


class NonceStore(Protocol):
    """Where used nonces are remembered until their timestamp leaves the window."""

    def first_use(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool:
        """Remember the nonce until ``until``; False when it was already used."""
        ...


class NonceCache:
    """Nonces seen within the timestamp window, per key, in this process only.

    A nonce is remembered only after its signature verified, so unauthenticated traffic
    cannot grow the cache; entries are dropped once their timestamp leaves the window.
    For one process and tests: the service uses a store in the database, which every
    worker shares and which survives a restart.
    """

    def __init__(self) -> None:
        self._expires_at: dict[tuple[str, str], dt.datetime] = {}
        self._lock = threading.Lock()
        self._next_purge_at: dt.datetime | None = None

    def first_use(
        self, access_key: str, nonce: str, *, now: dt.datetime, until: dt.datetime
    ) -> bool:
        """Remember the nonce until ``until``; False when it was already used."""
        with self._lock:
            if self._next_purge_at is None or now >= self._next_purge_at:
                self._expires_at = {k: v for k, v in self._expires_at.items() if v > now}
                self._next_purge_at = now + dt.timedelta(seconds=60)
            key = (access_key, nonce)
            known = self._expires_at.get(key)
            if known is not None and known > now:
                return False
            self._expires_at[key] = until
            return True

    def __len__(self) -> int:
        return len(self._expires_at)


# --------------------------------------------------------------------------- verification


def _epoch(text: str) -> dt.datetime | None:
    """A Unix timestamp in seconds (10 digits) or milliseconds (13 digits), in UTC."""
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    seconds = value / 1000 if len(text) >= 12 else value
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


MAX_NONCE_LENGTH: Final = 120  # stored with a scheme prefix in a 128-character column


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose headers verified: the credential, and the transaction the signature
    names (HN ``_api_name``; None for x-tif, which signs none)."""

    credential: GatewayCredential
    signed_api_name: str | None = None

    def check_transaction(self, infno: str) -> None:
        """Refuse an envelope of another transaction than the one the signature names."""
        if self.signed_api_name is None:
            return
        if self.signed_api_name not in (infno, f"api_{infno}"):
            raise GatewayRefused(
                SIGNATURE_MISMATCH,
                f"_api_name {self.signed_api_name[:40]} signed, envelope infno {infno[:8]}",
                access_key=self.credential.access_key,
            )


class HeaderVerifier:
    """Checks one request's headers against the credentials; answers the credential."""

    def __init__(
        self,
        credentials: Mapping[str, GatewayCredential],
        *,
        window: dt.timedelta = DEFAULT_TIMESTAMP_WINDOW,
        nonces: NonceStore | None = None,
    ) -> None:
        self._credentials = dict(credentials)
        self._window = window
        self._nonces: NonceStore = nonces if nonces is not None else NonceCache()

    def knows(self, access_key: str) -> bool:
        return access_key in self._credentials

    def verify(self, headers: Mapping[str, str], now: dt.datetime) -> GatewayCredential:
        """The credential that signed these headers, or raise :class:`GatewayRefused`.

        ``headers`` must look names up case-insensitively (Starlette's ``Headers`` does).
        """
        return self.verify_request(headers, now).credential

    def verify_request(self, headers: Mapping[str, str], now: dt.datetime) -> Verified:
        """Verify the headers and use up their signature; answer what they bind."""
        if any(name in headers for name in HN_HEADERS):
            return self._verify_hn(headers, now)
        if any(name in headers for name in TIF_HEADERS):
            return self._verify_tif(headers, now)
        raise GatewayRefused(HEADERS_MISSING, "no gateway headers")

    def _use_once(
        self, access_key: str, nonce: str, signed_at: dt.datetime, now: dt.datetime
    ) -> None:
        # Used-up signatures read as expired: the right fix for the client is to sign anew.
        if not self._nonces.first_use(access_key, nonce, now=now, until=signed_at + self._window):
            raise GatewayRefused(TIMESTAMP_EXPIRED, "nonce reused", access_key=access_key)

    def _present(self, headers: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
        values = {name: headers.get(name) for name in names}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise GatewayRefused(HEADERS_MISSING, "missing " + ",".join(missing))
        return {name: str(value) for name, value in values.items()}

    def _check_time(self, text: str, now: dt.datetime, access_key: str) -> dt.datetime:
        signed_at = _epoch(text)
        if signed_at is None:
            raise GatewayRefused(TIMESTAMP_EXPIRED, "unreadable timestamp", access_key=access_key)
        if abs(now - signed_at) > self._window:
            raise GatewayRefused(
                TIMESTAMP_EXPIRED,
                f"timestamp {int((now - signed_at).total_seconds())} s from now",
                access_key=access_key,
            )
        return signed_at

    def _credential(self, access_key: str, scheme: Scheme) -> GatewayCredential:
        credential = self._credentials.get(access_key)
        if credential is None:
            raise GatewayRefused(ILLEGAL_USER, "unknown access key", access_key=access_key)
        if credential.scheme is not scheme:
            raise GatewayRefused(
                ILLEGAL_USER, f"key is for scheme {credential.scheme}", access_key=access_key
            )
        return credential

    def _signed(
        self, headers: Mapping[str, str], scheme: Scheme, now: dt.datetime
    ) -> tuple[dict[str, str], str, GatewayCredential, dt.datetime]:
        """What both schemes check, in this order: every header present, the timestamp in
        the window, the access key known for the scheme, the signature equal (constant
        time). Answers the headers, the access key, its credential and the signing time."""
        spec = _SCHEME_HEADERS[scheme]
        values = self._present(headers, spec.names)
        access_key = values[spec.access_key]
        signed_at = self._check_time(values[spec.timestamp], now, access_key)
        credential = self._credential(access_key, scheme)
        presented = values[spec.signature]
        if scheme is Scheme.X_TIF:
            # Clients send lower-case (OHS) or upper-case (OH, Java byte2Hex variants) hex.
            presented = presented.lower()
        if not _same(spec.expected(credential.secret, values), presented):
            raise GatewayRefused(SIGNATURE_MISMATCH, "signature mismatch", access_key=access_key)
        return values, access_key, credential, signed_at

    def _verify_hn(self, headers: Mapping[str, str], now: dt.datetime) -> Verified:
        values, access_key, credential, signed_at = self._signed(headers, Scheme.HN, now)
        # The millisecond timestamp makes each request's signature its own: one use only.
        self._use_once(access_key, "hn:" + values["_api_signature"], signed_at, now)
        return Verified(credential, values["_api_name"])

    def _verify_tif(self, headers: Mapping[str, str], now: dt.datetime) -> Verified:
        values, access_key, credential, signed_at = self._signed(headers, Scheme.X_TIF, now)
        nonce = values["x-tif-nonce"]
        if len(nonce) > MAX_NONCE_LENGTH or not nonce.isprintable():
            raise GatewayRefused(SIGNATURE_MISMATCH, "nonce too long", access_key=access_key)
        self._use_once(access_key, "tif:" + nonce, signed_at, now)
        return Verified(credential)
