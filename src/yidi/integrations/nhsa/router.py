"""FastAPI routes at the national platform's own paths (the only FastAPI module here).

Every answer is HTTP 200 with a reply envelope, also for malformed JSON or a body that is
too large: hospital systems treat any other status as a transport failure (HN appendix
A, SDK http_client) and would retry or show an HTML page instead of ``err_msg``.

Header authentication differs by province (HN ``_api_*`` HMAC, ``x-tif-*``, ``x-ca-*``,
``apikey``; NHSA-INTERFACE.md §1.1), so it is a hook: pass ``authenticate`` to check
the headers and raw body and raise a :class:`yidi.kernel.errors.YidiError` (for example
``Unauthenticated``) to refuse. It may return a check for the parsed envelope, run before
the transaction (the key may act only for its own ``fixmedins_code``). Without the hook,
no header is checked. yidi's own authenticator is :mod:`yidi.auth.gateway`.
"""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from yidi.integrations.nhsa.envelope import (
    DEFAULT_MAX_BODY_BYTES,
    GatewayRequest,
    ReplyFactory,
    encode_reply,
)
from yidi.integrations.nhsa.files import envelope_from_multipart, is_multipart
from yidi.integrations.nhsa.port import (
    FileReply,
    HospitalGatewayPort,
    handle,
    internal_error_reply,
    refuse_too_large,
)
from yidi.kernel.clock import Clock, SystemClock
from yidi.kernel.errors import YidiError

CALL_SERVICE_PATH: Final = "/fsi/api/rsfComIfsService/callService"

#: One path per service, as some clients are configured (OH; ZJ for 1101). One source
#: for the 23xx/24xx paths, so the generic path stays the primary address.
PER_SERVICE_PATHS: Final[Mapping[str, str]] = {
    "1101": "/fsi/api/fsiPsnInfoService/queryPsnInfo",
    "2301": "/fsi/api/hospFeeDtlService/feeDtlUp",
    "2302": "/fsi/api/hospFeeDtlService/feeDtlCl",
    "2303": "/fsi/api/hospSettService/preSett",
    "2304": "/fsi/api/hospSettService/settV2",
    "2305": "/fsi/api/hospSettService/settCl",
    "2401": "/fsi/api/hospitalRegisterService/hospitalRegisterSave",
    "2402": "/fsi/api/dscgService/dischargeProcess",
    "2403": "/fsi/api/hospitalRegisterService/hospitalRegisterEdit",
    "2404": "/fsi/api/hospitalRegisterService/hospitalRegisterCancel",
    "2405": "/fsi/api/dscgService/dischargeUndo",
    "9001": "/fsi/api/signInSignOutService/signIn",
}

REPLY_MEDIA_TYPE: Final = "application/json;charset=UTF-8"
#: 9102 answers the file itself (HN appendix A); a refusal stays a JSON envelope.
FILE_MEDIA_TYPE: Final = "application/octet-stream"

EnvelopeCheck = Callable[[GatewayRequest], None]
#: Checks the headers and raw body; raises YidiError to refuse; may answer an EnvelopeCheck.
Authenticator = Callable[[Request, bytes], EnvelopeCheck | None]

_ENVELOPE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "国家医保信息平台交易输入报文（NHSA-INTERFACE.md §2）。未知字段忽略。",
    "required": ["infno", "fixmedins_code", "input"],
    "properties": {
        "infno": {"type": ["string", "integer"], "description": "交易编号，如 1101、2304"},
        "msgid": {"type": "string", "maxLength": 30, "description": "发送方报文ID；变更类交易必填"},
        "mdtrtarea_admvs": {"type": "string", "description": "就医地医保区划（6 位）"},
        "insuplc_admdvs": {"type": "string", "description": "参保地医保区划（6 位）"},
        "recer_sys_code": {"type": "string", "description": "接收方系统代码（不校验）"},
        "infver": {"type": "string", "description": "接口版本号（不校验）"},
        "opter_type": {"type": "string", "description": "经办人类别 1/2/3"},
        "opter": {"type": "string", "description": "经办人/终端编号"},
        "opter_name": {"type": "string", "description": "经办人/终端名称"},
        "inf_time": {"type": "string", "description": "交易时间 yyyy-MM-dd HH:mm:ss"},
        "fixmedins_code": {"type": "string", "description": "定点医药机构编号"},
        "fixmedins_name": {"type": "string", "description": "定点医药机构名称"},
        "sign_no": {"type": "string", "description": "签到流水号（不校验）"},
        "input": {
            "type": ["object", "string"],
            "description": "交易输入；可为对象或 JSON 字符串（不支持加密报文）",
        },
    },
}

_REPLY_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "infcode": {"type": "integer", "description": "0 成功，-1 失败"},
        "inf_refmsgid": {"type": "string", "description": "接收方报文ID（30 位）"},
        "refmsg_time": {"type": "string", "description": "收到请求时间 yyyyMMddHHmmssSSS"},
        "respond_time": {"type": "string", "description": "应答时间 yyyyMMddHHmmssSSS"},
        "err_msg": {"type": ["string", "null"], "description": "失败时为 “[错误码] 中文说明”"},
        "warn_msg": {"type": "null"},
        "cainfo": {"type": "null"},
        "signtype": {"type": "null"},
        "output": {"type": ["object", "null"]},
    },
}

_OPENAPI_EXTRA: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "UTF-8 JSON（可带 BOM）；Content-Type 任意（text/plain 与 application/json 均可）。",
        "content": {
            "application/json": {"schema": _ENVELOPE_SCHEMA},
            "text/plain": {"schema": _ENVELOPE_SCHEMA},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "9101 文件上传：jsonStr 为报文（JSON 文本），file 为文件",
                    "properties": {
                        "jsonStr": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            },
        },
    },
    "responses": {
        "200": {
            "description": "总是 HTTP 200；业务结果见 infcode / err_msg。9102 成功时为文件本身。",
            "content": {
                "application/json": {"schema": _REPLY_SCHEMA},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
}


def file_response(reply: FileReply) -> Response:
    """The bare file of a 9102, named for saving (RFC 6266; RFC 5987 for a Chinese name)."""
    fallback = reply.filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
    disposition = f'attachment; filename="{fallback}"'
    if fallback != reply.filename:
        disposition += f"; filename*=UTF-8''{quote(reply.filename, safe='')}"
    return Response(
        content=reply.content,
        media_type=FILE_MEDIA_TYPE,
        headers={"Content-Disposition": disposition},
    )


async def _read_limited(request: Request, max_bytes: int) -> bytes | None:
    """The raw body, or None as soon as it exceeds ``max_bytes`` (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_gateway_router(
    get_port: Callable[..., HospitalGatewayPort],
    *,
    clock: Clock | None = None,
    default_area: str = "000000",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    authenticate: Authenticator | None = None,
    per_service_paths: bool = True,
) -> APIRouter:
    """Routes for ``callService``, ``callService/{infno}`` and (optionally) per-service paths.

    ``get_port`` is a FastAPI dependency returning the services behind the gateway.
    ``default_area`` is the 6-digit division used in ``inf_refmsgid`` when the request
    has no valid ``mdtrtarea_admvs``.
    """
    replies = ReplyFactory(clock or SystemClock(), default_area=default_area)
    router = APIRouter(tags=["国家医保平台接口 (NHSA gateway)"])
    PortDep = Annotated[HospitalGatewayPort, Depends(get_port)]

    async def answer(
        request: Request, port: HospitalGatewayPort, path_infno: str | None
    ) -> Response:
        received_at = replies.now()
        body = await _read_limited(request, max_body_bytes)
        if body is None:
            reply = refuse_too_large(replies, max_body_bytes, received_at=received_at)
        else:
            reply = await run_in_threadpool(
                _authenticate_and_handle, request, body, port, path_infno, received_at
            )
        if isinstance(reply, FileReply):
            return file_response(reply)
        return Response(content=encode_reply(reply), media_type=REPLY_MEDIA_TYPE)

    def _authenticate_and_handle(
        request: Request,
        body: bytes,
        port: HospitalGatewayPort,
        path_infno: str | None,
        received_at: Any,
    ) -> dict[str, Any]:
        check_envelope: EnvelopeCheck | None = None
        if authenticate is not None:
            try:
                check_envelope = authenticate(request, body)
            except YidiError as error:
                return replies.failure(error.code, error.message, received_at=received_at)
            except Exception as exc:
                return internal_error_reply(replies, exc, None, received_at=received_at)
        content_type = request.headers.get("content-type")
        if is_multipart(content_type):
            # 9101 as real clients send it: a jsonStr part (the envelope) and a file part.
            assert content_type is not None
            try:
                body = envelope_from_multipart(content_type, body)
            except YidiError as error:
                return replies.failure(error.code, error.message, received_at=received_at)
        return handle(
            body,
            port,
            replies,
            path_infno=path_infno,
            max_bytes=max_body_bytes,
            received_at=received_at,
            check_envelope=check_envelope,
        )

    @router.post(
        CALL_SERVICE_PATH,
        summary="统一交易入口 callService（infno 在报文中）",
        response_class=Response,
        openapi_extra=_OPENAPI_EXTRA,
    )
    async def call_service(request: Request, port: PortDep) -> Response:
        return await answer(request, port, None)

    @router.post(
        CALL_SERVICE_PATH + "/{infno}",
        summary="统一交易入口 callService/{infno}（infno 在地址中）",
        response_class=Response,
        openapi_extra=_OPENAPI_EXTRA,
    )
    async def call_service_with_infno(infno: str, request: Request, port: PortDep) -> Response:
        return await answer(request, port, infno)

    def per_service_endpoint(fixed_infno: str) -> Callable[..., Any]:
        # Built per infno so each route closes over its own transaction code.
        async def endpoint(request: Request, port: PortDep) -> Response:
            return await answer(request, port, fixed_infno)

        return endpoint

    if per_service_paths:
        for infno, path in PER_SERVICE_PATHS.items():
            router.add_api_route(
                path,
                per_service_endpoint(infno),
                methods=["POST"],
                summary=f"交易 {infno} 的专用地址",
                response_class=Response,
                openapi_extra=_OPENAPI_EXTRA,
            )
    return router
