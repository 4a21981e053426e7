"""附件1 异地就医登记备案表 as a printable PDF: one A4 page, Chinese font, signature and stamp areas.

The layout follows 附件1 of 豫人社办函〔2017〕63号 row by row: 备案编号 above the
title, the 市(县、市、区) line, then 姓名/性别/险种, 人员类别/登记类别, the numbers,
the addresses, the phones, the destination, the designated hospitals, the
signature and the date; below the table the agency's part (参保地经办机构, 经办人,
经办日期) with a box for the agency's stamp.

The Chinese font is ``YIDI_PDF_FONT`` if set, else a system font (``fonts-wqy-microhei``
on Debian, full coverage), else the GB 2312 subset of the same font shipped in the
package (``yidi/data/fonts``), so a machine with only Python can still print the form.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Final

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from yidi.filing.model.record import FilingRecord, RegistrationType, SignedBy
from yidi.kernel.errors import YidiError
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.regions import default_registry

FONT_ENV: Final = "YIDI_PDF_FONT"
FONT_CANDIDATES: Final = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
BUNDLED_FONT: Final = "data/fonts/wqy-microhei-gb2312.ttf"
FAMILY: Final = "cjk"
PAGE_WIDTH_MM: Final = 210
MARGIN_MM: Final = 15
CONTENT_WIDTH: Final = PAGE_WIDTH_MM - 2 * MARGIN_MM
CHECKED, UNCHECKED = "■", "□"
TABLE_SIZE: Final = 10.0  # pt, the filled-in values
LABEL_SIZE: Final = 9.0  # pt, the form's printed labels
CELL_PADDING: Final = 1.5  # mm, each side
COLUMN_WIDTHS: Final = (30, 32, 28, 30, 24, 36)  # mm, sum CONTENT_WIDTH


class FontMissing(YidiError):
    """No Chinese font on this machine: the form cannot be printed legibly."""


@functools.cache
def cjk_font_path() -> Path:
    """The Chinese font file to embed; ``YIDI_PDF_FONT`` first, then the usual Debian paths."""
    configured = os.environ.get(FONT_ENV)
    candidates = [configured] if configured else []
    candidates += list(FONT_CANDIDATES)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    bundled = Path(str(resources.files("yidi").joinpath(BUNDLED_FONT)))
    if bundled.is_file():
        return bundled
    raise FontMissing(
        "PDF_FONT_MISSING",
        "未找到中文字体，无法生成PDF：请安装 fonts-wqy-microhei，或用 YIDI_PDF_FONT 指定字体文件",
        "no Chinese font found for the PDF: install fonts-wqy-microhei or set YIDI_PDF_FONT",
    )


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    registry = default_registry()
    return registry.get(code).name if registry.exists(code) else code


def _options(choices: Sequence[tuple[str, str]], chosen: str | None) -> list[str]:
    """The form's numbered options with the chosen one marked: ■1.职工医保, □2.城乡居民医保."""
    return [
        f"{CHECKED if value == chosen else UNCHECKED}{n}.{label}"
        for n, (value, label) in enumerate(choices, start=1)
    ]


def label_parts(text: str) -> list[str]:
    """A label cut where a line may break: between characters, never inside a parenthesis.

    "转往省（市、区）名称" -> 转, 往, 省, （市、区）, 名, 称: a parenthesis is one part, so no
    line ends on its opening bracket or starts with its closing one. "\\n" is a part of its own.
    """
    parts: list[str] = []
    depth = 0
    for char in text:
        if depth > 0:
            parts[-1] += char
        else:
            parts.append(char)
        if char in "（(":
            depth += 1
        elif char in "）)" and depth > 0:
            depth -= 1
    return parts


def _region_line(code: str | None) -> str:
    """The form's 市（县、市、区） line, filled in: "参保地：湖南省衡阳市衡阳县"."""
    if not code:
        return "参保地市（县、市、区）："
    registry = default_registry()
    if not registry.exists(code):
        return f"参保地市（县、市、区）：{code}"
    division = registry.get(code)
    return f"参保地市（县、市、区）：{division.full_name or division.name}"


def _date(value: object) -> str:
    return "" if value is None else f"{value:%Y年%m月%d日}"


class _Form(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(False)
        path = cjk_font_path()
        self.add_font(FAMILY, "", str(path))
        self.set_font(FAMILY, size=10.5)
        self.set_creator("yidi")

    def line_text(self, text: str, *, size: float = 10.5, align: str = "L", h: float = 7) -> None:
        self.set_font(FAMILY, size=size)
        self.cell(0, h, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fit(self, parts: Sequence[str], width: float, size: float, joiner: str = "") -> str:
        """``parts`` as lines no wider than ``width`` mm at ``size`` pt, broken only between parts.

        The table would otherwise wrap a label at any character ("转往省（市、区" / "）名称").
        A part wider than the cell on its own keeps a line to itself.
        """
        self.set_font(FAMILY, size=size)
        room = width - 2 * CELL_PADDING - 0.5
        lines: list[str] = []
        line = ""
        for part in parts:
            if part == "\n":
                lines.append(line)
                line = ""
                continue
            candidate = f"{line}{joiner}{part}" if line else part
            if line and self.get_string_width(candidate) > room:
                lines.append(line)
                line = part
            else:
                line = candidate
        lines.append(line)
        return "\n".join(lines)


def annex1_pdf(record: FilingRecord) -> bytes:
    """附件1 for one filing, on one A4 page."""
    pdf = _Form()
    pdf.set_title(f"异地就医登记备案表 {record.filing_number or ''}".strip())
    pdf.add_page()
    pdf.line_text("附件1", size=10)
    pdf.line_text(f"备案编号：{record.filing_number or '（审核通过后分配）'}", align="R")
    pdf.line_text("异地就医登记备案表", size=18, align="C", h=12)
    pdf.line_text(_region_line(record.insured_region_code), h=8)

    insurance = _options(
        [(t.value, t.label_zh) for t in InsuranceType],
        record.insurance_type.value if record.insurance_type else None,
    )
    category = _options(
        [(c.value, c.label_zh) for c in FilingCategory],
        record.category.value if record.category else None,
    )
    registration = _options(
        [(r.value, r.label_zh) for r in RegistrationType], record.registration_type.value
    )
    hospitals = record.designated_institutions
    hospital_names = "；".join(h.name for h in hospitals)
    hospital_levels = "；".join(h.level.label_zh if h.level else "" for h in hospitals)
    signer = ""
    if record.signed_by is SignedBy.DELEGATE and record.delegate is not None:
        signer = f"被委托人：{record.delegate.name or ''}（{record.delegate.relation or ''}）"

    widths = COLUMN_WIDTHS
    label_face = FontFace(size_pt=LABEL_SIZE)

    def span(column: int, colspan: int) -> float:
        return float(sum(widths[column : column + colspan]))

    class _Row:
        """One table row: labels set small and broken only between their parts."""

        def __init__(self) -> None:
            self.row = table.row()
            self.column = 0

        def label(self, text: str) -> None:
            self.row.cell(
                pdf.fit(label_parts(text), span(self.column, 1), LABEL_SIZE), style=label_face
            )
            self.column += 1

        def value(self, text: str, colspan: int = 1) -> None:
            self.row.cell(text, colspan=colspan)
            self.column += colspan

        def field(self, label: str, text: str, colspan: int = 1) -> None:
            """A labelled value (标签 + 内容)."""
            self.label(label)
            self.value(text, colspan)

        def options(self, options: list[str], colspan: int = 1) -> None:
            width = span(self.column, colspan)
            self.value(pdf.fit(options, width, TABLE_SIZE, joiner="  "), colspan)

    pdf.set_font(FAMILY, size=TABLE_SIZE)
    with pdf.table(
        col_widths=widths,
        width=CONTENT_WIDTH,
        line_height=6.5,
        text_align="LEFT",
        first_row_as_headings=False,
        padding=CELL_PADDING,
    ) as table:
        row = _Row()
        row.field("姓名", record.name or "")
        row.field("性别", record.gender.label_zh if record.gender else "")
        row.label("险种")
        row.options(insurance)
        row = _Row()
        row.label("人员类别")
        row.options(category, colspan=3)
        row.label("登记类别")
        row.options(registration)
        row = _Row()
        row.field("社会保障号码", record.social_security_number or "", 2)
        row.field("社会保障卡号（可选）", record.social_security_card_number or "", 2)
        row = _Row()
        row.field("参保地家庭住址", record.home_address or "", 2)
        row.field("异地联系地址（现住址）", record.contact_address or "", 2)
        row = _Row()
        row.field("联系电话", record.phone or "", 2)
        row.field("手机", record.mobile or "", 2)
        row = _Row()
        row.field("转往省（市、区）名称", _region_name(record.destination_province_code))
        row.field("地区（市、州）名称", _region_name(record.destination_prefecture_code))
        row.field("县（区）名称", _region_name(record.destination_county_code))
        row = _Row()
        row.field("医疗机构名称", hospital_names, 3)
        row.field("医疗机构级别", hospital_levels)
        row = _Row()
        signature = "本人（被委托人）签名" + (f"\n{signer}" if signer else "")
        row.label(signature + "\n\n\n")
        row.value("", colspan=3)  # left blank: signed by hand
        row.field("填表日期", _date(record.filled_on))

    pdf.ln(8)
    top = pdf.get_y()
    pdf.line_text(f"参保地经办机构：{record.handling_agency or ''}", h=9)
    pdf.line_text(f"经办人：{record.handler or ''}", h=9)
    pdf.line_text(f"经办日期：{_date(record.handled_on)}", h=9)
    validity = ""
    if record.valid_from:
        validity = f"备案有效期：{_date(record.valid_from)}起"
        if record.valid_until:
            validity += f"至{_date(record.valid_until)}"
    if validity:
        pdf.line_text(validity, h=9)
    # The agency's stamp (盖章) goes in this box.
    stamp_size = 40
    stamp_x = PAGE_WIDTH_MM - MARGIN_MM - stamp_size
    pdf.rect(stamp_x, top, stamp_size, stamp_size)
    pdf.set_xy(stamp_x, top + stamp_size - 8)
    pdf.set_font(FAMILY, size=9)
    pdf.cell(stamp_size, 6, "（经办机构盖章）", align="C")
    return bytes(pdf.output())
