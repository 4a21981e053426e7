"""``yidi whatif``: 政策调整测算 — re-settle a claims file, or the settlements stored in the
database for a period and region, under the current and a candidate policy tree and report the
fund impact by region, hospital level, encounter kind and month."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yidi.catalog.files import sample_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.kernel.money import Money
from yidi.policy.loader import load_policy_library, shipped_policy_library
from yidi.reports.whatif import DIMENSIONS, WhatIfReport, read_claims, what_if
from yidi.reports.whatif_export import change_cells
from yidi.reports.whatif_stored import StoredSelection, read_stored_claims

if TYPE_CHECKING:
    from yidi.bootstrap import Container

app = typer.Typer(help="政策调整测算。Policy what-if.")

_DIMENSION_ZH = {
    "region": "参保地 region",
    "hospital_level": "医院级别 hospital level",
    "encounter": "就医类型 encounter",
    "month": "出院月份 month",
}


def _date(text: str | None) -> dt.date | None:
    try:
        return None if text is None else dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"WHATIF_DATE_INVALID: 日期“{text}”无效 (invalid date)", err=True)
        raise typer.Exit(code=2) from None


def _container() -> Container:
    from yidi.bootstrap import build_container
    from yidi.platform.migrate import upgrade
    from yidi.settings import Settings

    try:
        settings = Settings()
    except ValueError as exc:
        typer.echo(f"配置错误 configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    container = build_container(settings)
    upgrade(container.engine)
    return container


def _yuan(fen: int) -> str:
    return Money.from_fen(fen).formatted()


def _print(report: WhatIfReport, console: Console) -> None:
    total = report.total
    console.print(
        f"测算 {report.claims} 条结算：基金支付 {_yuan(total.current['fund_paid_total'])} → "
        f"{_yuan(total.candidate['fund_paid_total'])}，变化 {_yuan(total.delta())} 元 | "
        f"{report.claims} claims: fund {_yuan(total.delta())} yuan"
    )
    for dim in DIMENSIONS:
        table = Table(title=_DIMENSION_ZH[dim])
        for column in ("key", "claims", "current fund", "candidate fund", "delta"):
            table.add_column(column, justify="left" if column == "key" else "right")
        for key, bucket in sorted(report.by[dim].items()):
            table.add_row(
                key,
                str(bucket.claims),
                _yuan(bucket.current["fund_paid_total"]),
                _yuan(bucket.candidate["fund_paid_total"]),
                _yuan(bucket.delta()),
            )
        console.print(table)
    if report.top:
        table = Table(title="变化最大的结算 claims that change most")
        for column in ("claim", "person", "region", "month", "current", "candidate", "delta"):
            table.add_column(column)
        for change in report.top:
            table.add_row(*change_cells(change, _yuan))
        console.print(table)
    for label, counts in (
        ("current", report.errors_current),
        ("candidate", report.errors_candidate),
    ):
        if counts:
            console.print(f"未结算 not settled ({label}): {counts}")
    if report.baseline_compared:
        console.print(
            f"现行政策重算与已结算金额核对 baseline check: {report.baseline_compared} 条结算, "
            f"{report.baseline_different_claims} 条不一致 differ"
        )
    console.print(
        f"按单条结算引擎计算 settled by the per-claim engine: current {report.fallback_current}, "
        f"candidate {report.fallback_candidate}"
    )


@app.command("whatif")
def whatif_command(
    policy_root: Annotated[
        Path,
        typer.Option("--policy-root", help="拟调整的政策目录。Candidate policy tree."),
    ],
    claims_file: Annotated[
        Path | None,
        typer.Argument(
            help="结算申请 JSON-lines 或 Parquet 文件（用 --stored 时省略）。Claims file; omit with --stored."
        ),
    ] = None,
    current_root: Annotated[
        Path | None,
        typer.Option(
            "--current-root", help="现行政策目录（默认：随软件发布的政策）。Current policy tree."
        ),
    ] = None,
    on_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="拟调整政策的生效日（默认：各条出院日）。Candidate policy in force on this date.",
        ),
    ] = None,
    manual: Annotated[
        bool, typer.Option("--manual", help="按手工报销测算。Manual reimbursement.")
    ] = False,
    top: Annotated[int, typer.Option("--top", min=0, help="列出变化最大的条数。")] = 20,
    stored: Annotated[
        bool,
        typer.Option(
            "--stored",
            help="重算数据库中已结算的记录（须给 --from/--to）。Re-settle the stored settlements.",
        ),
    ] = False,
    period_from: Annotated[
        str | None, typer.Option("--from", help="出院日期起（含）。Discharged from (YYYY-MM-DD).")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="出院日期止（含）。Discharged up to (YYYY-MM-DD).")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="参保地（省、市或县代码）。Insured within this region."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="JSON 报告文件（- 为标准输出）。JSON report.")
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="CSV 报告（另写 *-claims.csv）。CSV breakdown report."),
    ] = None,
) -> None:
    """按现行和拟调整政策重算，报告基金支出变化。Re-settle under current and candidate policy."""
    console = Console(stderr=json_out == Path("-"))
    day = _date(on_date)
    if stored == (claims_file is not None):
        typer.echo(
            "WHATIF_SOURCE_INVALID: 请给出结算申请文件，或用 --stored 重算数据库中的结算（二者选一）"
            " (give a claims file or --stored, not both)",
            err=True,
        )
        raise typer.Exit(code=2)
    if stored and (period_from is None or period_to is None):
        typer.echo(
            "WHATIF_PERIOD_INVALID: --stored 须给出 --from 和 --to (period required)", err=True
        )
        raise typer.Exit(code=2)
    try:
        candidate = load_policy_library(policy_root)
        if candidate.issues:
            issue = candidate.issues[0]
            typer.echo(f"POLICY_FILE_INVALID: {issue}", err=True)
            raise typer.Exit(code=2)
        current = None if current_root is None else load_policy_library(current_root)
        paid: dict[str, dict[str, int]] | None = None
        catalog_for: Callable[[str], CatalogVersion]
        if claims_file is not None:
            claims = read_claims(claims_file)
            catalog_for = cache(sample_catalog)
        else:
            start, end = _date(period_from), _date(period_to)
            assert start is not None and end is not None
            selection = StoredSelection(start, end, region)
            container = _container()
            with container.uow() as uow:
                found = read_stored_claims(uow, selection, current or shipped_policy_library())
            claims, paid, catalog_for = found.claims, found.stored, found.catalog_for
            if current is None:
                current = shipped_policy_library()

        with Progress(
            TextColumn("重算 re-settling"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("claims", total=2 * len(claims))
            report = what_if(
                claims,
                catalog_for,
                current=current,
                candidate=candidate,
                on_date=day,
                mode=SettlementMode.MANUAL if manual else SettlementMode.DIRECT,
                top=top,
                progress=lambda n: progress.advance(task, n),
                stored=paid,
            )
    except YidiError as error:
        typer.echo(f"{error.code}: {error.message} ({error.message_en})", err=True)
        raise typer.Exit(code=2) from None
    if json_out is not None:
        text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
        if json_out == Path("-"):
            typer.echo(text)
        else:
            json_out.write_text(text + "\n", encoding="utf-8")
    if csv_out is not None:
        rows = report.csv_rows()
        with csv_out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        claims_csv = csv_out.with_name(f"{csv_out.stem}-claims.csv")
        changes = [change.as_dict() for change in report.top]
        with claims_csv.open("w", encoding="utf-8", newline="") as handle:
            fields = list(changes[0]) if changes else ["claim_id"]
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(changes)
    if json_out != Path("-"):
        _print(report, console)
