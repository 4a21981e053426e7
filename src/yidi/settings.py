"""Typed settings, read from the environment (``YIDI_*``) once, in the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yidi.integrations.nhsa.envelope import DEFAULT_MAX_BODY_BYTES

# Only ever accepted when demo_mode is on: a fresh clone must run without any set-up.
DEMO_SECRET_KEY = "demo-secret-key-not-for-production-use-0000000000"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIDI_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('var') / 'yidi.sqlite3'}",
        description="SQLAlchemy URL: sqlite:///path (embedded, default) or postgresql+psycopg://…",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    demo_mode: bool = False
    secret_key: str = DEMO_SECRET_KEY
    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # The national gateway (/fsi/…) has its own limit: a 2301 batch of 10,000 lines is ~6.4 MiB.
    gateway_max_request_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    # Wrong passwords one address may try for one account before each further try waits
    # (1, 2, 4 … minutes, at most login_lockout_minutes). Other addresses are not affected.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # Failed sign-ins one client address may make in the window before it must wait; an
    # account that has signed in from that address before is not held up by it.
    login_address_max_failures: int = Field(default=20, ge=1)
    login_address_window_seconds: int = Field(default=600, ge=1)
    # Server-side sessions: an absolute lifetime and an idle timeout (会话超时).
    session_hours: int = Field(default=8, ge=1, le=24)
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    password_min_length: int = Field(default=12, ge=8, le=64)
    password_reset_hours: int = Field(default=24, ge=1, le=72)
    # Insured persons' self-registration and password reset by one-time code (验证码):
    # "console" writes the code to the server log (the mobile masked; demo and tests);
    # "none" turns self-registration off until an SMS gateway sender is configured.
    code_sender: Literal["console", "none"] | None = None
    code_minutes: int = Field(default=10, ge=1, le=60)
    code_max_attempts: int = Field(default=5, ge=1, le=20)
    code_sends_per_hour: int = Field(default=5, ge=1)
    code_address_sends_per_hour: int = Field(default=30, ge=1)
    code_resend_seconds: int = Field(default=60, ge=0)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed ("" = none:
    # the connection's own address counts). Comma-separated addresses or networks.
    forwarded_allow_ips: str = Field(
        default="",
        description="受信任的反向代理地址 trusted reverse proxies (comma-separated); empty: none",
    )
    # Strict-Transport-Security: "auto" sends it on HTTPS requests, "on" always, "off" never.
    hsts: Literal["auto", "on", "off"] = "auto"
    hsts_max_age_seconds: int = Field(default=31536000, ge=0)
    # Person lookups (1101, admission checks) one institution may make per clock hour, and
    # how many of them may find nobody, before further lookups are refused until the hour ends.
    person_lookups_per_hour: int = Field(default=10_000, ge=1)
    person_lookup_misses_per_hour: int = Field(default=60, ge=1)
    # 报盘 imports from the web and REST run as background jobs: "thread" runs them in a
    # worker thread of the server; "inline" runs each one right after it is submitted
    # (tests, single-user setups). The command line always imports synchronously.
    import_jobs: Literal["thread", "inline"] = "thread"
    # Where export jobs (附件2, the quarterly list) leave their files for the download.
    job_result_directory: Path = Field(
        default=Path("var") / "job-results",
        description="导出任务结果文件目录 directory of the export jobs' files",
    )
    # Signed audit chain heads published outside the database (docs/reliability.md):
    # the Ed25519 private key (PEM, outside the database), the directory heads are
    # written to, and how often ``yidi serve`` publishes one (0: only `yidi audit publish-head`).
    audit_head_key: Path | None = Field(
        default=None, description="审计链头签名私钥 Ed25519 private key (PEM, chmod 600)"
    )
    audit_head_directory: Path | None = Field(
        default=None, description="审计链头发布目录 directory the signed heads are written to"
    )
    audit_head_publish_minutes: int = Field(default=0, ge=0, le=24 * 60)
    log_level: str = "INFO"
    # 医保电子凭证 (mdtrt_cert_type 01): "registry" resolves the tokens yidi issued itself
    # (persons.ecert_token, demo and tests); "signed" verifies signed tokens with
    # ecredential_key (yidi.integrations.ecredential) until the national service is wired.
    ecredential: Literal["registry", "signed"] = "registry"
    ecredential_key: str | None = Field(
        default=None, description="电子凭证令牌验证密钥 key of the signed-token verifier (≥32)"
    )
    # Header authentication of hospital systems at the national-platform gateway (/fsi/…):
    # "required" checks the signed headers against the credentials file; "none" trusts
    # the envelope's fixmedins_code. Unset: "none" in demo mode, "required" otherwise.
    gateway_auth: Literal["none", "required"] | None = None
    gateway_credentials: Path | None = Field(
        default=None,
        description="网关凭据文件 (YAML, chmod 600): access key, secret, scheme, hospitals",
    )
    # HN 服务网关 refuses a signature timestamp more than 30 minutes away.
    gateway_timestamp_window_seconds: int = Field(default=1800, ge=1, le=24 * 3600)
    # Announced holiday arrangements (<year>.yaml, see yidi/data/holidays/README.md) for years
    # the holiday library does not know yet; a file here replaces a shipped one of that year.
    holiday_directory: Path | None = Field(
        default=None,
        description="放假安排文件目录 directory of announced holiday arrangement files",
    )

    @model_validator(mode="after")
    def require_ecredential_key(self) -> Self:
        if self.ecredential == "signed" and len(self.ecredential_key or "") < 32:
            raise ValueError(
                "YIDI_ECREDENTIAL=signed 需要至少32个字符的 YIDI_ECREDENTIAL_KEY "
                "(the signed e-credential verifier needs YIDI_ECREDENTIAL_KEY of 32+ characters)"
            )
        return self

    @model_validator(mode="after")
    def refuse_demo_secret_outside_demo(self) -> Self:
        if not self.demo_mode and self.secret_key == DEMO_SECRET_KEY:
            raise ValueError(
                "YIDI_SECRET_KEY 未设置：非演示模式下不能使用演示密钥 "
                "(set YIDI_SECRET_KEY to a random value of at least 32 characters, or YIDI_DEMO_MODE=1)"
            )
        if len(self.secret_key) < 32:
            raise ValueError("YIDI_SECRET_KEY 至少 32 个字符 (at least 32 characters)")
        return self

    @property
    def gateway_auth_mode(self) -> Literal["none", "required"]:
        if self.gateway_auth is not None:
            return self.gateway_auth
        return "none" if self.demo_mode else "required"

    @property
    def code_sender_mode(self) -> Literal["console", "none"]:
        """Unset: the console sender in demo mode, none otherwise."""
        if self.code_sender is not None:
            return self.code_sender
        return "console" if self.demo_mode else "none"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
