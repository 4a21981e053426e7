"""附件1 as a PDF: one A4 page, the Chinese text in its text layer, a clear error without a font."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from yidi.filing.model.record import DesignatedInstitution, FilingRecord
from yidi.kernel.identity import Gender
from yidi.kernel.insurance import FilingCategory, HospitalLevel, InsuranceType
from yidi.reports import filing_pdf
from yidi.reports.filing_pdf import FontMissing, annex1_pdf

RECORD = FilingRecord(
    insured_region_code="430400",
    name="谢德明",
    gender=Gender.MALE,
    insurance_type=InsuranceType.EMPLOYEE,
    category=FilingCategory.RETIREE_RESETTLED,
    social_security_number="430421195001010013",
    home_address="湖南省衡阳市蒸湘区解放西路1号",
    contact_address="广西壮族自治区博白县城南街2号",
    mobile="13800001234",
    destination_province_code="450000",
    destination_prefecture_code="450900",
    destination_county_code="450923",
    designated_institutions=(DesignatedInstitution("博白县人民医院", HospitalLevel.LEVEL_2),),
    filled_on=dt.date(2017, 9, 1),
    filing_number="BA430400-2017-000001",
    handling_agency="衡阳市医保中心",
    handler="hengyang",
    handled_on=dt.date(2017, 9, 2),
)


def _text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    path = tmp_path / "annex1.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def test_annex1_is_one_a4_page() -> None:
    pdf = annex1_pdf(RECORD)
    assert pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    assert len(pages) == 1
    media_box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert media_box is not None
    assert (round(float(media_box.group(1))), round(float(media_box.group(2)))) == (595, 842)


def test_annex1_text_layer_carries_the_form_the_person_and_the_filing_number(
    tmp_path: Path,
) -> None:
    text = _text(annex1_pdf(RECORD), tmp_path)
    for expected in (
        "异地就医登记备案表",
        "备案编号：BA430400-2017-000001",
        "谢德明",
        "博白县人民医院",
        "■1.异地安置退休人员",
        "□2.城乡居民医保",
        "经办机构盖章",
        "填表日期",
    ):
        assert expected in text, expected


def test_without_a_system_font_the_bundled_gb2312_subset_prints_the_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(filing_pdf.FONT_ENV, raising=False)
    monkeypatch.setattr(filing_pdf, "FONT_CANDIDATES", ("/nonexistent/other.ttf",))
    filing_pdf.cjk_font_path.cache_clear()
    try:
        assert filing_pdf.cjk_font_path().name == "wqy-microhei-gb2312.ttf"
        assert annex1_pdf(RECORD).startswith(b"%PDF")
    finally:
        filing_pdf.cjk_font_path.cache_clear()


def test_without_any_chinese_font_the_renderer_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(filing_pdf.FONT_ENV, "/nonexistent/font.ttc")
    monkeypatch.setattr(filing_pdf, "FONT_CANDIDATES", ("/nonexistent/other.ttf",))
    monkeypatch.setattr(filing_pdf, "BUNDLED_FONT", "data/fonts/missing.ttf")
    filing_pdf.cjk_font_path.cache_clear()
    try:
        with pytest.raises(FontMissing) as raised:
            annex1_pdf(RECORD)
        assert raised.value.code == "PDF_FONT_MISSING"
        assert "fonts-wqy-microhei" in raised.value.message
    finally:
        filing_pdf.cjk_font_path.cache_clear()
