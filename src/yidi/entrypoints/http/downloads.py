"""A file download: the reply that carries a file and names it for the browser to save."""

from __future__ import annotations

from fastapi import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """``content`` to be saved as ``filename`` (UTF-8 names, so Chinese names survive)."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
