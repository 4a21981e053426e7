"""政策调整测算 (policy what-if) pages, for province officers and agency handlers.

The officer picks the stored settlements to re-settle (insured region within their own,
discharge period) and a candidate policy: a shipped region's policy with its inpatient
deductible, pooled-fund rates or annual cap changed from a date, or an uploaded policy tree
(a zip of ``<region>/<employee|resident>/*.yaml`` as under ``src/yidi/policies``). The run is
a background job (:mod:`yidi.reports.whatif_jobs`); its page refreshes itself until the
report is there: fund impact by region, hospital level, encounter kind and month (with a
server-drawn SVG chart), the claims that change most (persons masked), and CSV/XLSX downloads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import tempfile
import threading
import zipfile
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from markupsafe import Markup, escape
from starlette.responses import Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.funds_pages import region_choices, yuan_text
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import Lang, translate
from yidi.entrypoints.web.refusals import refusal_message
from yidi.entrypoints.web.render import file_response, page_lang, page_principal, render
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import ErrorKind, InvalidInput, NotFound, YidiError
from yidi.kernel.insurance import EncounterType, HospitalLevel, InsuranceType
from yidi.policy.loader import PolicyLibrary, load_policy_library, shipped_policy_library
from yidi.reference import queries as directory
from yidi.reports.whatif import DIMENSIONS, FUND_FIELDS, WhatIfReport
from yidi.reports.whatif_candidate import ADJUSTABLE, adjusted_library, current_values, parse_value
from yidi.reports.whatif_export import report_csv, report_xlsx
from yidi.reports.whatif_jobs import DONE, WhatIfJob, WhatIfJobs
from yidi.reports.whatif_stored import StoredSelection

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_FILES = 200
MAX_UPLOAD_EXPANDED = 8 * 1024 * 1024
_DEDUCTIBLE, _RATE, _CAP = ADJUSTABLE
LEVELS = (1, 2, 3)
_JOBS_LOCK = threading.Lock()


def whatif_jobs(request_or_app: Any) -> WhatIfJobs:
    """The app's what-if jobs (made on first use; inline when import jobs are inline)."""
    app = getattr(request_or_app, "app", request_or_app)
    with _JOBS_LOCK:
        jobs: WhatIfJobs | None = getattr(app.state, "whatif_jobs", None)
        if jobs is None:
            container = app.state.container
            jobs = WhatIfJobs(
                container.uow,
                container.clock,
                inline=container.settings.import_jobs == "inline",
            )
            app.state.whatif_jobs = jobs
    return jobs


# --- choices --------------------------------------------------------------------------


def _kind_label(kind: InsuranceType, lang: Lang) -> str:
    if lang == "en":
        return "employee" if kind is InsuranceType.EMPLOYEE else "resident"
    return kind.label_zh


def policy_choices(principal: Principal, lang: Lang) -> list[tuple[str, str]]:
    """Shipped policies of regions within the principal's own: ``code:insutype`` → label."""
    out = []
    for code, kind in shipped_policy_library().regions():
        if principal.covers_region(code):
            name = directory.region_name(code, english=lang == "en")
            out.append((f"{code}:{kind.value}", f"{name}（{code}）{_kind_label(kind, lang)}"))
    return out


def _selection_options(principal: Principal, lang: Lang) -> list[tuple[str, str]]:
    english = lang == "en"
    return [(c, directory.region_name(c, english=english)) for c in region_choices(principal)]


def _policy_key(value: str) -> tuple[str, InsuranceType] | None:
    code, _, kind = value.partition(":")
    try:
        return code, InsuranceType(kind)
    except ValueError:
        return None


def _defaults(request: Request, principal: Principal, asked: dict[str, str]) -> dict[str, str]:
    """The form's values: what was asked, else this year so far and the policy's own values."""
    lang = page_lang(request)
    today = container_of(request).clock.today()
    values = {k: v.strip() for k, v in asked.items()}
    choices = policy_choices(principal, lang)
    if values.get("policy") not in {v for v, _ in choices} and choices:
        values["policy"] = choices[0][0]
    values.setdefault("source", "params")
    values.setdefault("region", principal.region_code or "")
    values["start"] = values.get("start") or today.replace(month=1, day=1).isoformat()
    values["end"] = values.get("end") or today.isoformat()
    values["effective"] = values.get("effective") or values["start"]
    key = _policy_key(values.get("policy", ""))
    try:
        day = dt.date.fromisoformat(values["effective"])
    except ValueError:
        day = today
    current = current_values(shipped_policy_library(), *key, day) if key else {}
    for level in LEVELS:
        by_level = current.get(_DEDUCTIBLE, {})
        values.setdefault(f"ded{level}", str(by_level.get(HospitalLevel(level), "")))
        rates = current.get(_RATE, {})
        values.setdefault(f"rate{level}", str(rates.get(HospitalLevel(level), "")))
    values.setdefault("cap", str(current.get(_CAP, "")))
    return values


def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    principal = page_principal(request)
    lang = page_lang(request)
    return render(
        request,
        "whatif.html",
        {
            "values": values,
            "errors": errors,
            "policy_options": policy_choices(principal, lang),
            "region_options": _selection_options(principal, lang),
            "levels": LEVELS,
        },
        status_code=status,
    )


def _whatif_page(
    request: Request,
    policy: str = "",
    region: str = "",
    start: str = "",
    end: str = "",
    effective: str = "",
) -> Response:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.POLICY_WHATIF)
    asked = {"policy": policy, "region": region, "start": start, "end": end, "effective": effective}
    values = _defaults(request, principal, {k: v for k, v in asked.items() if v})
    return _form(request, values, {}, 200)


# --- the candidate ----------------------------------------------------------------------


def _bad_upload(why_zh: str, why_en: str) -> InvalidInput:
    return InvalidInput(
        "WHATIF_POLICY_UPLOAD_INVALID",
        f"上传的政策文件无效：{why_zh}",
        f"the uploaded policy tree is not valid: {why_en}",
        field="policy_file",
    )


def uploaded_library(data: bytes, principal: Principal) -> tuple[PolicyLibrary, str]:
    """The shipped library with the uploaded tree's regions replaced; and a label."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise _bad_upload("须为 zip 压缩的政策目录", "must be a zip of a policy tree") from None
    if len(members) > MAX_UPLOAD_FILES or sum(m.file_size for m in members) > MAX_UPLOAD_EXPANDED:
        raise _bad_upload("文件过多或解压后过大", "too many files or too large once expanded")
    with tempfile.TemporaryDirectory(prefix="yidi-whatif-") as folder:
        root = Path(folder)
        for member in members:
            name = PurePosixPath(member.filename)
            if member.is_dir() or name.suffix.lower() not in (".yaml", ".yml"):
                continue
            if name.is_absolute() or ".." in name.parts:
                raise _bad_upload("文件路径不安全", "unsafe path in the archive")
            target = root.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
        tree = load_policy_library(root)
    if tree.issues:
        issue = tree.issues[0]
        raise _bad_upload(str(issue), str(issue))
    if not tree.sources:
        raise _bad_upload("没有找到地区政策", "no region's policy found")
    outside = [code for code, _ in tree.sources if not principal.covers_region(code)]
    if outside:
        raise _bad_upload(
            f"不能测算本统筹区以外的政策（{', '.join(sorted(outside))}）",
            f"regions outside your own: {', '.join(sorted(outside))}",
        )
    shipped = shipped_policy_library()
    library = dataclasses.replace(shipped, sources={**shipped.sources, **tree.sources})
    label = ", ".join(f"{code} {kind.policy_folder}" for code, kind in sorted(tree.sources))
    return library, label


def _changed_library(
    principal: Principal,
    values: dict[str, str],
    effective: dt.date,
    errors: dict[str, str],
    lang: Lang,
) -> tuple[PolicyLibrary, str] | None:
    key = _policy_key(values.get("policy", ""))
    if key is None or values["policy"] not in {v for v, _ in policy_choices(principal, lang)}:
        errors["policy"] = translate(lang, "whatif.invalid_policy")
        return None
    shipped = shipped_policy_library()
    current = current_values(shipped, *key, effective)
    changes: dict[str, Any] = {}
    described: list[str] = []
    for path, prefix, kind in ((_DEDUCTIBLE, "ded", "money"), (_RATE, "rate", "rate")):
        if path not in current:
            continue
        new = {}
        for level in LEVELS:
            name = f"{prefix}{level}"
            try:
                new[HospitalLevel(level)] = parse_value(path, kind, values.get(name, ""))
            except InvalidInput as exc:
                errors[name] = refusal_message(exc, lang)
        if len(new) == len(LEVELS) and new != {k: Decimal(v) for k, v in current[path].items()}:
            changes[path] = new
            described.append(f"{prefix} " + "/".join(str(new[HospitalLevel(v)]) for v in LEVELS))
    if _CAP in current:
        try:
            cap = parse_value(_CAP, "money", values.get("cap", ""))
        except InvalidInput as exc:
            errors["cap"] = refusal_message(exc, lang)
        else:
            if cap != current[_CAP]:
                changes[_CAP] = cap
                described.append(f"cap {cap}")
    if errors:
        return None
    try:
        library = adjusted_library(shipped, *key, effective, changes)
    except YidiError as exc:
        errors["policy"] = refusal_message(exc, lang)
        return None
    label = f"{key[0]} {key[1].policy_folder} " + ("; ".join(described) or "unchanged")
    return library, label


def _date(values: dict[str, str], name: str, errors: dict[str, str], lang: Lang) -> dt.date | None:
    try:
        return dt.date.fromisoformat(values.get(name, ""))
    except ValueError:
        errors[name] = translate(lang, "whatif.invalid_date")
        return None


def _whatif_start(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "params",
    policy: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    effective: Annotated[str, Form()] = "",
    ded1: Annotated[str, Form()] = "",
    ded2: Annotated[str, Form()] = "",
    ded3: Annotated[str, Form()] = "",
    rate1: Annotated[str, Form()] = "",
    rate2: Annotated[str, Form()] = "",
    rate3: Annotated[str, Form()] = "",
    cap: Annotated[str, Form()] = "",
    policy_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check the form, start the job, show its page."""
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.POLICY_WHATIF)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    values = {
        "source": source,
        "policy": policy,
        "region": region,
        "start": start,
        "end": end,
        "effective": effective or start,
        "ded1": ded1,
        "ded2": ded2,
        "ded3": ded3,
        "rate1": rate1,
        "rate2": rate2,
        "rate3": rate3,
        "cap": cap,
    }
    values = {k: v.strip() for k, v in values.items()}
    errors: dict[str, str] = {}
    if values["region"] not in region_choices(principal):
        errors["region"] = translate(lang, "funds.invalid_region")
    first, last = _date(values, "start", errors, lang), _date(values, "end", errors, lang)
    on = _date(values, "effective", errors, lang)
    selection = None
    if first and last:
        try:
            selection = StoredSelection(first, last, values["region"] or None)
        except InvalidInput as exc:
            errors["end" if exc.code == "WHATIF_PERIOD_INVALID" else "region"] = refusal_message(
                exc, lang
            )
    candidate: tuple[PolicyLibrary, str] | None = None
    if values["source"] == "upload":
        data = policy_file.file.read(MAX_UPLOAD_BYTES + 1) if policy_file is not None else b""
        if not data:
            errors["policy_file"] = translate(lang, "whatif.file_required")
        elif len(data) > MAX_UPLOAD_BYTES:
            errors["policy_file"] = translate(lang, "whatif.file_too_large")
        else:
            try:
                candidate = uploaded_library(data, principal)
            except InvalidInput as exc:
                errors["policy_file"] = refusal_message(exc, lang)
    elif values["source"] == "params":
        if on is not None:
            candidate = _changed_library(principal, values, on, errors, lang)
    else:
        errors["source"] = translate(lang, "funds.choose_one")
    if errors or candidate is None or selection is None:
        return _form(request, _defaults(request, principal, values), errors, 422)
    library, label = candidate
    try:
        job = whatif_jobs(request).submit(
            principal,
            selection,
            library,
            on_date=on if values["source"] == "params" else None,
            candidate_label=label,
        )
    except YidiError as exc:
        if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
            raise
        errors["policy"] = refusal_message(exc, lang)
        return _form(request, _defaults(request, principal, values), errors, 422)
    return redirect(request, f"/funds/whatif/jobs/{job.id}")


# --- the report -------------------------------------------------------------------------


def _group_label(dim: str, key: str, lang: Lang) -> str:
    english = lang == "en"
    if dim == "region":
        return f"{directory.region_name(key, english=english)}（{key}）"
    if dim == "hospital_level" and key.isdigit() and int(key) in LEVELS:
        level = HospitalLevel(int(key))
        return f"level {level.value}" if english else level.label_zh
    if dim == "encounter" and key.upper() in EncounterType.__members__:
        kind = EncounterType[key.upper()]
        return key.replace("_", " ") if english else kind.label_zh
    return key


def _rows(report: WhatIfReport, dim: str, lang: Lang) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "label": _group_label(dim, key, lang),
            "claims": bucket.claims,
            "current": yuan_text(bucket.current["fund_paid_total"]),
            "candidate": yuan_text(bucket.candidate["fund_paid_total"]),
            "delta": yuan_text(bucket.delta()),
            "delta_fen": bucket.delta(),
        }
        for key, bucket in sorted(report.by[dim].items())
    ]


def month_chart(report: WhatIfReport, lang: Lang) -> Markup:
    """Fund paid by discharge month, current beside candidate: an inline SVG (no script)."""
    months = sorted(report.by["month"].items())
    width, height, left, bottom, top = 640, 260, 70, 40, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(
        [1]
        + [b.current["fund_paid_total"] for _, b in months]
        + [b.candidate["fund_paid_total"] for _, b in months]
    )
    current_zh = translate(lang, "whatif.current")
    candidate_zh = translate(lang, "whatif.candidate")
    title = translate(lang, "whatif.chart_title")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" class="whatif-chart" id="whatif-chart" role="img" '
        'aria-labelledby="whatif-chart-title">',
        f'<title id="whatif-chart-title">{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#555"/>',
    ]
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#333">'
            f"{escape(yuan_text(int(value))[:-3])}</text>"
        )
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    slot = plot_w / max(1, len(months))
    bar = max(2.0, min(28.0, slot * 0.38))
    for index, (month, bucket) in enumerate(months):
        x0 = left + index * slot + slot / 2 - bar
        for offset, (value, colour, name) in enumerate(
            (
                (bucket.current["fund_paid_total"], "#9aa5b1", current_zh),
                (bucket.candidate["fund_paid_total"], "#0b5cad", candidate_zh),
            )
        ):
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + offset * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(month)} {escape(name)} '
                f"{escape(yuan_text(value))}</title></rect>"
            )
        parts.append(
            f'<text x="{left + index * slot + slot / 2:.1f}" y="{top + plot_h + 16}" '
            f'text-anchor="middle" font-size="11" fill="#333">{escape(month)}</text>'
        )
    legend_y = height - 8
    for offset, (colour, name) in enumerate(((("#9aa5b1"), current_zh), ("#0b5cad", candidate_zh))):
        x = left + offset * 150
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 18}" y="{legend_y}" font-size="12" fill="#333">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escape()d above


def _job_context(job: WhatIfJob, lang: Lang) -> dict[str, Any]:
    context: dict[str, Any] = {"job": job}
    report = job.report
    if report is None:
        return context
    total = report.total
    context.update(
        {
            "report": report,
            "total": {
                "claims": total.claims,
                **{
                    f"{when}_{name}": yuan_text(getattr(total, when)[name])
                    for when in ("current", "candidate")
                    for name in FUND_FIELDS
                },
                **{f"delta_{name}": yuan_text(total.delta(name)) for name in FUND_FIELDS},
                "delta_fen": total.delta(),
            },
            "fund_fields": FUND_FIELDS,
            "dimensions": [(dim, _rows(report, dim, lang)) for dim in DIMENSIONS],
            "chart": month_chart(report, lang),
            "top": [
                {
                    "claim_id": c.claim_id,
                    "person": c.person,
                    "region": _group_label("region", c.region, lang),
                    "month": c.month,
                    "current": yuan_text(c.current_fund),
                    "candidate": yuan_text(c.candidate_fund),
                    "delta": yuan_text(c.delta),
                    "status": " / ".join(s for s in (c.current_status, c.candidate_status) if s),
                }
                for c in report.top
            ],
            "errors_current": sorted(report.errors_current.items()),
            "errors_candidate": sorted(report.errors_candidate.items()),
        }
    )
    return context


def _job(request: Request, job_id: str) -> WhatIfJob:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.POLICY_WHATIF)
    return whatif_jobs(request).job(principal, job_id)


def _job_page(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    lang = page_lang(request)
    return render(request, "whatif_job.html", _job_context(job, lang))


def _job_download(request: Request, job_id: str, format: str = "csv") -> Response:
    job = _job(request, job_id)
    if job.state != DONE or job.report is None:
        raise NotFound(
            "WHATIF_REPORT_NOT_READY", "测算尚未完成", "the what-if run has not finished"
        )
    name = f"whatif-{job.selection.region or 'all'}-{job.selection.start}-{job.selection.end}"
    if format == "xlsx":
        content = report_xlsx(job.report, title=f"政策调整测算 {name} {job.candidate_label}")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = f"{name}.xlsx"
    elif format == "csv":
        content, media, filename = report_csv(job.report), "text/csv; charset=utf-8", f"{name}.csv"
    else:
        raise InvalidInput(
            "WHATIF_FORMAT_INVALID",
            "下载格式须为 csv 或 xlsx",
            "format is csv or xlsx",
            field="format",
        )
    return file_response(request, content, media, filename)


def add_whatif_routes(router: APIRouter) -> None:
    router.add_api_route("/funds/whatif", _whatif_page, methods=["GET"])
    router.add_api_route("/funds/whatif", _whatif_start, methods=["POST"])
    router.add_api_route("/funds/whatif/jobs/{job_id}", _job_page, methods=["GET"])
    router.add_api_route("/funds/whatif/jobs/{job_id}/download", _job_download, methods=["GET"])


__all__ = ["add_whatif_routes", "month_chart", "policy_choices", "uploaded_library", "whatif_jobs"]
