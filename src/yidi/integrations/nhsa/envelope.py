"""The national interface's JSON envelope (交易输入/交易输出): parse liberally, reply exactly.

Requests are read the way real hospital systems send them (NHSA-INTERFACE.md §1–§2):
UTF-8 with or without BOM, any Content-Type, ``input`` as an object or a JSON-encoded
string (JL), ``infno`` as a string or a number, infno in the path (SDK, OHS). Replies
follow §3 exactly: ``infcode`` is the JSON number 0 or -1 (OHS and SDK compare with
the integer), ``inf_refmsgid`` is 30 characters, times are ``yyyyMMddHHmmssSSS``.

Money leaves as JSON numbers written verbatim from ``Decimal`` (``1300.00``, as real
replies carry ``23442.46``); :func:`encode_reply` is the one serializer that does that,
because ``json.dumps`` can only write floats and would drop the trailing zeros.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from yidi.kernel.clock import CHINA_TZ, Clock
from yidi.kernel.errors import ErrorKind, InvalidInput
from yidi.kernel.money import Money

#: Largest request body accepted. The spec gives ``input`` 40000 characters, but a
#: 2301 batch of several hundred fee lines is far larger in practice.
DEFAULT_MAX_BODY_BYTES: Final = 8 * 1024 * 1024

#: Transactions that change state: they must carry a msgid (1–30 characters) because
#: idempotent retries and 2601 reversal (omsgid) look requests up by it.
STATE_CHANGING_INFNOS: Final = frozenset(
    {
        "2102",
        "2103",
        "2201",
        "2202",
        "2203",
        "2204",
        "2205",
        "2207",
        "2208",
        "2301",
        "2302",
        "2304",
        "2305",
        "2401",
        "2402",
        "2403",
        "2404",
        "2405",
        "2601",
        "3203",
        "3204",
    }
)

MSGID_MAX_LENGTH: Final = 30
#: err_msg is 200 characters in the interface (HN table 6); longer text is cut, code kept.
ERR_MSG_MAX_LENGTH: Final = 200
INFCODE_SUCCESS: Final = 0
INFCODE_FAILURE: Final = -1

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_DIVISION_CODE = re.compile(r"^\d{6}$")


class EnvelopeError(InvalidInput):
    """The request cannot be understood as a national-interface envelope."""


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One parsed request. ``input`` is the decoded ``input`` node (never a string)."""

    infno: str
    msgid: str | None
    fixmedins_code: str
    fixmedins_name: str | None = None
    mdtrtarea_admvs: str | None = None
    insuplc_admdvs: str | None = None
    opter: str | None = None
    opter_name: str | None = None
    opter_type: str | None = None
    inf_time: dt.datetime | None = None
    sign_no: str | None = None
    input: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing


def _envelope_error(
    code: str, message: str, message_en: str, *, field: str | None = None
) -> EnvelopeError:
    return EnvelopeError(code, message, message_en, field=field)


def decode_body(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Any:
    """Bytes → JSON value. Numbers with a fraction become ``Decimal`` (never float)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise EnvelopeError(
            "NHSA_BODY_TOO_LARGE",
            f"请求报文过大（超过 {max_bytes} 字节）",
            f"request body larger than {max_bytes} bytes",
            kind=ErrorKind.TOO_LARGE,
        )
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # The spec says UTF-8; a few older systems send GB18030. Only tried when UTF-8 fails.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise _envelope_error(
                "NHSA_BODY_NOT_UTF8", "请求报文不是 UTF-8 编码的文本", "body is not UTF-8 text"
            ) from None
    if not text.strip():
        raise _envelope_error("NHSA_BODY_EMPTY", "请求报文为空", "empty request body")
    return _loads(text, what="请求报文", code="NHSA_BODY_NOT_JSON")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _loads(text: str, *, what: str, code: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _envelope_error(
            code,
            f"{what}不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）",
            f"{what} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})",
        ) from None
    except (ValueError, RecursionError):
        raise _envelope_error(code, f"{what}不是有效的 JSON", "not valid JSON") from None


def _text(value: Any) -> str | None:
    """A code or name as text: numbers become their digits, blank and "null" become None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        text = str(int(value)) if value == value.to_integral_value() else str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if not text or text.lower() == "null":
        return None
    return text


_DATETIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y%m%d%H%M%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
)


def parse_nhsa_datetime(value: Any) -> dt.datetime | None:
    """Read a national datetime leniently; None when it cannot be read.

    Accepts the spec form ``yyyy-MM-dd HH:mm:ss`` and the variants clients send
    (ISO ``T``, milliseconds, ``yyyyMMddHHmmss``, slashes, a bare date). The result is
    naive local (China) time, as the interface means it; an offset, if any, is
    converted to China time first.
    """
    text = _text(value)
    if text is None:
        return None
    for fmt in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - national times are local, no zone
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(CHINA_TZ).replace(tzinfo=None)
    return parsed


def parse_nhsa_date(value: Any) -> dt.date | None:
    """Read a national date (``yyyy-MM-dd``; datetimes are cut to their date)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    parsed = parse_nhsa_datetime(value)
    return parsed.date() if parsed is not None else None


def _decode_input(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        decoded = _loads(
            value, what="input 字段（本平台不支持加密报文）", code="NHSA_INPUT_NOT_JSON"
        )
        return _decode_input(decoded)
    if isinstance(value, dict):
        return value
    raise _envelope_error(
        "NHSA_INPUT_NOT_OBJECT",
        "input 字段应为 JSON 对象",
        "input must be a JSON object",
        field="input",
    )


def parse_request(
    body: bytes | str | Mapping[str, Any],
    *,
    path_infno: str | None = None,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> GatewayRequest:
    """Parse one request body into a :class:`GatewayRequest` or raise :class:`EnvelopeError`.

    ``path_infno`` is the infno from ``callService/{infno}`` or from a per-service path.
    When the body also names an infno and the two differ, the request is refused
    (``NHSA_INFNO_MISMATCH``): guessing which one the sender meant could run the wrong
    state-changing transaction.
    """
    envelope = body if isinstance(body, Mapping) else decode_body(body, max_bytes=max_bytes)
    if not isinstance(envelope, Mapping):
        raise _envelope_error(
            "NHSA_BODY_NOT_OBJECT", "请求报文应为 JSON 对象", "request body must be a JSON object"
        )

    body_infno = _text(envelope.get("infno"))
    url_infno = _text(path_infno)
    if body_infno and url_infno and body_infno != url_infno:
        raise _envelope_error(
            "NHSA_INFNO_MISMATCH",
            f"报文中的交易编号 {body_infno} 与地址中的交易编号 {url_infno} 不一致",
            f"infno {body_infno} in the body differs from {url_infno} in the path",
            field="infno",
        )
    infno = body_infno or url_infno
    if infno is None:
        raise _envelope_error(
            "NHSA_INFNO_MISSING", "缺少交易编号 infno", "infno is missing", field="infno"
        )

    msgid = _text(envelope.get("msgid"))
    if infno in STATE_CHANGING_INFNOS:
        if msgid is None:
            raise _envelope_error(
                "NHSA_MSGID_MISSING",
                f"交易 {infno} 须提供发送方报文ID msgid",
                f"transaction {infno} needs a msgid",
                field="msgid",
            )
        if len(msgid) > MSGID_MAX_LENGTH:
            raise _envelope_error(
                "NHSA_MSGID_TOO_LONG",
                f"发送方报文ID msgid 长度不能超过 {MSGID_MAX_LENGTH} 位",
                f"msgid longer than {MSGID_MAX_LENGTH} characters",
                field="msgid",
            )

    fixmedins_code = _text(envelope.get("fixmedins_code"))
    if fixmedins_code is None:
        raise _envelope_error(
            "NHSA_FIXMEDINS_CODE_MISSING",
            "缺少定点医药机构编号 fixmedins_code",
            "fixmedins_code is missing",
            field="fixmedins_code",
        )

    return GatewayRequest(
        infno=infno,
        msgid=msgid,
        fixmedins_code=fixmedins_code,
        fixmedins_name=_text(envelope.get("fixmedins_name")),
        mdtrtarea_admvs=_text(envelope.get("mdtrtarea_admvs")),
        insuplc_admdvs=_text(envelope.get("insuplc_admdvs")),
        opter=_text(envelope.get("opter")),
        opter_name=_text(envelope.get("opter_name")),
        opter_type=_text(envelope.get("opter_type")),
        inf_time=parse_nhsa_datetime(envelope.get("inf_time")),
        sign_no=_text(envelope.get("sign_no")),
        input=_decode_input(envelope.get("input")),
    )


# --------------------------------------------------------------------------- replies


def _counter_from_random_start() -> Iterator[int]:
    # A random start keeps two worker processes from issuing the same serial in one second.
    return itertools.count(secrets.randbelow(10**9))


class ReplyFactory:
    """Builds reply envelopes (交易输出) with times from an injected clock.

    ``inf_refmsgid`` = receiver division (6 digits) + ``yyyyMMddHHmmss`` + 10-digit serial
    (HN, OH, ZJ). The division is the request's ``mdtrtarea_admvs`` when that is six
    digits, else ``default_area``.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        default_area: str = "000000",
        serials: Callable[[], int] | None = None,
    ) -> None:
        if not _DIVISION_CODE.match(default_area):
            raise ValueError("default_area must be a 6-digit division code")
        self._clock = clock
        self._default_area = default_area
        if serials is None:
            counter = _counter_from_random_start()
            serials = counter.__next__
        self._serials = serials

    def now(self) -> dt.datetime:
        return self._clock.now().astimezone(CHINA_TZ)

    def _area(self, area: str | None) -> str:
        return area if area is not None and _DIVISION_CODE.match(area) else self._default_area

    def _base(self, received_at: dt.datetime, area: str | None) -> dict[str, Any]:
        responded_at = self.now()
        serial = self._serials() % 10**10
        return {
            "infcode": INFCODE_SUCCESS,
            "inf_refmsgid": f"{self._area(area)}{responded_at:%Y%m%d%H%M%S}{serial:010d}",
            "refmsg_time": format_reply_time(received_at),
            "respond_time": format_reply_time(responded_at),
            "err_msg": None,
            "warn_msg": None,
            "cainfo": None,
            "signtype": None,
            "output": None,
        }

    def success(
        self, output: Mapping[str, Any], *, received_at: dt.datetime, area: str | None = None
    ) -> dict[str, Any]:
        reply = self._base(received_at, area)
        reply["output"] = dict(output)
        return reply

    def failure(
        self, code: str, message: str, *, received_at: dt.datetime, area: str | None = None
    ) -> dict[str, Any]:
        reply = self._base(received_at, area)
        reply["infcode"] = INFCODE_FAILURE
        reply["err_msg"] = err_msg(code, message)
        return reply


def err_msg(code: str, message: str) -> str:
    """``[CODE] 中文说明``, at most :data:`ERR_MSG_MAX_LENGTH` characters, ending in … if cut."""
    text = f"[{code}] {message}"
    if len(text) <= ERR_MSG_MAX_LENGTH:
        return text
    return text[: ERR_MSG_MAX_LENGTH - 1] + "…"


def format_reply_time(at: dt.datetime) -> str:
    """``yyyyMMddHHmmssSSS`` in China time (refmsg_time, respond_time)."""
    local = at.astimezone(CHINA_TZ) if at.tzinfo is not None else at
    return f"{local:%Y%m%d%H%M%S}{local.microsecond // 1000:03d}"


# --------------------------------------------------------------------------- encoding


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, enum.Enum):
        _write(value.value, out)
    elif isinstance(value, (int, Money)):
        # Money's str is already two-decimal yuan: 1300.00
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal cannot be sent")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        raise TypeError("float must not reach the wire; use Decimal")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dt.datetime):
        out.append(f'"{value:%Y-%m-%d %H:%M:%S}"')
    elif isinstance(value, dt.date):
        out.append(f'"{value:%Y-%m-%d}"')
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in a reply")


def encode_reply(reply: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON text of a reply; Decimal and Money are written digit for digit."""
    out: list[str] = []
    _write(reply, out)
    return "".join(out).encode("utf-8")
