"""The ``yidi`` command line (命令行). Each sub-command explains itself in Chinese and English."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yidi import __version__
from yidi.entrypoints.cli import account as account_cli
from yidi.entrypoints.cli import calendar as calendar_cli
from yidi.entrypoints.cli import catalog as catalog_cli
from yidi.entrypoints.cli import funds as funds_cli
from yidi.entrypoints.cli import gateway as gateway_cli
from yidi.entrypoints.cli import policy as policy_cli
from yidi.entrypoints.cli import settle as settle_cli
from yidi.entrypoints.cli import users as users_cli
from yidi.entrypoints.cli import whatif as whatif_cli
from yidi.entrypoints.cli.context import open_container
from yidi.entrypoints.cli.filing import filing_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from yidi.bootstrap import Container
    from yidi.settings import Settings

app = typer.Typer(
    name="yidi",
    help="yidi 异地就医备案与直接结算 — cross-region medical insurance filing and direct settlement.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="数据库：迁移与检查。Database: migrations and checks.", no_args_is_help=True
)
demo_app = typer.Typer(help="演示数据。Demo data.", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志。Audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(account_cli.app, name="account")
app.add_typer(demo_app, name="demo")
app.add_typer(funds_cli.clearing_app, name="clearing")
app.add_typer(funds_cli.prepayment_app, name="prepayment")
app.add_typer(funds_cli.stats_app, name="stats")
app.add_typer(audit_app, name="audit")
app.add_typer(policy_cli.app, name="policy")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(gateway_cli.app, name="gateway")
app.add_typer(calendar_cli.app, name="calendar")
app.add_typer(users_cli.app, name="user")
app.registered_commands.extend(settle_cli.app.registered_commands)
app.registered_commands.extend(whatif_cli.app.registered_commands)
app.add_typer(filing_app, name="filing")


@app.command("version")
def version() -> None:
    """显示版本号。Show the version."""
    typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库迁移到最新结构。Apply all schema migrations (SQLite or PostgreSQL)."""
    from yidi.platform.migrate import current_revision, upgrade

    container = open_container(require_current_schema=False)
    upgrade(container.engine)
    typer.echo(f"数据库已是最新结构 database at revision {current_revision(container.engine)}")


@db_app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="备份文件 backup file")],
) -> None:
    """在线备份数据库（SQLite 备份接口 / pg_dump）。Back up the database while it runs."""
    from yidi.platform.backup import backup

    written = backup(open_container(require_current_schema=False).engine, target)
    typer.echo(f"已备份 backed up to {written}")


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="备份文件 backup file")],
) -> None:
    """从备份恢复数据库（先停止服务）。Restore the database from a backup (stop the server first)."""
    from yidi.platform.backup import restore

    restore(open_container(require_current_schema=False).engine, source)
    typer.echo(f"已恢复 restored from {source}")


@audit_app.command("verify")
def audit_verify(
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="已发布的链头（目录或文件） published heads (a directory or one file)",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="验签公钥（默认由 YIDI_AUDIT_HEAD_KEY 推出） verification key"
        ),
    ] = None,
) -> None:
    """校验审计日志哈希链，指出第一条被篡改、删除或重排的记录；--against 再与已发布的签名链头比对，
    发现被整体改写并重算的链。Verify the audit chain, and with --against the signed heads
    published outside the database (a rebuilt chain)."""
    from yidi.kernel.audit import verify_chain
    from yidi.platform import audit_head

    container = open_container()
    problems: list[audit_head.HeadProblem] = []
    statements: list[tuple[str, audit_head.HeadStatement | None]] = []
    try:
        with container.uow() as uow:
            count = uow.audit.count()
            broken = verify_chain(uow.audit.walk(), uow.audit.head())
            if against is not None:
                key_path = public_key or container.settings.audit_head_key
                if key_path is None:
                    typer.echo(
                        "需要验签公钥 a verification key is needed: --public-key or YIDI_AUDIT_HEAD_KEY",
                        err=True,
                    )
                    raise typer.Exit(2)
                statements = audit_head.read_statements(against)
                problems = audit_head.check_against(
                    uow.audit.walk(), statements, audit_head.load_public_key(key_path)
                )
    finally:
        container.engine.dispose()
    if broken is not None:
        typer.echo(
            f"审计链被破坏 audit chain broken at entry {broken.seq}: {broken.problem}", err=True
        )
    for problem in problems:
        typer.echo(
            f"与已发布链头不符 published head {problem.source}: {problem.problem_zh} "
            f"({problem.problem_en})",
            err=True,
        )
    if broken is not None or problems:
        raise typer.Exit(1)
    checked = (
        f"，与 {len(statements)} 个已发布链头一致 matches the published heads" if against else ""
    )
    typer.echo(f"审计链完整 audit chain intact: {count} 条 entries{checked}")


@audit_app.command("keygen")
def audit_keygen(
    out: Annotated[Path, typer.Option("--out", help="私钥文件（数据库之外） private key file")],
) -> None:
    """生成审计链头签名密钥（Ed25519）。Create the Ed25519 key that signs published heads."""
    from yidi.platform.audit_head import generate_key

    public = generate_key(out)
    typer.echo(
        f"私钥 private key: {out}（chmod 600，勿放在数据库服务器上 keep it off the database host）"
    )
    typer.echo(f"公钥 public key: {public}（交给审计方 give it to the auditors）")


@audit_app.command("publish-head")
def audit_publish_head(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="发布目录（默认 YIDI_AUDIT_HEAD_DIRECTORY） directory"),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="签名私钥（默认 YIDI_AUDIT_HEAD_KEY） key")
    ] = None,
) -> None:
    """签名并发布当前审计链头到数据库之外。Sign the audit chain's head and write it outside
    the database."""
    from yidi.platform.audit_head import load_private_key, publish_head

    container = open_container()
    key_path = key or container.settings.audit_head_key
    directory = to or container.settings.audit_head_directory
    if key_path is None or directory is None:
        typer.echo(
            "需要签名私钥和发布目录 need --key/YIDI_AUDIT_HEAD_KEY and --to/YIDI_AUDIT_HEAD_DIRECTORY",
            err=True,
        )
        raise typer.Exit(2)
    try:
        published = publish_head(
            container.uow, container.clock, load_private_key(key_path), directory
        )
    finally:
        container.engine.dispose()
    if published is None:
        typer.echo("审计链为空，无需发布 the audit chain is empty: nothing to publish")
        return
    statement, path = published
    typer.echo(
        f"已发布审计链头 published head: seq {statement.seq}, sha256 {statement.head_hash} -> {path}"
    )


@demo_app.command("load")
def demo_load(
    persons: Annotated[int, typer.Option(help="合成参保人数 synthetic persons to generate")] = 200,
    seed: Annotated[int, typer.Option(help="随机种子 generator seed")] = 2017,
    scenario: Annotated[
        bool,
        typer.Option(help="演示场景：备案与结算记录 demo scenario: filings and settlements"),
    ] = True,
) -> None:
    """载入演示数据（衡阳医保中心、15家联网医院、河南经办机构、演示场景、合成参保人）。Load the demo world."""
    from rich.progress import Progress

    from yidi.catalog.commands import import_sample_catalogs
    from yidi.demo.loader import load_demo_filings, load_population, load_reference_world
    from yidi.kernel.regions import hengyang_county_codes
    from yidi.platform.migrate import upgrade

    container = open_container(demo=True, require_current_schema=False)
    upgrade(container.engine)  # demo load sets a database up: migrating is part of it
    report = load_reference_world(container.uow())
    filings_added = load_demo_filings(container.uow, container.clock, container.filings)
    typer.echo(
        f"经办机构 agencies +{report.agencies_added}，医院 hospitals +{report.hospitals_added}，"
        f"账户 accounts +{report.accounts_added}，备案 filings +{filings_added}"
    )
    catalogs = import_sample_catalogs(container.uow, container.clock)
    typer.echo(f"示例目录 sample catalogues +{sum(1 for c in catalogs if c.created)}")
    if scenario:
        _load_scenario(container)
    if persons > 0:
        with Progress() as progress:
            task = progress.add_task("合成参保人 persons", total=persons)
            added = load_population(
                container.uow(),
                persons,
                seed=seed,
                insured_region_codes=hengyang_county_codes(),
                on_batch=lambda n: progress.advance(task, n),
            )
        typer.echo(f"参保人 persons +{added}")


def _load_scenario(container: Container) -> None:
    from yidi.demo.scenario import load_scenario

    typer.echo(load_scenario(container.uow, container.working_days).summary())


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="端口 port (default 8000)")] = None,
    demo: Annotated[
        bool, typer.Option(help="演示模式：载入演示数据 demo mode with demo data")
    ] = False,
    scenario: Annotated[
        bool,
        typer.Option(help="演示模式下载入演示场景 load the demo scenario in demo mode"),
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="工作进程数 worker processes (default 1)")
    ] = 1,
) -> None:
    """启动 API 与网页界面。Start the API and the web UI (migrates the database first)."""
    import uvicorn

    from yidi.catalog.commands import import_sample_catalogs
    from yidi.demo.loader import demo_accounts, load_demo_filings, load_reference_world
    from yidi.entrypoints.app import create_app
    from yidi.platform.logging_setup import configure_logging
    from yidi.platform.migrate import upgrade

    container = open_container(demo=demo, require_current_schema=False)
    configure_logging(container.settings.log_level)
    _check_gateway_auth(container)
    upgrade(container.engine)  # serve sets the database up (the README's run command)
    _refuse_demo_passwords(container)
    if container.settings.demo_mode:
        load_reference_world(container.uow())
        load_demo_filings(container.uow, container.clock, container.filings)
        import_sample_catalogs(container.uow, container.clock)
        if scenario:
            _load_scenario(container)
        typer.echo("演示账户 demo accounts (username / password):")
        for username, password, label in demo_accounts():
            typer.echo(f"  {username:<10} {password:<22} {label}")
    bind_host = host or container.settings.host
    bind_port = port or container.settings.port
    typer.echo(f"yidi 已启动 running at http://{bind_host}:{bind_port}/  (API: /openapi.json)")
    if workers > 1:
        # Each worker process builds its own app (and connection pool) from the environment.
        if demo:
            os.environ["YIDI_DEMO_MODE"] = "1"
        container.engine.dispose()
        uvicorn.run(
            "yidi.entrypoints.cli.main:app_from_environment",
            factory=True,
            workers=workers,
            host=bind_host,
            port=bind_port,
            log_level="warning",
            server_header=False,
            **proxy_options(container.settings),
        )
        return
    uvicorn.run(
        create_app(container),
        host=bind_host,
        port=bind_port,
        log_level="warning",
        server_header=False,
        **proxy_options(container.settings),
    )


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options: believe X-Forwarded-For/-Proto only from the
    proxies in ``YIDI_FORWARDED_ALLOW_IPS`` (uvicorn's own default trusts 127.0.0.1, so any
    local process could pose as any address)."""
    trusted = ",".join(
        part.strip() for part in settings.forwarded_allow_ips.split(",") if part.strip()
    )
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _refuse_demo_passwords(container: Container) -> None:
    """Outside demo mode, no account may still have its published demo password."""
    from yidi.auth.commands import accounts_with_demo_passwords

    if container.settings.demo_mode:
        return
    found = accounts_with_demo_passwords(container.uow())
    if not found:
        return
    typer.echo(
        f"拒绝启动 refusing to start: 以下账户仍使用演示密码 these accounts still have their demo "
        f"password: {', '.join(found)}。请用 `yidi user reset-link <用户名>` 为其发放重置链接，"
        "或由管理员停用这些账户。Issue a reset link (`yidi user reset-link <name>`) or disable "
        "them, then start again.",
        err=True,
    )
    raise typer.Exit(2)


def _check_gateway_auth(container: Container) -> None:
    """Refuse to start when gateway authentication is required but cannot be set up."""
    from yidi.bootstrap import build_gateway_authenticator

    with gateway_cli.exit_on_configuration_error("配置错误 configuration error"):
        authenticator = build_gateway_authenticator(container)
    if authenticator is None:
        typer.echo(
            "网关认证 gateway auth: none (fixmedins_code trusted; demo or behind a front end)"
        )
    else:
        typer.echo(
            f"网关认证 gateway auth: required ({authenticator.credential_count} credentials)"
        )


def app_from_environment() -> FastAPI:
    """The app for one ``serve --workers`` worker process, configured from ``YIDI_*``."""
    from yidi.entrypoints.app import create_app
    from yidi.platform.logging_setup import configure_logging

    container = open_container()
    configure_logging(container.settings.log_level)
    return create_app(container)


def run() -> None:
    app()
