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


@app.command("family-bind")
def family_bind_command(
    holder_id_number: Annotated[str, typer.Argument(help="账户持有人身份证号 holder's ID number")],
    member_id_number: Annotated[str, typer.Argument(help="共济家属身份证号 relative's ID number")],
    relation: Annotated[str, typer.Argument(help="关系：配偶/父母/子女 spouse, parent or child")],
    valid_from: Annotated[str, typer.Option("--from", help="开始日期 YYYY-MM-DD first day")],
    reference: Annotated[str, typer.Option("--reference", help="登记凭证号 reference")],
    valid_until: Annotated[
        str, typer.Option("--until", help="结束日期（含）YYYY-MM-DD last day (none: open)")
    ] = "",
) -> None:
    """家庭共济登记：持有人的个人账户可支付家属的个人负担。Bind a relative to a holder's account."""
    import datetime as dt

    from yidi.accounts.commands import bind_family
    from yidi.entrypoints.cli.context import open_container

    try:
        first = dt.date.fromisoformat(valid_from)
        last = dt.date.fromisoformat(valid_until) if valid_until else None
    except ValueError:
        typer.echo("错误 error [ACCOUNT_FAMILY_DATES_INVALID]: 日期应为 YYYY-MM-DD", err=True)
        raise typer.Exit(code=1) from None
    container = open_container()
    try:
        binding = bind_family(
            container.uow(),
            container.clock,
            holder_id_number=holder_id_number,
            member_id_number=member_id_number,
            relation=relation,
            valid_from=first,
            valid_until=last,
            reference=reference,
            actor="cli",
        )
    except YidiError as error:
        typer.echo(f"错误 error [{error.code}]: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(
        f"家庭共济登记 {binding.id}：{binding.relation.label_zh}，自 {binding.valid_from.isoformat()}"
        + (f" 至 {binding.valid_until.isoformat()}" if binding.valid_until else " 起")
    )
