"""How the pages show a use case's refusal (in the page's language, on the page it came
from), and the one shape of a decision form (approve, reject, cancel, withdraw, submit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.render import page_lang, page_principal
from yidi.kernel.access import Principal
from yidi.kernel.errors import ErrorKind, ValidationFailed, YidiError

Detail = TypeVar("Detail")


def refusal_message(exc: YidiError, lang: Lang) -> str:
    return exc.message_en if lang == "en" else exc.message


def shown_refusal(exc: YidiError, lang: Lang) -> tuple[str, int]:
    """A business refusal to show on the page (message, status); access errors are re-raised
    so that the error page answers them (a record out of scope stays "not found")."""
    if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND, ErrorKind.UNAUTHENTICATED):
        raise exc
    return refusal_message(exc, lang), 409 if exc.kind is ErrorKind.CONFLICT else 422


def field_errors(exc: YidiError, lang: Lang, default_field: str) -> dict[str, str]:
    """One message per field: a validation failure names each field, others the form."""
    if isinstance(exc, ValidationFailed):
        found: dict[str, str] = {}
        for error in exc.errors:
            found.setdefault(error.field or default_field, refusal_message(error, lang))
        return found
    return {exc.field or default_field: refusal_message(exc, lang)}


def decide(
    request: Request,
    csrf_token: str,
    action: str,
    reason: str,
    *,
    reason_required: bool,
    current: Callable[[Principal], Detail],
    perform: Callable[[Principal, str], Detail],
    page: Callable[..., Response],
    done_path: Callable[[Detail], str],
) -> Response:
    """One decision form: a signed-in caller with a valid CSRF token; a required reason that is
    missing is asked for (422); a refusal is shown on the page; success redirects with
    ``?done=<action>``. ``perform`` gets the stripped reason; ``page(request, detail, *,
    errors, reason, status_code)`` shows the decision's page again."""
    principal = page_principal(request)
    require_signed_in(principal)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    reason = reason.strip()
    if reason_required and not reason:
        errors = {f"{action}_reason": translate(lang, "filings.reason_required")}
        return page(request, current(principal), errors=errors, status_code=422)
    try:
        detail = perform(principal, reason)
    except YidiError as exc:
        message, status = shown_refusal(exc, lang)
        return page(
            request,
            current(principal),
            errors={f"{action}_form": message},
            reason=reason,
            status_code=status,
        )
    return redirect(request, f"{done_path(detail)}?done={action}")
