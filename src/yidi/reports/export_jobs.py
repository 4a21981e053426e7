"""The export kinds of the job worker: 附件2 and the quarterly list, streamed to XLSX.

Each runner reads the filings through the report's stream (a server-side cursor), announces
the number of rows, and writes the workbook row by row; :class:`yidi.filing.jobs.ImportJobs`
runs it in the worker thread and keeps the file for the download.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from yidi.filing.jobs import ANNEX2_EXPORT, QUARTERLY_EXPORT, ExportProgress, ExportRunner
from yidi.filing.reports import FilingReports
from yidi.kernel.access import Principal
from yidi.reports.annex2_xlsx import write_annex2_xlsx, write_quarterly_xlsx


def export_runners(reports: FilingReports) -> dict[str, ExportRunner]:
    def annex2(
        principal: Principal, params: dict[str, Any], path: Path, progress: ExportProgress
    ) -> dict[str, Any]:
        stream = reports.annex2_stream(
            principal,
            params["region"],
            dt.date.fromisoformat(params["from"]),
            dt.date.fromisoformat(params["to"]),
            full=params.get("full"),
        )
        progress.total(stream.total)
        rows = write_annex2_xlsx(stream, path, progress.advance)
        return {"rows": rows, "masked": stream.table.masked}

    def quarterly(
        principal: Principal, params: dict[str, Any], path: Path, progress: ExportProgress
    ) -> dict[str, Any]:
        stream = reports.quarterly_stream(
            principal,
            params["region"],
            int(params["year"]),
            int(params["quarter"]),
            full=params.get("full"),
        )
        progress.total(stream.total)
        rows = write_quarterly_xlsx(stream, path, progress.advance)
        return {"rows": rows, "masked": stream.masked}

    return {ANNEX2_EXPORT: annex2, QUARTERLY_EXPORT: quarterly}
