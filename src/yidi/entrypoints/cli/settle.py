"""``yidi settle``: settle one claim file against the shipped policies and catalogues,
or an analyst's own policy tree (``--policy-root DIR`` or ``YIDI_POLICY_ROOT``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from yidi.catalog.files import parse_catalog_csv, parse_catalog_xlsx
from yidi.integrations.nhsa.fields import SETLINFO_FIELDS, fee_line_fields, setlinfo_amounts
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.policy.loader import load_policy_library
from yidi.settlement.amounts import label_zh
from yidi.settlement.inputs import parse_claim, parse_year_to_date
from yidi.settlement.result import SettlementResult
from yidi.settlement.shipped import settle_with_shipped_data

app = typer.Typer(help="结算测算。Settle a claim file.")


def result_as_json(result: SettlementResult) -> dict[str, Any]:
    return {
        "mode": result.mode.value,
        "scheme": result.scheme,
        "setlinfo": setlinfo_amounts(result),
        "policy_version": result.policy_version,
        "catalog_version": result.catalog_version,
        "lines": [
            {
                **fee_line_fields(line),
                "name": line.name,
                "reason": line.reason_zh,
                "reason_en": line.reason_en,
            }
            for line in result.lines
        ],
        "explanation": result.explanation_zh(),
        "explanation_en": result.explanation_en(),
        "year_to_date_delta": result.year_to_date_delta.as_dict(),
        "year_to_date_after": result.year_to_date_after.as_dict(),
    }


@app.command("settle")
def settle_command(
    claim_file: Annotated[
        Path, typer.Argument(help="结算申请 JSON 文件。Claim JSON file.", exists=True)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON。Print JSON.")] = False,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", help="就医地目录 CSV/XLSX（默认：示例目录）。Treatment catalogue file."
        ),
    ] = None,
    manual: Annotated[
        bool,
        typer.Option("--manual", help="按回参保地手工报销测算。Compute a manual reimbursement."),
    ] = False,
    policy_root: Annotated[
        Path | None,
        typer.Option(
            "--policy-root",
            envvar="YIDI_POLICY_ROOT",
            help="政策目录（<区划>/<employee|resident>/*.yaml；默认：随软件发布的政策）。Policy tree.",
        ),
    ] = None,
) -> None:
    """读入结算申请，按参保地政策、就医地目录测算并输出。Settle one claim and print the result."""
    try:
        data = json.loads(claim_file.read_text(encoding="utf-8"))
        claim = parse_claim(data)
        year_to_date = parse_year_to_date(data.get("year_to_date"), claim.settlement_year)
        catalogue = None
        if catalog is not None:
            label = catalog.name
            if catalog.suffix.lower() == ".xlsx":
                catalogue = parse_catalog_xlsx(
                    catalog.read_bytes(), claim.treatment_region, label, claim.admitted_on
                )
            else:
                catalogue = parse_catalog_csv(
                    catalog.read_text(encoding="utf-8"),
                    claim.treatment_region,
                    label,
                    claim.admitted_on,
                )
        library = None if policy_root is None else load_policy_library(policy_root)
        result = settle_with_shipped_data(
            claim,
            year_to_date,
            mode=SettlementMode.MANUAL if manual else SettlementMode.DIRECT,
            catalog=catalogue,
            library=library,
        )
    except YidiError as error:
        typer.echo(f"{error.code}: {error.message} ({error.message_en})", err=True)
        raise typer.Exit(code=2) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        typer.echo(f"CLAIM_FILE_INVALID: 结算申请文件不是有效的 JSON ({error})", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(result_as_json(result), ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table(title="结算结果 Settlement")
    table.add_column("字段 field")
    table.add_column("含义 meaning")
    table.add_column("金额 amount", justify="right")
    for name, national in SETLINFO_FIELDS.items():
        table.add_row(national, label_zh(name), getattr(result, name).formatted())
    console.print(table)
    for text in result.explanation_zh():
        console.print(f"• {text}")
    console.print(f"policy {result.policy_version[:12]}  catalogue {result.catalog_version[:12]}")
