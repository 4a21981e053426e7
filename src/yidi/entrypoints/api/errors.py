"""Every error leaves the API as JSON with a stable code and a Chinese message; never a 500 page."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from yidi.kernel.errors import ErrorKind, YidiError

log = logging.getLogger("yidi.entrypoints.api")

STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.REFUSED: 422,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.TOO_MANY: 429,
    ErrorKind.TOO_LARGE: 413,
}

HTTP_ERROR_TEXT = {
    400: ("BAD_REQUEST", "请求格式不正确", "bad request"),
    401: ("UNAUTHENTICATED", "请先登录", "authentication required"),
    403: ("FORBIDDEN", "无权执行此操作", "forbidden"),
    404: ("NOT_FOUND", "请求的资源不存在", "not found"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法", "method not allowed"),
    406: ("NOT_ACCEPTABLE", "不支持请求的响应格式", "not acceptable"),
    413: ("REQUEST_TOO_LARGE", "请求内容过大", "request too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型", "unsupported media type"),
    429: ("TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试", "too many requests"),
}


def error_body(code: str, message: str, message_en: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "message_en": message_en, **extra}}


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(YidiError)
    async def yidi_error(_request: Request, exc: YidiError) -> JSONResponse:
        return JSONResponse({"error": exc.as_dict()}, status_code=STATUS_BY_KIND[exc.kind])

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": _location(tuple(e.get("loc", ()))),
                "type": str(e.get("type", "")),
                "message_en": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        fields = "、".join(p["field"] or "请求体" for p in problems[:5])
        return JSONResponse(
            error_body(
                "REQUEST_INVALID",
                f"请求数据不符合要求：{fields}",
                "request data is invalid",
                details={"errors": problems},
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message, message_en = HTTP_ERROR_TEXT.get(
            exc.status_code, ("HTTP_ERROR", "请求无法处理", "request cannot be processed")
        )
        return JSONResponse(
            error_body(code, message, message_en),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Logged by type only: the exception text may carry personal data.
        log.error("unexpected error %s", type(exc).__name__, exc_info=False)
        return JSONResponse(
            error_body(
                "INTERNAL_ERROR", "系统内部错误，请稍后重试或联系经办机构", "internal error"
            ),
            status_code=500,
        )
