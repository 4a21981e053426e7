"""``yidi filing …``: the filing lifecycle, 报盘 import and 附件2 exports from the command line.

Every command acts as a named operator (``--as-user``, an existing account),
or as the system batch operator for imports and exports; it is audited like
the API.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from yidi.entrypoints.cli.context import open_container

if TYPE_CHECKING:
    from yidi.bootstrap import Container
    from yidi.filing.queries import FilingDetail
    from yidi.kernel.access import Principal
    from yidi.policy.national import FilingModel

filing_app = typer.Typer(
    help="备案：新建、提交、审核、变更、撤销、查询、报盘导入、附件2导出。Filings.",
    no_args_is_help=True,
)

AsUser = Annotated[
    str | None, typer.Option("--as-user", help="以该账户身份操作（记入审计） act as this account")
]
T = TypeVar("T")


def _principal(container: Container, username: str | None, *, system_allowed: bool) -> Principal:
    from yidi.filing.scope import system_principal

    if username is None:
        if system_allowed:
            return system_principal()
        typer.echo("请用 --as-user 指定经办人账户 (--as-user is required)", err=True)
        raise typer.Exit(2)
    with container.uow() as uow:
        account = uow.users.by_username(username)
    if account is None or not account.active:
        typer.echo(f"账户不存在或已停用 unknown account: {username}", err=True)
        raise typer.Exit(2)
    return account.principal


@contextmanager
def _errors() -> Iterator[None]:
    from yidi.kernel.errors import YidiError

    try:
        yield
    except YidiError as error:
        typer.echo(f"错误 {error.code}: {error.message}", err=True)
        raise typer.Exit(1) from None


def _run(as_user: str | None, action: Callable[[Any, Principal], T]) -> T:

    container = open_container()
    principal = _principal(container, as_user, system_allowed=False)
    with _errors():
        return action(container.filings, principal)


def _print_detail(detail: FilingDetail) -> None:
    from yidi.filing.record_json import record_to_dict

    typer.echo(
        json.dumps(
            {
                "filing_id": detail.filing_id,
                "state": detail.state.value,
                "state_label": detail.state.label_zh,
                "state_reason": detail.state_reason,
                "record": record_to_dict(detail.record),
                "versions": [(v.version, v.state.value) for v in detail.versions],
                "missing_evidence": list(detail.missing_evidence),
                "warnings": [w.message for w in detail.warnings],
            },
            ensure_ascii=False,
            indent=2,
        )
    )


def _read_request(path: Path) -> Any:
    from pydantic import ValidationError

    from yidi.entrypoints.http.filing_bodies import CreateFilingRequest

    try:
        return CreateFilingRequest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as error:
        typer.echo(f"文件内容不正确 invalid file {path}: {error}", err=True)
        raise typer.Exit(2) from None


@filing_app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help='JSON：{"record": {...}, "evidence": [...]}')],
    as_user: AsUser = None,
) -> None:
    """从JSON文件新建备案草稿。Create a draft from a JSON file (the API's request body)."""
    body = _read_request(file)
    detail = _run(
        as_user,
        lambda service, who: service.create_draft(
            who, body.record.to_record(), evidence=[e.to_evidence() for e in body.evidence]
        ),
    )
    _print_detail(detail)


@filing_app.command("submit")
def submit(
    filing: Annotated[str, typer.Argument(help="备案ID或编号")], as_user: AsUser = None
) -> None:
    """提交备案。Submit a filing."""
    _print_detail(_run(as_user, lambda service, who: service.submit(who, filing)))


@filing_app.command("approve")
def approve(
    filing: Annotated[str, typer.Argument(help="备案ID")],
    as_user: AsUser = None,
    valid_from: Annotated[str | None, typer.Option(help="有效期起 YYYY-MM-DD")] = None,
    valid_until: Annotated[str | None, typer.Option(help="有效期止 YYYY-MM-DD")] = None,
) -> None:
    """审核通过并分配备案编号。Approve and allocate the filing number."""
    start, end = _day(valid_from), _day(valid_until)
    _print_detail(
        _run(
            as_user,
            lambda service, who: service.approve(who, filing, valid_from=start, valid_until=end),
        )
    )


@filing_app.command("reject")
def reject(
    filing: Annotated[str, typer.Argument(help="备案ID")],
    reason: Annotated[str, typer.Option(help="退回原因 reason")],
    as_user: AsUser = None,
) -> None:
    """退回备案。Reject a submitted filing."""
    _print_detail(_run(as_user, lambda service, who: service.reject(who, filing, reason)))


@filing_app.command("cancel")
def cancel(
    filing: Annotated[str, typer.Argument(help="备案ID或编号")],
    reason: Annotated[str, typer.Option(help="撤销原因 reason")],
    as_user: AsUser = None,
) -> None:
    """撤销备案。Cancel a filing."""
    _print_detail(_run(as_user, lambda service, who: service.cancel(who, filing, reason)))


@filing_app.command("promises-due")
def promises_due(
    as_user: Annotated[
        str | None,
        typer.Option("--as-user", help="经办人账户（省略时以系统批处理身份运行） agency account"),
    ] = None,
) -> None:
    """承诺逾期处理：逾期未补齐材料的备案按其他临时外出就医人员处理（可重复运行）。

    Treat every filing whose promised documents are overdue as other temporary travel
    (a dated, audited change; running it again changes nothing).
    """

    container = open_container()
    principal = None if as_user is None else _principal(container, as_user, system_allowed=False)
    with _errors():
        moved = container.filings.promises_due(principal)
    for lineage_id in moved:
        typer.echo(lineage_id)
    typer.echo(f"已按其他临时外出就医人员处理 {len(moved)} 件 moved: {len(moved)}", err=True)


@filing_app.command("false-promise")
def false_promise(
    filing: Annotated[str, typer.Argument(help="备案ID或编号")],
    reason: Annotated[str, typer.Option(help="认定依据 reason")],
    as_user: AsUser = None,
) -> None:
    """认定虚假承诺：撤销备案并记录追回基金。Record a false promise: cancel and mark recovery."""
    _print_detail(
        _run(as_user, lambda service, who: service.record_false_promise(who, filing, reason))
    )


@filing_app.command("rules")
def rules(
    on: Annotated[str | None, typer.Option("--date", help="日期 YYYY-MM-DD（默认今天）")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="参保地行政区划代码（含其覆盖的全国规则参数）")
    ] = None,
    insurance: Annotated[
        str, typer.Option("--insurance-type", help="险种 310 职工 / 390 居民（与 --region 同用）")
    ] = "310",
) -> None:
    """显示某日（某参保地）生效的备案规则。Show the filing rules in force on a date (for a region)."""
    from yidi.filing.model.record import FilingRecord
    from yidi.filing.region_rules import region_filing_rules
    from yidi.kernel.clock import SystemClock
    from yidi.kernel.insurance import InsuranceType
    from yidi.policy.national import national_model

    day = _day(on) or SystemClock().now().date()
    with _errors():
        overrides: Mapping[str, object] = {}
        if region:
            record = FilingRecord(
                insured_region_code=region, insurance_type=InsuranceType(insurance)
            )
            overrides = region_filing_rules(record, day)
        national = national_model(day)
        model = national_model(day, overrides)
    for line in describe_rules(day, model, national, region):
        typer.echo(line)


def describe_rules(
    day: dt.date, model: FilingModel, national: FilingModel, region: str | None
) -> list[str]:
    """The lines ``yidi filing rules`` prints: the model of ``day``, with the region's values."""
    where = f"，参保地 {region}" if region else ""
    lines = [f"{day.isoformat()}{where}：{model.label_zh}（自 {model.effective_from.isoformat()}）"]
    for category, rule in model.types.items():
        proof = "、".join(kind.label_zh for kind in rule.proof) or "仅需有效凭证"
        promise = "，可承诺制" if model.promise_allowed_for(category) else ""
        lines.append(
            f"  {model.class_labels[rule.filing_class]} / {rule.label_zh}"
            f"（{category.value}）：{proof}{promise}"
        )
    days = model.online_review_working_days
    if days is None:
        review = "未规定 none"
    else:
        review = f"{days} 个工作日"
        if days != national.online_review_working_days:
            review += f"（参保地设定；全国规则 {national.online_review_working_days} 个工作日）"
        elif model.online_review_region_parameter:
            review += "（全国规则，参保地可设定）"
        if not national.online_review_verified:
            review += f"；{national.online_review_note or '全国规则数值待核对'}"
    lines.append(f"  线上备案审核时限 online review: {review}")
    lines.append(f"    依据: {national.online_review_source}")
    lines.append(
        "  补办备案 filing after care: "
        + ("可补办，就医费用按备案人员待遇手工报销" if model.late_filing_allowed else "不适用")
    )
    injury = {
        "never": "意外伤害住院不直接结算",
        "with_no_third_party_promise": "签署外伤无第三方责任承诺（入院登记时上传）的可直接结算",
    }[model.injury_rule.value]
    lines.append(f"  外伤 injury: {injury}")
    lines.append(
        "  双向享受 both ways: "
        + (
            "长期居住类备案有效期内可在参保地就医结算"
            + ("（承诺补齐材料前除外）" if model.both_ways_not_while_promise_outstanding else "")
            if model.both_ways
            else "不适用"
        )
    )
    lines.append(
        "  急诊 emergency: "
        + (
            "医院上传急诊标识视同已备案"
            if model.emergency_flag_counts_as_filed
            else f"{model.emergency_filing_deadline_working_days} 个工作日内补交材料备案"
        )
    )
    lines.extend(f"  依据 source: {source}" for source in model.sources)
    return lines


@filing_app.command("change")
def change(
    filing: Annotated[str, typer.Argument(help="备案ID或编号")],
    file: Annotated[Path, typer.Argument(help="变更后的备案 JSON")],
    reason: Annotated[str | None, typer.Option(help="变更原因 reason")] = None,
    as_user: AsUser = None,
) -> None:
    """变更备案（生成新版本，保留历史）。Change a filing: a new version, history kept."""
    body = _read_request(file)
    _print_detail(
        _run(
            as_user,
            lambda service, who: service.change(
                who, filing, body.record.to_record(), reason=reason
            ),
        )
    )


@filing_app.command("show")
def show(
    id_number: Annotated[str, typer.Argument(help="身份证号 ID number")],
    as_user: AsUser = None,
) -> None:
    """按身份证号查询备案（完整信息，记入审计）。Show a person's filings (audited)."""

    def action(service: Any, who: Principal) -> list[FilingDetail]:
        page = service.search(who, id_number=id_number, limit=200)
        return [service.get(who, item.filing_id) for item in page.items]

    details = _run(as_user, action)
    if not details:
        typer.echo("未找到备案 no filings found")
        raise typer.Exit(1)
    for detail in details:
        _print_detail(detail)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"日期格式应为 YYYY-MM-DD: {text}", err=True)
        raise typer.Exit(2) from None


@filing_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="附件2格式的 CSV 或 XLSX")],
    as_user: AsUser = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="逐行报告另存为JSON save the report")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="报盘所属地区（报送该文件的地市或经办机构的行政区划代码）；不给时取账户的地区，"
            "系统身份下由文件推断（全部参保地同属一个地市） the region the file is submitted for",
        ),
    ] = None,
) -> None:
    """报盘导入：校验每一行，导入正确的行，打印逐行报告。全部正确退出码0，有退回的行为1。

    批次记入报盘所属地区，省、市经办机构的报盘批次页据此列出；参保地不在该地区的行被退回。
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from yidi.filing.import_files import is_xlsx
    from yidi.kernel.errors import InvalidInput

    container = open_container()
    principal = _principal(container, as_user, system_allowed=True)
    try:
        data = file.read_bytes()
    except OSError as error:
        typer.echo(f"无法读取文件 cannot read {file}: {error}", err=True)
        raise typer.Exit(2) from None
    total = None if is_xlsx(data, file.name) else max(data.count(b"\n") - 1, 1)
    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        ) as progress,
        _errors(),
    ):
        task = progress.add_task("导入 importing", total=total)
        try:
            report = container.filing_imports.import_annex2(
                principal,
                data,
                file.name,
                progress=lambda n: progress.advance(task, n),
                region=region,
            )
        except InvalidInput as error:
            if error.code != "IMPORT_REGION_REQUIRED":
                raise
            typer.echo(
                f"错误 {error.code}: {error.message}；请用 --region 指定 (--region is required)",
                err=True,
            )
            raise typer.Exit(2) from None
    typer.echo(
        f"{'（重复文件，返回首次导入结果）' if report.replayed else ''}"
        f"共 {report.total_rows} 行：导入 {report.imported}，重复 {report.duplicates}，"
        f"退回 {report.rejected}，跨地市重复备案 {report.conflict_count}"
    )
    for problem in report.errors[:50]:
        typer.echo(
            f"  第{problem['row']}行 {problem['column']} {problem['code']}: {problem['message']}"
        )
    if len(report.errors) > 50:
        typer.echo(f"  ……另有 {len(report.errors) - 50} 处错误，见 --report")
    for conflict in report.conflicts[:20]:
        typer.echo(f"  冲突 {conflict['id_number']}: {'、'.join(conflict['regions'])}")
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), "utf-8")
    raise typer.Exit(0 if report.all_good else 1)


@filing_app.command("export-annex2")
def export_annex2(
    region: Annotated[str, typer.Option(help="行政区划代码 region")],
    from_on: Annotated[str, typer.Option("--from", help="起始日期 YYYY-MM-DD")],
    to_on: Annotated[str, typer.Option("--to", help="截止日期 YYYY-MM-DD")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 XLSX 文件")],
    as_user: AsUser = None,
    full: Annotated[bool | None, typer.Option("--full/--masked", help="明文或脱敏")] = None,
) -> None:
    """导出附件2 基本医疗保险异地居住人员备案信息汇总表（XLSX）。"""
    from yidi.reports.annex2_xlsx import annex2_xlsx

    container = open_container()
    principal = _principal(container, as_user, system_allowed=True)
    start, end = _day(from_on), _day(to_on)
    assert start is not None and end is not None
    with _errors():
        table = container.filing_reports.annex2(principal, region, start, end, full=full)
    output.write_bytes(annex2_xlsx(table))
    typer.echo(f"已导出 {len(table.rows)} 行 → {output}{'（脱敏）' if table.masked else ''}")


@filing_app.command("export-records")
def export_records(
    region: Annotated[str, typer.Option(help="行政区划代码 region")],
    from_on: Annotated[str, typer.Option("--from", help="经办日期起 YYYY-MM-DD")],
    to_on: Annotated[str, typer.Option("--to", help="经办日期止 YYYY-MM-DD")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件（.csv 或 .xlsx）")],
    as_user: AsUser = None,
    full: Annotated[bool | None, typer.Option("--full/--masked", help="明文或脱敏")] = None,
) -> None:
    """导出备案记录（现行版式，2022年模式：大类、类型、承诺、有效期、锁定期、期限）。"""
    from yidi.reports.annex2_xlsx import current_layout_csv, current_layout_xlsx

    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        typer.echo("输出文件须为 .csv 或 .xlsx（FILING_EXPORT_FORMAT）", err=True)
        raise typer.Exit(2)
    container = open_container()
    principal = _principal(container, as_user, system_allowed=True)
    start, end = _day(from_on), _day(to_on)
    assert start is not None and end is not None
    with _errors():
        table = container.filing_reports.current_layout(principal, region, start, end, full=full)
    output.write_bytes(
        current_layout_xlsx(table) if suffix == ".xlsx" else current_layout_csv(table)
    )
    typer.echo(f"已导出 {len(table.rows)} 行 → {output}{'（脱敏）' if table.masked else ''}")


@filing_app.command("quarterly")
def quarterly(
    region: Annotated[str, typer.Option(help="行政区划代码 region")],
    year: Annotated[int, typer.Option(help="年份 year")],
    quarter: Annotated[int, typer.Option(help="季度 1-4")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件（.xlsx 或 .json）")],
    as_user: AsUser = None,
    full: Annotated[bool | None, typer.Option("--full/--masked", help="明文或脱敏")] = None,
) -> None:
    """每季度新增（变更）备案人员信息，按地市分表。Quarterly new and changed filings."""
    from yidi.filing.reports import table_as_dicts
    from yidi.reports.annex2_xlsx import quarterly_xlsx

    container = open_container()
    principal = _principal(container, as_user, system_allowed=True)
    with _errors():
        listing = container.filing_reports.quarterly(principal, region, year, quarter, full=full)
    if output.suffix.lower() == ".json":
        data = {
            "region_code": region,
            "year": year,
            "quarter": quarter,
            "prefectures": [
                {
                    "region_code": t.region_code,
                    "region_name": t.region_name,
                    "rows": table_as_dicts(t),
                }
                for t in listing.prefectures
            ],
        }
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    else:
        output.write_bytes(quarterly_xlsx(listing))
    rows = sum(len(t.rows) for t in listing.prefectures)
    typer.echo(f"{year}年第{quarter}季度：{len(listing.prefectures)}个地市，{rows}人 → {output}")
