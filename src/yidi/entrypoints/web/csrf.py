"""CSRF protection for the pages' forms: a signed double-submit token.

The browser holds a random value in a cookie; every form carries that value
signed with the server's key. A POST is accepted only when the form's token
verifies and matches the cookie: another site can make the browser send the
cookie, but cannot read it to build the matching form field.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from itsdangerous import BadSignature, URLSafeTimedSerializer

CSRF_COOKIE: Final = "yidi_csrf"
CSRF_FIELD: Final = "csrf_token"
_SALT: Final = "yidi-csrf"
CSRF_MAX_AGE_SECONDS: Final = 8 * 3600


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def form_token(secret_key: str, cookie_value: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(cookie_value)


def token_matches(secret_key: str, cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token:
        return False
    try:
        signed_value = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(
            token, max_age=CSRF_MAX_AGE_SECONDS
        )
    except BadSignature:
        return False
    return isinstance(signed_value, str) and hmac.compare_digest(signed_value, cookie_value)
