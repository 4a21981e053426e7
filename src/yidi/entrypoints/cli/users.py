"""``yidi user``: the first administrator account, and help when no administrator can sign in."""

from __future__ import annotations

from typing import Annotated

import typer

from yidi.entrypoints.cli.context import open_container
from yidi.kernel.access import Principal, Role
from yidi.kernel.errors import YidiError

app = typer.Typer(
    help="用户账户（日常管理请用网页“用户管理”）。User accounts (day to day: the web page).",
    no_args_is_help=True,
)

# The acting account written to the audit log for what the command line does.
CONSOLE = "console"


def _console_admin() -> Principal:
    return Principal(CONSOLE, Role.ADMINISTRATOR, display_name="命令行 command line")


def _fail(error: YidiError) -> typer.Exit:
    typer.echo(f"错误 error [{error.code}]: {error.message} ({error.message_en})", err=True)
    return typer.Exit(1)


@app.command("add-admin")
def add_admin(
    username: Annotated[str, typer.Argument(help="用户名 user name")],
    display_name: Annotated[str, typer.Option(help="名称 name")] = "系统管理员",
) -> None:
    """新建管理员账户（密码在终端输入，须符合口令策略）。Create an administrator account."""
    from yidi.auth.users import Assignment

    container = open_container()
    password = typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    service = container.users
    try:
        service.create(
            _console_admin(),
            username,
            password,
            Assignment("administrator", display_name),
        )
    except YidiError as error:
        raise _fail(error) from None
    typer.echo(
        f"已建立管理员 administrator {username} created (首次登录须修改密码 change at first sign-in)"
    )


@app.command("reset-link")
def reset_link(
    username: Annotated[str, typer.Argument(help="用户名 user name")],
) -> None:
    """发放一次性密码重置链接（旧密码与会话立即失效）。Issue a one-time reset link."""
    container = open_container()
    service = container.users
    try:
        link = service.issue_reset(_console_admin(), username)
    except YidiError as error:
        raise _fail(error) from None
    typer.echo(f"/password-reset?token={link.token}")
    typer.echo(
        f"有效至 valid until {link.expires_at:%Y-%m-%d %H:%M %Z}；只能使用一次 works once。"
        "把服务地址加在前面交给本人 prefix the server's address and give it to the user."
    )
