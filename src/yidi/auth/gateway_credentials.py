"""The gateway credentials file (网关凭据文件): one entry per hospital client.

A YAML file named by ``YIDI_GATEWAY_CREDENTIALS``::

    credentials:
      - access_key: h43040000001-3f9c1a2b
        secret: "…32 characters…"
        scheme: x-tif            # or hn
        hospitals: [H43040000001]

The file holds secrets in clear text, so it must be readable by the service user only
(``chmod 600``). Like ssh with a private key, yidi refuses a file that any other user
(group or world) may read or write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import secrets
import stat
import string
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from yidi.integrations.nhsa.gateway_auth import GatewayCredential, Scheme

SECRET_LENGTH: Final = 32  # like the paasToken in real x-tif clients
_SECRET_ALPHABET: Final = string.ascii_letters + string.digits
_HEADER: Final = (
    "# yidi 网关凭据 gateway credentials. 含明文密钥：仅服务用户可读 (chmod 600).\n"
    "# Holds secrets in clear text: readable by the service user only.\n"
)


class GatewayCredentialsError(ValueError):
    """The credentials file is missing, unsafe or malformed (a configuration error)."""


def check_permissions(path: Path) -> None:
    """Refuse a file that users other than its owner may read or write (as ssh does)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise GatewayCredentialsError(
            f"网关凭据文件 {path} 权限过宽（{mode:04o}），须仅服务用户可读：chmod 600 {path} "
            f"(permissions {mode:04o} are too open; the file must be readable by its owner only)"
        )


def load_credentials(path: Path) -> dict[str, GatewayCredential]:
    """All credentials in the file, by access key. Checks the permissions first."""
    if not path.is_file():
        raise GatewayCredentialsError(
            f"网关凭据文件 {path} 不存在 (gateway credentials file not found); "
            "create one with `yidi gateway credential add`"
        )
    check_permissions(path)
    return _parse(path.read_text(encoding="utf-8"), path)


def _parse(text: str, path: Path) -> dict[str, GatewayCredential]:
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise GatewayCredentialsError(f"网关凭据文件 {path} 不是有效的 YAML: {exc}") from None
    if data is None:
        return {}
    entries = data.get("credentials") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise GatewayCredentialsError(
            f"网关凭据文件 {path} 须有 credentials 列表 (a `credentials:` list is required)"
        )
    credentials: dict[str, GatewayCredential] = {}
    for number, entry in enumerate(entries, start=1):
        credential = _credential(entry, path, number)
        if credential.access_key in credentials:
            raise GatewayCredentialsError(
                f"网关凭据文件 {path} 第 {number} 项：access_key {credential.access_key} 重复"
            )
        credentials[credential.access_key] = credential
    return credentials


def _credential(entry: Any, path: Path, number: int) -> GatewayCredential:
    where = f"网关凭据文件 {path} 第 {number} 项 (entry {number})"
    if not isinstance(entry, Mapping):
        raise GatewayCredentialsError(f"{where} 应为映射 (must be a mapping)")
    access_key, secret = entry.get("access_key"), entry.get("secret")
    hospitals = entry.get("hospitals")
    if not isinstance(access_key, str) or not access_key.strip():
        raise GatewayCredentialsError(f"{where} 缺少 access_key")
    if not isinstance(secret, str) or len(secret) < 16:
        raise GatewayCredentialsError(f"{where} 的 secret 至少 16 个字符 (at least 16 characters)")
    try:
        scheme = Scheme(str(entry.get("scheme")))
    except ValueError:
        choices = "、".join(s.value for s in Scheme)
        raise GatewayCredentialsError(f"{where} 的 scheme 须为 {choices}") from None
    if (
        not isinstance(hospitals, list)
        or not hospitals
        or not all(isinstance(code, str) and code.strip() for code in hospitals)
    ):
        raise GatewayCredentialsError(
            f"{where} 须列出可代表的定点医药机构编号 hospitals (a non-empty list of fixmedins_code)"
        )
    return GatewayCredential(
        access_key=access_key.strip(),
        secret=secret,
        scheme=scheme,
        hospital_codes=frozenset(code.strip() for code in hospitals),
    )


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def new_access_key(hospital_code: str) -> str:
    return f"{hospital_code.lower()}-{secrets.token_hex(4)}"


def add_credential(
    path: Path,
    *,
    hospital_codes: Iterable[str],
    scheme: Scheme,
    access_key: str | None = None,
) -> GatewayCredential:
    """Create a credential, append it to the file (created mode 600) and return it."""
    codes = [code.strip() for code in hospital_codes if code.strip()]
    if not codes:
        raise GatewayCredentialsError("须指定至少一个定点医药机构编号 (at least one --hospital)")
    existing = load_credentials(path) if path.exists() else {}
    key = access_key or new_access_key(codes[0])
    if key in existing:
        raise GatewayCredentialsError(f"access_key {key} 已存在 (already in {path})")
    credential = GatewayCredential(
        access_key=key, secret=new_secret(), scheme=scheme, hospital_codes=frozenset(codes)
    )
    _write(path, [*existing.values(), credential])
    return credential


def _write(path: Path, credentials: list[GatewayCredential]) -> None:
    document = {
        "credentials": [
            {
                "access_key": c.access_key,
                "secret": c.secret,
                "scheme": c.scheme.value,
                "hospitals": sorted(c.hospital_codes),
            }
            for c in credentials
        ]
    }
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(document, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file, then renamed over: never readable by others,
    # never half-written.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(_HEADER + buffer.getvalue())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def rotate_credential(path: Path, access_key: str) -> GatewayCredential:
    """Give a credential a new secret (same access key and hospitals); the old one stops
    working when the server next loads the file (restart)."""
    existing = load_credentials(path)
    if access_key not in existing:
        raise GatewayCredentialsError(f"access_key {access_key} 不存在 (not in {path})")
    rotated = dataclasses.replace(existing[access_key], secret=new_secret())
    _write(path, [rotated if c.access_key == access_key else c for c in existing.values()])
    return rotated


def revoke_credential(path: Path, access_key: str) -> GatewayCredential:
    """Remove a credential from the file; it stops working when the server next loads it."""
    existing = load_credentials(path)
    if access_key not in existing:
        raise GatewayCredentialsError(f"access_key {access_key} 不存在 (not in {path})")
    _write(path, [c for c in existing.values() if c.access_key != access_key])
    return existing[access_key]
