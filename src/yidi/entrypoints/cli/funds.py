"""``yidi clearing``, ``yidi prepayment`` and ``yidi stats``: the money side from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from yidi.entrypoints.cli.context import open_container

clearing_app = typer.Typer(help="月度清算。Monthly clearing between regions.", no_args_is_help=True)
prepayment_app = typer.Typer(
    help="预付金测算（附件3/附件4）。Prepayment estimation (annex 3 / annex 4).",
    no_args_is_help=True,
)
stats_app = typer.Typer(
    help="异地就医统计。Cross-region settlement statistics.", no_args_is_help=True
)


@clearing_app.command("run")
def clearing_run(
    month: Annotated[str, typer.Option(help="清算月份 YYYY-MM")],
    level: Annotated[str, typer.Option(help="province 省级 | prefecture 市级")] = "province",
    close: Annotated[bool, typer.Option(help="清算后关账 close the month")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="清算单 .xlsx 或 .json")
    ] = None,
) -> None:
    """运行（或重跑）月度清算。Run or repeat the month's clearing; a closed month is not recomputed."""
    from yidi.funds.commands import run_clearing
    from yidi.funds.model import ClearingLevel
    from yidi.reports.cells import save_workbook
    from yidi.reports.funds_xlsx import statement_workbook

    container = open_container()
    result = run_clearing(
        container.uow(), container.clock, month, ClearingLevel(level), close=close
    )
    statement = result.statement
    typer.echo(
        f"{statement.month} {level} {result.status}: {len(statement.lines)} 对地区 pairs, "
        f"{statement.person_times} 人次, 应付 due {statement.due_total.formatted()} 元, "
        f"差额 balance {statement.balance_to_pay.formatted()} 元, sha256 {result.content_hash}"
    )
    if output is not None:
        if output.suffix == ".json":
            output.write_text(statement.to_json(), encoding="utf-8")
        else:
            save_workbook(statement_workbook(statement, status=result.status), output)
        typer.echo(f"已写出 written {output}")


@clearing_app.command("reopen")
def clearing_reopen(
    month: Annotated[str, typer.Option(help="清算月份 YYYY-MM")],
    reason: Annotated[str, typer.Option(help="重新开账原因（记入审计日志） reason, audited")],
    level: Annotated[str, typer.Option(help="province 省级 | prefecture 市级")] = "province",
) -> None:
    """重新开账（关错的月份）。Reopen a wrongly closed month, with a reason (audited)."""
    from yidi.funds.commands import reopen_clearing
    from yidi.funds.model import ClearingLevel
    from yidi.kernel.errors import YidiError

    container = open_container()
    try:
        result = reopen_clearing(
            container.uow(), container.clock, month, ClearingLevel(level), reason
        )
    except YidiError as error:
        typer.echo(f"{error.code}: {error.message} / {error.message_en}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{month} {level} {result.status}: 已重新开账 reopened (was sha256 {result.content_hash})"
    )


@clearing_app.command("export-parquet")
def clearing_export_parquet(
    root: Annotated[Path, typer.Argument(help="导出根目录 export root (clearing_month=YYYY-MM/)")],
) -> None:
    """把结算事实按清算月份增量导出为 Parquet。Export settlement facts by month, incrementally."""
    from yidi.reports.columnar import export_facts_partitioned

    container = open_container()
    report = export_facts_partitioned(container.uow(), root)
    for month, rows in sorted(report.written.items()):
        typer.echo(f"{month}: {rows} 条 rows")
    typer.echo(
        f"写出 {len(report.written)} 个月 {report.rows} 条，未变 {len(report.unchanged)} 个月 "
        f"written {len(report.written)} months ({report.rows} rows), unchanged {len(report.unchanged)}"
    )


@prepayment_app.command("estimate")
def prepayment_estimate(
    annex: Annotated[int, typer.Option(help="3 省内 | 4 省外")],
    year: Annotated[int, typer.Option(help="测算年度 target year")],
    region: Annotated[str, typer.Option(help="填报地区 (参保地) 代码, e.g. 410100")],
    output: Annotated[Path, typer.Option("--output", "-o", help=".xlsx 文件")],
    method: Annotated[str, typer.Option(help="average 三年平均 | trend 线性趋势")] = "average",
    months: Annotated[int, typer.Option(help="预付月数 prepayment months")] = 2,
) -> None:
    """按通知格式输出附件3/附件4测算表。Write annex 3 / 4 in the notice's layout."""
    from yidi.funds.commands import estimate_prepayment
    from yidi.funds.prepayment import Annex, EstimateMethod
    from yidi.reports.cells import save_workbook
    from yidi.reports.funds_xlsx import annex_workbook

    container = open_container()
    estimate = estimate_prepayment(
        container.uow(),
        Annex(annex),
        region,
        year,
        method=EstimateMethod(method),
        prepayment_months=months,
    )
    save_workbook(annex_workbook(estimate, prepared_on=container.clock.today()), output)
    total = estimate.chosen.total
    typer.echo(
        f"附件{annex} {estimate.insured_region_name} {year}: {total.column(1)} 人次, "
        f"{total.column(2) / 100:,.2f} 元; 预付金建议 proposal "
        f"{estimate.proposal_total_fen / 100:,.2f} 元 -> {output}"
    )


@stats_app.command("show")
def stats_show(
    region: Annotated[str, typer.Option(help="地区代码 region code")],
    direction: Annotated[str, typer.Option(help="outbound 外出 | inbound 外来")] = "outbound",
    group_by: Annotated[
        str, typer.Option(help="insured_region, treatment_province, hospital …")
    ] = ("treatment_province"),
    settled_from: Annotated[str | None, typer.Option(help="起 YYYY-MM-DD")] = None,
    settled_to: Annotated[str | None, typer.Option(help="止 YYYY-MM-DD")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json | csv | xlsx | html")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    sentence: Annotated[bool, typer.Option(help="输出一句话通报 print the news sentence")] = False,
) -> None:
    """按一个查询输出统计表。One statistics query, rendered as JSON, CSV, XLSX or HTML."""
    from yidi.funds.commands import statistics
    from yidi.funds.statistics import Dimension, Direction, StatisticsQuery, outbound_sentence
    from yidi.reports.statistics import render

    container = open_container()
    query = StatisticsQuery(
        region,
        Direction(direction),
        Dimension(group_by),
        dt.date.fromisoformat(settled_from) if settled_from else None,
        dt.date.fromisoformat(settled_to) if settled_to else None,
    )
    report = statistics(container.uow(), query)
    if sentence:
        typer.echo(outbound_sentence(report, query.settled_to or container.clock.today()))
        return
    content = render(report, fmt)
    if output is None:
        if fmt == "xlsx":
            raise typer.BadParameter("xlsx 需要 --output")
        typer.echo(content.decode("utf-8"))
    else:
        output.write_bytes(content)
        typer.echo(f"已写出 written {output}")
