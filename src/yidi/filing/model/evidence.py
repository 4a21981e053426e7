"""Evidence (证明材料) handed in with a filing: what it is, who issued it, where the scan is.

The file bytes live in storage; a filing only keeps the reference (sha256,
filename, media type) so that a record stays small and easy to persist.
"""

from __future__ import annotations

import enum
import re
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Final

from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import HospitalLevel

_SHA256: Final = re.compile(r"[0-9a-f]{64}")


class EvidenceKind(enum.Enum):
    """Kinds of supporting documents named by the seeds."""

    HOUSEHOLD_REGISTRATION = "household_registration"  # 户口（户口簿），安置地
    RESIDENCE_PERMIT = "residence_permit"  # 居住证，居住地公安机关办理
    POSTING_CERTIFICATE = "posting_certificate"  # 单位派驻证明
    REFERRAL_APPROVAL = "referral_approval"  # 转诊转院审批表
    EMERGENCY_RECORD = "emergency_record"  # 门（急）诊病历
    ADMISSION_NOTICE = "admission_notice"  # 入院通知书（入院证明）
    DELEGATION_LETTER = "delegation_letter"  # 委托书（由被委托人代办时）

    @property
    def label_zh(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS: Final = {
    EvidenceKind.HOUSEHOLD_REGISTRATION: "安置地户口",
    EvidenceKind.RESIDENCE_PERMIT: "居住证",
    EvidenceKind.POSTING_CERTIFICATE: "单位派驻证明",
    EvidenceKind.REFERRAL_APPROVAL: "转诊转院审批表",
    EvidenceKind.EMERGENCY_RECORD: "门（急）诊病历",
    EvidenceKind.ADMISSION_NOTICE: "入院通知书",
    EvidenceKind.DELEGATION_LETTER: "委托书",
}


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """Reference to an uploaded scan; the bytes are stored elsewhere, addressed by ``sha256``."""

    sha256: str
    filename: str
    media_type: str

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lower-case hex digits: {self.sha256!r}")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One supporting document (证明材料).

    ``issuer_region_code`` is the division where the issuing office or hospital
    sits; rules use it to check "issued at the destination" or "issued in the
    insured place". ``issuer_hospital_level`` and ``issuer_is_top_specialist``
    describe a hospital issuer (referral approvals).
    """

    kind: EvidenceKind
    document_number: str | None = None
    issuer: str | None = None
    issued_on: date | None = None
    issuer_region_code: str | None = None
    issuer_hospital_level: HospitalLevel | None = None
    issuer_is_top_specialist: bool = False
    file: EvidenceFile | None = None


# --------------------------------------------------------------------------- PDF active content

#: PDF names that make a reader run something or carry a file: scripts (/JavaScript, /JS),
#: automatic actions (/AA, and an /OpenAction that runs one of these), programs (/Launch),
#: embedded files, forms that submit or import data, rich media and XFA forms. A scanned
#: certificate needs none of them (ISO 32000-1 §12.6 actions, §7.11.4 embedded files).
PDF_ACTIVE_NAMES: Final = frozenset(
    {
        "JavaScript",
        "JS",
        "AA",
        "Launch",
        "EmbeddedFile",
        "EmbeddedFiles",
        "RichMedia",
        "XFA",
        "SubmitForm",
        "ImportData",
        "GoToE",
    }
)
#: Upper bound on the bytes inflated from object streams while looking for those names.
PDF_MAX_INFLATED_BYTES: Final = 32 * 1024 * 1024

_PDF_NAME: Final = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_PDF_HEX_ESCAPE: Final = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM: Final = re.compile(rb"(?<!end)stream\r?\n")
_PDF_ENDSTREAM: Final = b"endstream"


def _pdf_names(data: bytes) -> set[str]:
    """Every name token in ``data``, with #xx escapes decoded (``/J#61vaScript``)."""
    names: set[str] = set()
    for match in _PDF_NAME.finditer(data):
        raw = _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        names.add(raw.decode("latin-1"))
    return names


def _unreadable(what_zh: str, what_en: str) -> InvalidInput:
    return InvalidInput(
        "EVIDENCE_PDF_UNREADABLE",
        f"证明材料PDF无法检查（{what_zh}），请重新扫描或另存为普通PDF后上传",
        f"the PDF cannot be inspected ({what_en}); scan it again or save it as a plain PDF",
        field="file",
    )


def pdf_active_content(content: bytes) -> list[str]:
    """The active-content names found in a PDF (empty list: none found).

    Looks at the file body and inside every object stream (/ObjStm, where a PDF 1.5 file
    may hide its dictionaries in compressed form). An object stream that cannot be read
    (an unknown filter, encryption, more than :data:`PDF_MAX_INFLATED_BYTES`) is refused,
    since what it holds cannot be checked."""
    names = _pdf_names(content)
    if "Encrypt" in names:
        raise _unreadable("文件已加密", "the file is encrypted")
    inflated = 0
    for match in _PDF_STREAM.finditer(content):
        start = match.end()
        head = content[max(0, match.start() - 2048) : match.start()]
        head = head[head.rfind(b"obj") + 3 :] if b"obj" in head else head
        head_names = _pdf_names(head)
        if "ObjStm" not in head_names:
            continue
        end = content.find(_PDF_ENDSTREAM, start)
        body = content[start : end if end >= 0 else len(content)]
        if "FlateDecode" in head_names or "Fl" in head_names:
            inflater = zlib.decompressobj()
            try:
                text = inflater.decompress(body, PDF_MAX_INFLATED_BYTES - inflated + 1)
            except zlib.error as exc:
                raise _unreadable("对象流损坏", "a damaged object stream") from exc
            inflated += len(text)
            if inflated > PDF_MAX_INFLATED_BYTES or inflater.unconsumed_tail:
                raise _unreadable("对象流过大", "object streams too large")
        elif "Filter" in head_names:
            raise _unreadable("对象流使用了不支持的压缩方式", "an unsupported object stream filter")
        else:
            text = body
        names |= _pdf_names(text)
    return sorted(names & PDF_ACTIVE_NAMES)


def check_pdf_is_passive(content: bytes) -> None:
    """Refuse a PDF that carries scripts, automatic actions, launch actions or embedded files."""
    found = pdf_active_content(content)
    if found:
        raise InvalidInput(
            "EVIDENCE_PDF_ACTIVE_CONTENT",
            "证明材料PDF含有脚本、自动动作或嵌入文件（"
            + "、".join("/" + n for n in found)
            + "），不予接收。请上传扫描件或打印为普通PDF后再上传",
            "the PDF carries active content (" + ", ".join("/" + n for n in found) + "); "
            "upload a scan or a plain printed PDF",
            field="file",
            details={"found": ["/" + n for n in found]},
        )
