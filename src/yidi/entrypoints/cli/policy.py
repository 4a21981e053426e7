"""``yidi policy``: check policy files (参保地政策文件校验) and explain a region's schemes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from yidi.chronic.lists import DiseaseLists
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import InsuranceType
from yidi.policy.describe import describe_policy
from yidi.policy.loader import check_policies, load_policy_library, policy_at
from yidi.policy.model import SchemeKind

app = typer.Typer(help="参保地政策文件。Insured-region policy files.", no_args_is_help=True)

_ROOT_HELP = "政策目录（默认：随软件发布的 policies）。Policy tree (default: the shipped one)."


@app.command("check")
def check(
    root: Annotated[
        Path | None, typer.Option("--root", envvar="YIDI_POLICY_ROOT", help=_ROOT_HELP)
    ] = None,
) -> None:
    """校验全部政策文件，有错误时以非零状态退出。Validate every policy file; exit 1 on any error."""
    issues = [*check_policies(root), *DiseaseLists(policy_root=root).check()]
    library = load_policy_library(root)
    if issues:
        for issue in issues:
            typer.echo(f"错误 error: {issue}", err=True)
        typer.echo(f"{len(issues)} 个错误 / {len(issues)} error(s)", err=True)
        raise typer.Exit(code=1)
    for region, insurance_type in library.regions():
        source = library.sources[(region, insurance_type)]
        schemes = "、".join(kind.label_zh for kind in source.schemes)
        typer.echo(
            f"{region} {source.region_name} {insurance_type.label_zh}: "
            f"{schemes}；{len(source.parameters)} 个参数 parameters"
            + ("（示例值 illustrative）" if source.illustrative else "")
        )
    typer.echo("政策文件全部有效。All policy files are valid.")


@app.command("explain")
def explain(
    region: Annotated[
        str, typer.Argument(help="参保地区划代码。Insured region code, e.g. 430400.")
    ],
    insurance_type: Annotated[
        str, typer.Argument(help="险种 employee | resident（或 310 / 390）。Insurance type.")
    ],
    on_date: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD。Date the rules are in force.")],
    scheme: Annotated[
        str | None,
        typer.Option(
            "--scheme", help="只显示一种方案：inpatient | outpatient | chronic | pharmacy。"
        ),
    ] = None,
    root: Annotated[
        Path | None, typer.Option("--root", envvar="YIDI_POLICY_ROOT", help=_ROOT_HELP)
    ] = None,
) -> None:
    """用中文说明某日有效的待遇方案及其依据。Print the benefit schemes in force, in plain Chinese."""
    try:
        kind = InsuranceType.parse(insurance_type)
        day = dt.date.fromisoformat(on_date)
        only = None if scheme is None else SchemeKind(scheme)
    except ValueError as error:
        typer.echo(f"POLICY_EXPLAIN_ARGUMENT: 参数无效 invalid argument ({error})", err=True)
        raise typer.Exit(code=2) from None
    try:
        policy = policy_at(region, kind, day, load_policy_library(root))
    except YidiError as error:
        typer.echo(f"{error.code}: {error.message} ({error.message_en})", err=True)
        raise typer.Exit(code=2) from None
    for line in describe_policy(policy, only):
        typer.echo(line)
