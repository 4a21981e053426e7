"""Evidence (证明材料) handed in with a filing: what it is, who issued it, where the scan is.

The file bytes live in storage; a filing only keeps the reference (sha256,
filename, media type) so that a record stays small and easy to persist.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from yidi.domain.insurance import HospitalLevel

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
