"""``yidi calendar``: check announced holiday files (放假安排) and see which calendar a year uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from yidi.kernel.errors import ValidationFailed, YidiError

app = typer.Typer(help="节假日日历。Holiday calendar.", no_args_is_help=True)

DirectoryOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="YIDI_HOLIDAY_DIRECTORY",
        help="运维放假安排目录 operator directory of <year>.yaml files (YIDI_HOLIDAY_DIRECTORY)",
        file_okay=False,
    ),
]

_SOURCE_LABELS = {
    "library": "节假日库 library",
    "announced": "放假安排文件 announced file",
    "provisional": "按法定节假日推算 provisional",
}


@app.command("check")
def check(directory: DirectoryOption = None) -> None:
    """校验放假安排文件（随附的与运维目录中的）。Validate the shipped and the operator's files."""
    from yidi.kernel.announced_holidays import load_arrangements
    from yidi.kernel.workdays import arrangement_directories, supported_years

    if directory is not None and not directory.is_dir():
        typer.echo(f"错误 error: 目录不存在 no such directory: {directory}", err=True)
        raise typer.Exit(code=1)
    try:
        arrangements = load_arrangements(arrangement_directories(directory))
    except ValidationFailed as failed:
        for error in failed.errors:
            typer.echo(f"错误 error: {error.message}", err=True)
        typer.echo(f"{len(failed.errors)} 处错误 errors", err=True)
        raise typer.Exit(code=1) from None
    first, last = supported_years()
    typer.echo(f"节假日库收录 library years: {first}–{last}")
    for year, arrangement in sorted(arrangements.items()):
        ignored = (
            "（节假日库已收录，本文件不使用 library wins, file unused）" if year <= last else ""
        )
        typer.echo(
            f"{year}: {arrangement.notice} 放假 {len(arrangement.holidays)} 天 holidays, "
            f"调休上班 {len(arrangement.workdays)} 天 workdays — {arrangement.origin}{ignored}"
        )
    typer.echo(f"{len(arrangements)} 个文件通过校验 files valid")


@app.command("deadline")
def deadline(
    admitted_on: Annotated[str, typer.Argument(help="入院日期 admission date YYYY-MM-DD")],
    directory: DirectoryOption = None,
) -> None:
    """计算急诊备案材料提交截止日及所用日历。The emergency filing deadline and its calendar."""
    from yidi.filing.model.rules import rule_for
    from yidi.kernel.clock import SystemClock
    from yidi.kernel.insurance import FilingCategory
    from yidi.kernel.workdays import PROVISIONAL_NOTE_ZH, build_working_day_calendar

    try:
        day = dt.date.fromisoformat(admitted_on)
    except ValueError:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD：{admitted_on}") from None
    try:
        calendar = build_working_day_calendar(
            operator_directory=directory, today=SystemClock().today
        )
        # The emergency filing rule's deadline (2017 national rule data: 3 working days).
        working_days = rule_for(FilingCategory.EMERGENCY).submission_working_days
        assert working_days is not None
        due = calendar.emergency_filing_due(day, working_days)
    except YidiError as error:
        typer.echo(f"错误 error [{error.code}]: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"截止日 deadline: {due.on.isoformat()}（{_SOURCE_LABELS[due.source.value]}）")
    if due.provisional:
        typer.echo(PROVISIONAL_NOTE_ZH)
