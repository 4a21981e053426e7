"""``yidi account``: personal accounts (个人账户) of employee-insured persons."""

from __future__ import annotations

from typing import Annotated

import typer

from yidi.kernel.errors import YidiError

app = typer.Typer(help="个人账户。Personal accounts.", no_args_is_help=True)


@app.command("credit")
def credit_command(
    id_number: Annotated[str, typer.Argument(help="身份证号 ID number")],
    year: Annotated[int, typer.Argument(help="年度 year")],
    amount: Annotated[str, typer.Argument(help="划入金额（元，到分）amount in yuan")],
    reference: Annotated[
        str, typer.Option("--reference", help="划入凭证号（同号只划入一次）voucher reference")
    ],
    source: Annotated[
        str, typer.Option("--source", help="资金来源 source, e.g. 单位缴费划入")
    ] = "划入",
) -> None:
    """划入个人账户。Credit a person's personal account for a year."""
    from yidi.accounts.commands import credit
    from yidi.entrypoints.cli.context import open_container

    container = open_container()
    try:
        view = credit(
            container.uow(),
            container.clock,
            id_number=id_number,
            year=year,
            amount=amount,
            reference=reference,
            source=source,
            actor="cli",
        )
    except YidiError as error:
        typer.echo(f"错误 error [{error.code}]: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(
        f"{view.person.psn_no} {view.year} 年个人账户余额 balance: {view.balance} 元"
        f"（{len(view.movements)} 笔变动 movements）"
    )
