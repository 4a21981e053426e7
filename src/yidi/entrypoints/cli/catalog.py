"""``yidi catalog``: import a treatment region's catalogue file (就医地目录导入)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from yidi.kernel.errors import ValidationFailed, YidiError

app = typer.Typer(help="就医地医保目录。Treatment-region catalogues.", no_args_is_help=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD：{text}") from None


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV 或 XLSX 目录文件 catalogue file", exists=True)],
    region: Annotated[str, typer.Option(help="就医地区划代码 treatment region, e.g. 450000")],
    effective: Annotated[str, typer.Option(help="执行日期 effective date YYYY-MM-DD")],
    label: Annotated[str | None, typer.Option(help="版本名称 version label")] = None,
) -> None:
    """校验并导入目录文件；相同内容重复导入不会产生新版本。Validate and import; idempotent by content."""
    from yidi.catalog.commands import import_catalog_file
    from yidi.entrypoints.cli.context import open_container

    container = open_container()
    try:
        report = import_catalog_file(
            container.uow, container.clock, file, region, _date(effective), label
        )
    except ValidationFailed as failed:
        for error in failed.errors:
            typer.echo(f"错误 error: {error.message}", err=True)
        typer.echo(f"{len(failed.errors)} 处错误，未导入 / not imported", err=True)
        raise typer.Exit(code=1) from None
    except YidiError as error:
        typer.echo(f"错误 error [{error.code}]: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    version = report.version
    verb = "已导入 imported" if report.created else "内容相同，已存在 already stored"
    typer.echo(
        f"{verb}: {version.treatment_region} 自 {version.effective_on} 起执行，"
        f"{version.item_count} 条，版本 {version.version_label}，sha256 {version.content_hash[:16]}…"
    )


@app.command("list")
def list_versions(
    region: Annotated[str | None, typer.Option(help="就医地区划代码 treatment region")] = None,
) -> None:
    """列出已导入的目录版本。List the stored catalogue versions."""
    from yidi.entrypoints.cli.context import open_container

    container = open_container()
    with container.uow() as uow:
        versions = uow.hospital.catalog_versions(region)
    for v in versions:
        typer.echo(
            f"{v.treatment_region} {v.effective_on} {v.item_count:>6} 条 {v.version_label} "
            f"{v.content_hash[:16]}"
        )
    if not versions:
        typer.echo("没有目录版本 no catalogue versions")
