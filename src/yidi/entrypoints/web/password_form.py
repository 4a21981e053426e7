"""What every page with a new-password form shares (one's own password, the reset link, user
administration, a citizen's registration and reset): the rule shown beside the field, the
check that the two entries agree, and a refusal shown at its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from yidi.auth.passwords import MAX_PASSWORD_LENGTH, policy_text
from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import page_lang
from yidi.kernel.errors import YidiError


def password_rule(request: Request) -> str:
    """The configured password rule in the page's language."""
    zh, en = policy_text(container_of(request).settings.password_min_length)
    return en if page_lang(request) == "en" else zh


@dataclass(frozen=True, slots=True)
class NewPassword:
    """The new password as typed twice (fields ``new_password`` and ``confirm_password``)."""

    value: str
    confirmation: str

    def mismatch(self, lang: Lang) -> dict[str, str]:
        """The confirm field's error when the two entries differ; empty when they agree."""
        if self.value == self.confirmation:
            return {}
        return {"confirm_password": translate(lang, "account.password_mismatch")}


def _new_password(
    new_password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    confirm_password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
) -> NewPassword:
    return NewPassword(new_password, confirm_password)


#: The two new-password fields of a form, as one parameter of its endpoint.
NewPasswordForm = Annotated[NewPassword, Depends(_new_password)]


def field_errors(
    exc: YidiError, lang: Lang, default: str, *, code_key: str = "code"
) -> dict[str, str]:
    """A refusal at its field (``default`` when it names none), its code under ``code_key``."""
    return {exc.field or default: refusal_message(exc, lang), code_key: exc.code}
