"""What every page with a new-password form shares (one's own password, the reset link, user
administration, a citizen's registration and reset): the rule shown beside the field, the
check that the two entries agree, and a refusal shown at its field."""

from __future__ import annotations

from fastapi import Request

from yidi.auth.passwords import policy_text
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import page_lang
from yidi.kernel.errors import YidiError


def password_rule(request: Request) -> str:
    """The configured password rule in the page's language."""
    zh, en = policy_text(container_of(request).settings.password_min_length)
    return en if page_lang(request) == "en" else zh


def passwords_differ(lang: Lang, new_password: str, confirm_password: str) -> dict[str, str]:
    """The confirm field's error when the two entries differ; empty when they agree."""
    if new_password == confirm_password:
        return {}
    return {"confirm_password": translate(lang, "account.password_mismatch")}


def field_errors(
    exc: YidiError, lang: Lang, default: str, *, code_key: str = "code"
) -> dict[str, str]:
    """A refusal at its field (``default`` when it names none), its code under ``code_key``."""
    return {exc.field or default: refusal_message(exc, lang), code_key: exc.code}
