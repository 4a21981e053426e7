"""The boundary the hospital services plug into, and the dispatcher that drives it.

:class:`HospitalGatewayPort` has one method per transaction. Each takes the typed input
(national field names, :mod:`yidi.integrations.nhsa.transactions`) and a
:class:`GatewayContext`, and returns the typed output (None for transactions without
output). Business refusals are raised as :class:`yidi.kernel.errors.YidiError`
subclasses; :func:`dispatch` turns them into ``infcode = -1`` with
``err_msg = "[CODE] 中文说明"``. Idempotency by ``(fixmedins_code, msgid)`` is the
implementation's job: ``msgid`` is in the context for that reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from pydantic import BaseModel, ValidationError

from yidi.integrations.nhsa.chronic import Input5301, Output5301
from yidi.integrations.nhsa.envelope import (
    DEFAULT_MAX_BODY_BYTES,
    GatewayRequest,
    ReplyFactory,
    parse_request,
)
from yidi.integrations.nhsa.files import Input9101, Input9102, Output9101, Output9102
from yidi.integrations.nhsa.pharmacy import (
    Input2101,
    Input2102,
    Input2103,
    Output2101,
    Output2102,
)
from yidi.integrations.nhsa.transactions import (
    Input1101,
    Input2201,
    Input2202,
    Input2203,
    Input2204,
    Input2205,
    Input2206,
    Input2207,
    Input2208,
    Input2301,
    Input2302,
    Input2303,
    Input2304,
    Input2305,
    Input2401,
    Input2402,
    Input2403,
    Input2404,
    Input2405,
    Input2601,
    Input3201,
    Input3202,
    Input3203,
    Input3204,
    Input5201,
    Input5203,
    Input5204,
    Input9001,
    Output1101,
    Output2201,
    Output2301,
    Output2303,
    Output2304,
    Output2305,
    Output2401,
    Output3201,
    Output3202,
    Output3203,
    Output5201,
    Output5203,
    Output5204,
    Output9001,
    validation_message,
)
from yidi.kernel.errors import ErrorKind, InvalidInput, YidiError

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE: Final = "NHSA_INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """Who is calling and under which message id (from the envelope, not the input)."""

    fixmedins_code: str
    msgid: str | None
    mdtrtarea_admvs: str | None
    insuplc_admdvs: str | None
    operator: str | None
    operator_name: str | None = None
    operator_type: str | None = None
    fixmedins_name: str | None = None
    infno: str = ""
    sent_at: dt.datetime | None = None
    received_at: dt.datetime | None = None

    @classmethod
    def from_request(cls, request: GatewayRequest, *, received_at: dt.datetime) -> GatewayContext:
        return cls(
            fixmedins_code=request.fixmedins_code,
            msgid=request.msgid,
            mdtrtarea_admvs=request.mdtrtarea_admvs,
            insuplc_admdvs=request.insuplc_admdvs,
            operator=request.opter,
            operator_name=request.opter_name,
            operator_type=request.opter_type,
            fixmedins_name=request.fixmedins_name,
            infno=request.infno,
            sent_at=request.inf_time,
            received_at=received_at,
        )


class HospitalGatewayPort(Protocol):
    """What yidi's hospital services offer the national-interface gateway."""

    def query_person(self, request: Input1101, context: GatewayContext) -> Output1101:
        """1101 人员信息获取: the person, insurance and (yidi) the valid filing."""
        ...

    def admit(self, request: Input2401, context: GatewayContext) -> Output2401:
        """2401 入院办理: open an inpatient visit, return mdtrt_id."""
        ...

    def discharge(self, request: Input2402, context: GatewayContext) -> None:
        """2402 出院办理."""
        ...

    def change_admission(self, request: Input2403, context: GatewayContext) -> None:
        """2403 住院信息变更."""
        ...

    def cancel_admission(self, request: Input2404, context: GatewayContext) -> None:
        """2404 入院撤销."""
        ...

    def cancel_discharge(self, request: Input2405, context: GatewayContext) -> None:
        """2405 出院撤销."""
        ...

    def upload_fees(self, request: Input2301, context: GatewayContext) -> Output2301:
        """2301 住院费用明细上传: store lines (deduplicated by feedetl_sn), return each split."""
        ...

    def cancel_fees(self, request: Input2302, context: GatewayContext) -> None:
        """2302 住院费用明细撤销 (feedetl_sn "0000" cancels all unsettled lines)."""
        ...

    def pre_settle(self, request: Input2303, context: GatewayContext) -> Output2303:
        """2303 住院预结算: the full result, nothing committed."""
        ...

    def settle(self, request: Input2304, context: GatewayContext) -> Output2304:
        """2304 住院结算: commit and return setl_id."""
        ...

    def reverse_settlement(self, request: Input2305, context: GatewayContext) -> Output2305:
        """2305 住院结算撤销."""
        ...

    def pre_settle_purchase(self, request: Input2101, context: GatewayContext) -> Output2101:
        """2101 药店预结算: the full result of a pharmacy purchase, nothing committed."""
        ...

    def settle_purchase(self, request: Input2102, context: GatewayContext) -> Output2102:
        """2102 药店结算: store and settle a pharmacy purchase; mdtrt_id and setl_id."""
        ...

    def reverse_purchase(self, request: Input2103, context: GatewayContext) -> Output2305:
        """2103 药店结算撤销 (output as 2305)."""
        ...

    def register_visit(self, request: Input2201, context: GatewayContext) -> Output2201:
        """2201 门诊挂号: register a general outpatient visit, return mdtrt_id."""
        ...

    def cancel_registration(self, request: Input2202, context: GatewayContext) -> None:
        """2202 门诊挂号撤销."""
        ...

    def record_visit(self, request: Input2203, context: GatewayContext) -> None:
        """2203 门诊就诊信息上传: diagnoses of the visit."""
        ...

    def upload_visit_fees(self, request: Input2204, context: GatewayContext) -> Output2301:
        """2204 门诊费用明细上传: as 2301, on a visit."""
        ...

    def cancel_visit_fees(self, request: Input2205, context: GatewayContext) -> None:
        """2205 门诊费用明细撤销: the visit's unsettled lines."""
        ...

    def pre_settle_visit(self, request: Input2206, context: GatewayContext) -> Output2303:
        """2206 门诊预结算: the full result with the outpatient scheme, nothing committed."""
        ...

    def settle_visit(self, request: Input2207, context: GatewayContext) -> Output2304:
        """2207 门诊结算: commit and return setl_id."""
        ...

    def reverse_visit_settlement(self, request: Input2208, context: GatewayContext) -> Output2305:
        """2208 门诊结算撤销."""
        ...

    def reverse_message(self, request: Input2601, context: GatewayContext) -> None:
        """2601 冲正: undo the request named by omsgid/oinfno."""
        ...

    def reconcile_totals(self, request: Input3201, context: GatewayContext) -> Output3201:
        """3201 对总账: the hospital's totals for a period against the centre's."""
        ...

    def reconcile_lines(self, request: Input3202, context: GatewayContext) -> Output3202:
        """3202 明细对账: line by line, every difference listed."""
        ...

    def apply_for_clearing(self, request: Input3203, context: GatewayContext) -> Output3203:
        """3203 清算申请: the month's totals, equal to the centre's; returns clr_appy_evt_id."""
        ...

    def cancel_clearing_application(self, request: Input3204, context: GatewayContext) -> None:
        """3204 清算撤销."""
        ...

    def query_visit(self, request: Input5201, context: GatewayContext) -> Output5201:
        """5201 就诊信息查询 (by mdtrt_id, or by setl_id)."""
        ...

    def query_settlement(self, request: Input5203, context: GatewayContext) -> Output5203:
        """5203 结算信息查询: the settlement as 2304 answered it."""
        ...

    def query_settled_fees(self, request: Input5204, context: GatewayContext) -> Output5204:
        """5204 费用明细查询: the lines of one settlement."""
        ...

    def query_chronic_recognitions(self, request: Input5301, context: GatewayContext) -> Output5301:
        """5301 人员慢特病备案查询: the person's valid chronic-disease recognitions."""
        ...

    def sign_in(self, request: Input9001, context: GatewayContext) -> Output9001:
        """9001 签到."""
        ...

    def upload_file(self, request: Input9101, context: GatewayContext) -> Output9101:
        """9101 文件上传: store the file for its institution, return file_qury_no."""
        ...

    def download_file(self, request: Input9102, context: GatewayContext) -> Output9102:
        """9102 文件下载: the institution's own file by file_qury_no."""
        ...


@dataclass(frozen=True, slots=True)
class Transaction:
    infno: str
    name_zh: str
    input_model: type[BaseModel]
    call: Callable[[HospitalGatewayPort, Any, GatewayContext], BaseModel | None]


TRANSACTIONS: Final[Mapping[str, Transaction]] = {
    t.infno: t
    for t in (
        Transaction("1101", "人员信息获取", Input1101, lambda p, i, c: p.query_person(i, c)),
        Transaction("2101", "药店预结算", Input2101, lambda p, i, c: p.pre_settle_purchase(i, c)),
        Transaction("2102", "药店结算", Input2102, lambda p, i, c: p.settle_purchase(i, c)),
        Transaction("2103", "药店结算撤销", Input2103, lambda p, i, c: p.reverse_purchase(i, c)),
        Transaction("2201", "门诊挂号", Input2201, lambda p, i, c: p.register_visit(i, c)),
        Transaction("2202", "门诊挂号撤销", Input2202, lambda p, i, c: p.cancel_registration(i, c)),
        Transaction("2203", "门诊就诊信息上传", Input2203, lambda p, i, c: p.record_visit(i, c)),
        Transaction(
            "2204", "门诊费用明细上传", Input2204, lambda p, i, c: p.upload_visit_fees(i, c)
        ),
        Transaction(
            "2205", "门诊费用明细撤销", Input2205, lambda p, i, c: p.cancel_visit_fees(i, c)
        ),
        Transaction("2206", "门诊预结算", Input2206, lambda p, i, c: p.pre_settle_visit(i, c)),
        Transaction("2207", "门诊结算", Input2207, lambda p, i, c: p.settle_visit(i, c)),
        Transaction(
            "2208", "门诊结算撤销", Input2208, lambda p, i, c: p.reverse_visit_settlement(i, c)
        ),
        Transaction("2401", "入院办理", Input2401, lambda p, i, c: p.admit(i, c)),
        Transaction("2402", "出院办理", Input2402, lambda p, i, c: p.discharge(i, c)),
        Transaction("2403", "住院信息变更", Input2403, lambda p, i, c: p.change_admission(i, c)),
        Transaction("2404", "入院撤销", Input2404, lambda p, i, c: p.cancel_admission(i, c)),
        Transaction("2405", "出院撤销", Input2405, lambda p, i, c: p.cancel_discharge(i, c)),
        Transaction("2301", "住院费用明细上传", Input2301, lambda p, i, c: p.upload_fees(i, c)),
        Transaction("2302", "住院费用明细撤销", Input2302, lambda p, i, c: p.cancel_fees(i, c)),
        Transaction("2303", "住院预结算", Input2303, lambda p, i, c: p.pre_settle(i, c)),
        Transaction("2304", "住院结算", Input2304, lambda p, i, c: p.settle(i, c)),
        Transaction("2305", "住院结算撤销", Input2305, lambda p, i, c: p.reverse_settlement(i, c)),
        Transaction("2601", "冲正交易", Input2601, lambda p, i, c: p.reverse_message(i, c)),
        Transaction("3201", "对总账", Input3201, lambda p, i, c: p.reconcile_totals(i, c)),
        Transaction("3202", "明细对账", Input3202, lambda p, i, c: p.reconcile_lines(i, c)),
        Transaction("3203", "清算申请", Input3203, lambda p, i, c: p.apply_for_clearing(i, c)),
        Transaction(
            "3204", "清算撤销", Input3204, lambda p, i, c: p.cancel_clearing_application(i, c)
        ),
        Transaction("5201", "就诊信息查询", Input5201, lambda p, i, c: p.query_visit(i, c)),
        Transaction("5203", "结算信息查询", Input5203, lambda p, i, c: p.query_settlement(i, c)),
        Transaction("5204", "费用明细查询", Input5204, lambda p, i, c: p.query_settled_fees(i, c)),
        Transaction(
            "5301",
            "人员慢特病备案查询",
            Input5301,
            lambda p, i, c: p.query_chronic_recognitions(i, c),
        ),
        Transaction("9001", "签到", Input9001, lambda p, i, c: p.sign_in(i, c)),
        Transaction("9101", "文件上传", Input9101, lambda p, i, c: p.upload_file(i, c)),
        Transaction("9102", "文件下载", Input9102, lambda p, i, c: p.download_file(i, c)),
    )
}


class FileReply(dict[str, Any]):
    """The success envelope of a transaction that answers a file (9102 文件下载).

    Over HTTP the router sends ``content`` itself as ``application/octet-stream`` (the
    national platform's answer); an in-process caller still reads the envelope, whose
    ``output`` describes the file without its bytes."""

    def __init__(self, envelope: Mapping[str, Any], filename: str, content: bytes) -> None:
        super().__init__(envelope)
        self.filename = filename
        self.content = content


def _error_reply(
    replies: ReplyFactory, error: YidiError, *, received_at: dt.datetime, area: str | None
) -> dict[str, Any]:
    return replies.failure(error.code, error.message, received_at=received_at, area=area)


def dispatch(
    request: GatewayRequest,
    port: HospitalGatewayPort,
    replies: ReplyFactory,
    *,
    received_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Run one parsed request against the port and build the reply. Never raises."""
    received_at = received_at or replies.now()
    area = request.mdtrtarea_admvs
    try:
        transaction = TRANSACTIONS.get(request.infno)
        if transaction is None:
            raise InvalidInput(
                "NHSA_INFNO_UNSUPPORTED",
                f"不支持的交易编号：{request.infno}",
                f"unsupported infno {request.infno}",
                field="infno",
            )
        try:
            typed_input = transaction.input_model.model_validate(request.input)
        except ValidationError as exc:
            raise InvalidInput(
                "NHSA_INPUT_INVALID", validation_message(exc), "input failed validation"
            ) from None
        context = GatewayContext.from_request(request, received_at=received_at)
        output = transaction.call(port, typed_input, context)
        body = {} if output is None else output.model_dump(mode="python", by_alias=True)
        reply = replies.success(body, received_at=received_at, area=area)
        if isinstance(output, Output9102):
            return FileReply(reply, output.filename, output.content)
        return reply
    except YidiError as error:
        return _error_reply(replies, error, received_at=received_at, area=area)
    except Exception as exc:
        return internal_error_reply(replies, exc, request, received_at=received_at)


def internal_error_reply(
    replies: ReplyFactory,
    exc: Exception,
    request: GatewayRequest | None,
    *,
    received_at: dt.datetime,
) -> dict[str, Any]:
    area = request.mdtrtarea_admvs if request else None
    reply = replies.failure(
        INTERNAL_ERROR_CODE,
        "系统内部错误，交易未完成，请稍后重试；如仍失败请联系医保经办机构",
        received_at=received_at,
        area=area,
    )
    # The exception's text may carry names or ID numbers from the input: log only its
    # type, the frames and envelope identifiers, never the message or the input.
    logger.error(
        "nhsa gateway internal error %s infno=%s fixmedins=%s msgid=%s ref=%s\n%s",
        type(exc).__name__,
        request.infno if request else None,
        request.fixmedins_code if request else None,
        request.msgid if request else None,
        reply["inf_refmsgid"],
        "".join(traceback.format_tb(exc.__traceback__)),
    )
    return reply


def handle(
    body: bytes | str,
    port: HospitalGatewayPort,
    replies: ReplyFactory,
    *,
    path_infno: str | None = None,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    received_at: dt.datetime | None = None,
    check_envelope: Callable[[GatewayRequest], None] | None = None,
) -> dict[str, Any]:
    """Parse a raw body and dispatch it: the whole gateway as one function. Never raises.

    ``check_envelope`` sees the parsed envelope before anything runs and may refuse it by
    raising :class:`YidiError` (the authenticated key may not act for its fixmedins_code).
    """
    received_at = received_at or replies.now()
    request: GatewayRequest | None = None
    try:
        request = parse_request(body, path_infno=path_infno, max_bytes=max_bytes)
        if check_envelope is not None:
            check_envelope(request)
    except YidiError as error:
        area = request.mdtrtarea_admvs if request is not None else None
        return _error_reply(replies, error, received_at=received_at, area=area)
    except Exception as exc:
        return internal_error_reply(replies, exc, None, received_at=received_at)
    return dispatch(request, port, replies, received_at=received_at)


def refuse_too_large(
    replies: ReplyFactory, max_bytes: int, *, received_at: dt.datetime
) -> dict[str, Any]:
    """The reply for a body refused before it was fully read."""
    error = YidiError(
        "NHSA_BODY_TOO_LARGE",
        f"请求报文过大（超过 {max_bytes} 字节）",
        kind=ErrorKind.TOO_LARGE,
    )
    return _error_reply(replies, error, received_at=received_at, area=None)
