"""Evidence PDFs with scripts, automatic actions, launch actions or embedded files are refused."""

from __future__ import annotations

import zlib

import pytest

from filing_support import record
from yidi.filing.commands import evidence_media_type
from yidi.filing.model.evidence import check_pdf_is_passive, pdf_active_content
from yidi.kernel.errors import InvalidInput
from yidi.reports.filing_pdf import annex1_pdf


def _pdf(*objects: bytes) -> bytes:
    """A small PDF with ``objects`` numbered from 1 and a classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PAGES = (b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Page /Parent 2 0 R >>")
PLAIN = _pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *PAGES)
OPEN_ACTION_JS = _pdf(
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
    *PAGES,
    b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>",
)


def _objstm(inner: bytes) -> bytes:
    data = zlib.compress(b"4 0 " + inner)
    return _pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        *PAGES,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(data)
        + data
        + b"\nendstream",
    )


def test_a_plain_pdf_and_a_generated_form_are_accepted() -> None:
    assert pdf_active_content(PLAIN) == []
    assert evidence_media_type(PLAIN) == "application/pdf"
    assert evidence_media_type(annex1_pdf(record())) == "application/pdf"
    assert pdf_active_content(_objstm(b"<< /Type /Annot /Subtype /Link >>")) == []


@pytest.mark.parametrize(
    ("pdf", "found"),
    [
        (OPEN_ACTION_JS, ["/JS", "/JavaScript"]),
        (_pdf(b"<< /Type /Catalog /J#61vaScript 4 0 R >>"), ["/JavaScript"]),  # hex escape
        (_pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>"), ["/Launch"]),
        (_pdf(b"<< /Type /Catalog /Names << /EmbeddedFiles 5 0 R >> >>"), ["/EmbeddedFiles"]),
        (_pdf(b"<< /Type /EmbeddedFile /Length 0 >>\nstream\n\nendstream"), ["/EmbeddedFile"]),
        (_pdf(b"<< /Type /Page /AA << /O 6 0 R >> >>"), ["/AA"]),
        (_objstm(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"), ["/JS", "/JavaScript"]),
    ],
)
def test_active_content_is_refused_with_a_clear_code(pdf: bytes, found: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        evidence_media_type(pdf)
    error = caught.value
    assert error.code == "EVIDENCE_PDF_ACTIVE_CONTENT"
    assert error.field == "file"
    assert error.details["found"] == found
    assert "脚本" in error.message


def test_unreadable_object_streams_and_encrypted_files_are_refused() -> None:
    broken = _pdf(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 9 >>\nstream\n"
        b"not-zlib!\nendstream"
    )
    with pytest.raises(InvalidInput) as caught:
        check_pdf_is_passive(broken)
    assert caught.value.code == "EVIDENCE_PDF_UNREADABLE"
    with pytest.raises(InvalidInput) as caught:
        check_pdf_is_passive(
            _pdf(b"<< /Type /Catalog >>", b"<< /Filter /Standard /V 2 >>").replace(
                b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 2 0 R"
            )
        )
    assert caught.value.code == "EVIDENCE_PDF_UNREADABLE"
