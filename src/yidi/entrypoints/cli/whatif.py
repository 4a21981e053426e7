"""``yidi whatif``: 政策调整测算 — re-settle a claims file under the current and a candidate
policy tree and report the fund impact by region, hospital level, encounter kind and month."""

from __future__ import annotations

import csv
import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yidi.catalog.files import sample_catalog
from yidi.catalog.model import CatalogVersion
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.kernel.money import Money
from yidi.policy.loader import load_policy_library
from yidi.reports.whatif import DIMENSIONS, WhatIfReport, read_claims, what_if

app = typer.Typer(help="政策调整测算。Policy what-if.")

_DIMENSION_ZH = {
    "region": "参保地 region",
    "hospital_level": "医院级别 hospital level",
    "encounter": "就医类型 encounter",
    "month": "出院月份 month",
}


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
            table.add_row(
                change.claim_id,
                change.person,
                change.region,
                change.month,
                _yuan(change.current_fund),
                _yuan(change.candidate_fund),
                _yuan(change.delta),
            )
        console.print(table)
    for label, counts in (
        ("current", report.errors_current),
        ("candidate", report.errors_candidate),
    ):
        if counts:
            console.print(f"未结算 not settled ({label}): {counts}")
    console.print(
        f"按单条结算引擎计算 settled by the per-claim engine: current {report.fallback_current}, "
        f"candidate {report.fallback_candidate}"
    )


@app.command("whatif")
def whatif_command(
    claims_file: Annotated[
        Path,
        typer.Argument(help="结算申请 JSON-lines 或 Parquet 文件。Claims file (.jsonl/.parquet)."),
    ],
    policy_root: Annotated[
        Path,
        typer.Option("--policy-root", help="拟调整的政策目录。Candidate policy tree."),
    ],
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
    try:
        day = None if on_date is None else dt.date.fromisoformat(on_date)
    except ValueError:
        typer.echo(f"WHATIF_DATE_INVALID: 日期“{on_date}”无效 (invalid date)", err=True)
        raise typer.Exit(code=2) from None
    try:
        candidate = load_policy_library(policy_root)
        if candidate.issues:
            issue = candidate.issues[0]
            typer.echo(f"POLICY_FILE_INVALID: {issue}", err=True)
            raise typer.Exit(code=2)
        current = None if current_root is None else load_policy_library(current_root)
        claims = read_claims(claims_file)

        @cache
        def catalog_for(region: str) -> CatalogVersion:
            return sample_catalog(region)

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
