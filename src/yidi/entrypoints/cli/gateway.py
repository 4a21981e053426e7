"""``yidi gateway credential``: keys hospital systems sign gateway requests with (网关凭据)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from yidi.integrations.nhsa.gateway_auth import Scheme

app = typer.Typer(help="国家平台兼容网关。National-platform gateway.", no_args_is_help=True)
credential_app = typer.Typer(
    help="网关凭据（医院系统的访问密钥）。Gateway credentials of hospital systems.",
    no_args_is_help=True,
)
app.add_typer(credential_app, name="credential")

CredentialsFile = Annotated[
    Path,
    typer.Option(
        "--file",
        envvar="YIDI_GATEWAY_CREDENTIALS",
        help="网关凭据文件 credentials file (default: YIDI_GATEWAY_CREDENTIALS)",
    ),
]


@contextlib.contextmanager
def exit_on_configuration_error(prefix: str = "错误 error") -> Iterator[None]:
    """A configuration problem (a ``ValueError``) ends the command with its reason, exit 2."""
    try:
        yield
    except ValueError as exc:
        typer.echo(f"{prefix}: {exc}", err=True)
        raise typer.Exit(2) from None


@credential_app.command("add")
def add(
    hospital: Annotated[
        list[str],
        typer.Option(help="可代表的定点医药机构编号 fixmedins_code (repeat for several)"),
    ],
    scheme: Annotated[Scheme, typer.Option(help="签名方式 header scheme: hn | x-tif")],
    file: CredentialsFile,
    access_key: Annotated[
        str | None,
        typer.Option(help="访问密钥 / paasid (default: generated)"),
    ] = None,
) -> None:
    """为医院系统新建凭据，写入凭据文件（权限 600），密钥只显示这一次。Create a credential; the secret is shown once."""
    from yidi.auth.gateway_credentials import add_credential

    with exit_on_configuration_error():
        credential = add_credential(
            file, hospital_codes=hospital, scheme=scheme, access_key=access_key
        )
    key_header = "x-tif-paasid" if credential.scheme is Scheme.X_TIF else "_api_access_key"
    typer.echo(f"已写入 written to {file}")
    typer.echo(f"scheme      {credential.scheme.value}")
    typer.echo(f"hospitals   {', '.join(sorted(credential.hospital_codes))}")
    typer.echo(f"access_key  {credential.access_key}   ({key_header})")
    typer.echo(f"secret      {credential.secret}")
    typer.echo("密钥只显示这一次，请安全交给医院。The secret is shown only this once.")


@credential_app.command("list")
def list_credentials(file: CredentialsFile) -> None:
    """列出凭据（不显示密钥）。List credentials without their secrets."""
    from yidi.auth.gateway_credentials import load_credentials

    with exit_on_configuration_error():
        credentials = load_credentials(file)
    for credential in credentials.values():
        hospitals = ",".join(sorted(credential.hospital_codes))
        typer.echo(f"{credential.access_key}\t{credential.scheme.value}\t{hospitals}")
    typer.echo(f"{len(credentials)} 个凭据 credentials")


AccessKey = Annotated[str, typer.Argument(help="访问密钥 access key / paasid")]


@credential_app.command("rotate")
def rotate(access_key: AccessKey, file: CredentialsFile) -> None:
    """为凭据换新密钥（访问密钥与医院不变），重启服务后旧密钥失效。Give a credential a new secret."""
    from yidi.auth.gateway_credentials import rotate_credential

    with exit_on_configuration_error():
        credential = rotate_credential(file, access_key)
    typer.echo(f"已写入 written to {file}")
    typer.echo(f"access_key  {credential.access_key}")
    typer.echo(f"secret      {credential.secret}")
    typer.echo(
        "密钥只显示这一次；重启服务后旧密钥失效。"
        "The secret is shown only this once; the old one stops working when yidi restarts."
    )


@credential_app.command("revoke")
def revoke(access_key: AccessKey, file: CredentialsFile) -> None:
    """吊销凭据（从凭据文件删除），重启服务后生效。Revoke a credential (effective on restart)."""
    from yidi.auth.gateway_credentials import revoke_credential

    with exit_on_configuration_error():
        credential = revoke_credential(file, access_key)
    hospitals = ",".join(sorted(credential.hospital_codes))
    typer.echo(
        f"已吊销 revoked {credential.access_key} ({hospitals})；重启服务后生效 effective on restart"
    )


@app.command("refusals")
def refusals(
    hours: Annotated[int, typer.Option(min=1, max=24 * 366, help="最近几小时 last N hours")] = 24,
) -> None:
    """列出被拒绝的网关请求（按分钟、来源地址、密钥、原因计数）。Refused gateway requests, counted per minute and source."""
    from yidi.auth.gateway import recent_refusals
    from yidi.entrypoints.cli.context import open_container

    container = open_container()
    rows = recent_refusals(container.uow(), container.clock, hours=hours)
    if not rows:
        typer.echo(
            f"最近{hours}小时没有被拒绝的网关请求。No refused gateway request in the last {hours} h."
        )
        return
    typer.echo("minute (UTC)        count  address          key              code / last reason")
    for row in rows:
        typer.echo(
            f"{row.minute:%Y-%m-%d %H:%M}  {row.count:>6}  {row.address:<15}  "
            f"{row.access_key:<15}  {row.code} / {row.last_reason}"
        )
    typer.echo(f"合计 total {sum(row.count for row in rows)}")


@app.command("prune-files")
def prune_files() -> None:
    """删除已过下载截止时间的 9101/9102 文件（上传时也会清理）。Delete gateway files past their download deadline."""
    from yidi.entrypoints.cli.context import open_container

    container = open_container()
    files = container.gateway.files
    if files is None:
        typer.echo("本服务未开通文件交易。File transactions are not offered here.")
        return
    deleted = files.prune()
    typer.echo(f"已删除 deleted {deleted} 个过期文件 expired file(s)")
