"""附件2 and the quarterly list as background export jobs: start, watch, download.

The export forms post here; the job's page shows a progress bar that refreshes itself
(a meta refresh without JavaScript; with it, the bar follows ``…/progress`` every second
and the page reloads once the file is written), then the download link. Only the one who
started a job sees it (anyone else is answered as for a missing job); every download is
audited by the jobs service.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import FileResponse, JSONResponse, Response

from yidi.entrypoints.http.requests import container_of
from yidi.entrypoints.web.guards import redirect, require_csrf, require_signed_in
from yidi.entrypoints.web.i18n import translate
from yidi.entrypoints.web.province_pages import region_codes
from yidi.entrypoints.web.refusals import field_errors
from yidi.entrypoints.web.render import XLSX_MEDIA_TYPE, page_lang, page_principal, render
from yidi.filing.jobs import ANNEX2_EXPORT, QUARTERLY_EXPORT, ImportJobs, JobView
from yidi.filing.reports import may_export_full
from yidi.kernel.access import Action, Principal, Role
from yidi.kernel.errors import ErrorKind, NotFound, YidiError

OFFICES = frozenset({Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER})


def _jobs(request: Request) -> ImportJobs:
    return container_of(request).import_jobs


def _exporter(request: Request) -> Principal:
    principal = page_principal(request)
    require_signed_in(principal)
    principal.require(Action.FILING_EXPORT)
    return principal


def _inline(request: Request) -> bool:
    return container_of(request).settings.import_jobs == "inline"


def _start_annex2(
    request: Request,
    from_: Annotated[str, Form(alias="from", max_length=10)] = "",
    to: Annotated[str, Form(max_length=10)] = "",
    full: Annotated[str, Form(max_length=1)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    principal = _exporter(request)
    require_csrf(request, csrf_token)
    lang = page_lang(request)
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for name, text in (("from", from_), ("to", to)):
        try:
            dates[name] = dt.date.fromisoformat(text.strip())
        except ValueError:
            errors[name] = translate(lang, "statistics.invalid_date")
    if not errors and dates["to"] < dates["from"]:
        errors["to"] = translate(lang, "export_job.period_invalid")
    may_full = may_export_full(principal)
    wants_full = True if may_full and full == "1" else None
    region = principal.region_code or ""
    if not errors:
        try:
            job = _jobs(request).submit_export(
                principal,
                ANNEX2_EXPORT,
                {
                    "region": region,
                    "from": dates["from"].isoformat(),
                    "to": dates["to"].isoformat(),
                    "full": wants_full,
                },
                f"annex2-{region}-{dates['from']}-{dates['to']}.xlsx",
                inline=_inline(request),
            )
        except YidiError as exc:
            if exc.kind in (ErrorKind.FORBIDDEN, ErrorKind.UNAUTHENTICATED):
                raise
            errors.update(field_errors(exc, lang, "to"))
        else:
            return redirect(request, f"/filings/jobs/{job.id}")
    return render(
        request,
        "filings_annex2.html",
        {
            "values": {"from": from_, "to": to, "full": wants_full},
            "errors": errors,
            "may_full": may_full,
        },
        status_code=422,
    )


def _start_quarterly(
    request: Request,
    region: Annotated[str, Form(max_length=12)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    quarter: Annotated[str, Form(max_length=1)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The downloaded quarterly list, full or masked as the service decides for the role."""
    principal = _exporter(request)
    require_csrf(request, csrf_token)
    codes = region_codes(container_of(request).filing_reports, principal)
    valid = (
        region in codes
        and year.isdigit()
        and 2000 <= int(year) <= 2100
        and quarter in {"1", "2", "3", "4"}
    )
    if not valid:  # the list page names each faulty field
        query = urlencode({"region": region, "year": year, "quarter": quarter})
        return redirect(request, f"/filings/quarterly?{query}")
    job = _jobs(request).submit_export(
        principal,
        QUARTERLY_EXPORT,
        {"region": region, "year": int(year), "quarter": int(quarter), "full": None},
        f"quarterly-{region}-{year}Q{quarter}.xlsx",
        inline=_inline(request),
    )
    return redirect(request, f"/filings/jobs/{job.id}")


def _job(request: Request, job_id: str) -> JobView:
    job = _jobs(request).get(_exporter(request), job_id)
    if job.kind not in (ANNEX2_EXPORT, QUARTERLY_EXPORT):
        raise _jobs_missing()
    return job


def _jobs_missing() -> YidiError:
    return NotFound("JOB_NOT_FOUND", "未找到该导出任务", "no such export job", field="job_id")


def _job_page(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    lang = page_lang(request)
    error = ""
    if job.error:
        error = str(job.error["message" if lang == "zh" else "message_en"])
    return render(request, "export_job.html", {"job": job, "error": error})


def _progress(request: Request, job_id: str) -> Response:
    """The bar's numbers for the page's script (no personal data)."""
    job = _job(request, job_id)
    return JSONResponse(
        {
            "state": job.state,
            "percent": job.percent,
            "processed_rows": job.processed_rows,
            "total_rows": job.total_rows,
            "finished": job.finished,
        },
        headers={"Cache-Control": "no-store"},
    )


def _download(request: Request, job_id: str) -> Response:
    _job(request, job_id)
    path, name = _jobs(request).result_file(_exporter(request), job_id)
    return FileResponse(
        path,
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def add_export_job_routes(router: APIRouter) -> None:
    router.add_api_route("/filings/annex2/jobs", _start_annex2, methods=["POST"])
    router.add_api_route("/filings/quarterly/jobs", _start_quarterly, methods=["POST"])
    router.add_api_route("/filings/jobs/{job_id}", _job_page, methods=["GET"])
    router.add_api_route("/filings/jobs/{job_id}/progress", _progress, methods=["GET"])
    router.add_api_route("/filings/jobs/{job_id}/download", _download, methods=["GET"])
