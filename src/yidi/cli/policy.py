"""``yidi policy``: check the shipped policy files (参保地政策文件校验)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yidi.policy.loader import check_policies, load_policy_library

app = typer.Typer(help="参保地政策文件。Insured-region policy files.", no_args_is_help=True)


@app.command("check")
def check(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root", help="政策目录（默认：随软件发布的 policies）。Policy tree to check."
        ),
    ] = None,
) -> None:
    """校验全部政策文件，有错误时以非零状态退出。Validate every policy file; exit 1 on any error."""
    issues = check_policies(root)
    library = load_policy_library(root)
    if issues:
        for issue in issues:
            typer.echo(f"错误 error: {issue}", err=True)
        typer.echo(f"{len(issues)} 个错误 / {len(issues)} error(s)", err=True)
        raise typer.Exit(code=1)
    for region, insurance_type in library.regions():
        source = library.sources[(region, insurance_type)]
        typer.echo(
            f"{region} {source.region_name} {insurance_type.label_zh}: "
            f"{len(source.parameters)} 个参数 parameters"
            + ("（示例值 illustrative）" if source.illustrative else "")
        )
    typer.echo("政策文件全部有效。All policy files are valid.")
