"""门诊慢特病 认定, pure: the dated disease lists and the rules of a recognition.

A disease list is data: the national cross-province list (``data/national/chronic_diseases.yaml``)
and a region's own list with the annual limit and rate its policy sets
(``policies/<区划>/chronic_diseases.yaml``). A recognition (认定) says that the insured-place
agency recognised a person for one disease from a begin date, optionally until an end date
(inclusive), on the evidence of a hospital, a doctor or a document.

Nothing here reads a file, a database or the clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.money import Money

DISEASE_CODE_MAX = 30
EVIDENCE_MAX = 100


class ListScope(enum.Enum):
    NATIONAL = "national"  # 跨省直接结算病种（全国）
    REGIONAL = "regional"  # 参保地自定病种

    @property
    def label_zh(self) -> str:
        return {"national": "跨省直接结算病种", "regional": "参保地病种"}[self.value]


@dataclass(frozen=True, slots=True)
class DiseaseBenefit:
    """The region's annual limit and rate for a disease from ``effective_on`` (policy data);
    optionally a deductible (起付线, per person, disease and year). ``limit_on`` says what the
    limit counts: ``fund_paid`` (统筹基金年度支付限额) or ``eligible`` (年度政策范围内费用限额)."""

    effective_on: dt.date
    annual_limit: Money | None
    rate: Decimal | None
    reference: str
    illustrative: bool
    deductible: Money | None = None
    limit_on: str = ""


@dataclass(frozen=True, slots=True)
class Disease:
    """One disease of a list, valid from ``valid_from`` until ``valid_until`` (exclusive)."""

    code: str
    name: str
    scope: ListScope
    valid_from: dt.date
    valid_until: dt.date | None
    reference: str
    verified: bool
    national_name: str = ""
    benefits: tuple[DiseaseBenefit, ...] = ()

    def valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

    def benefit_on(self, on: dt.date) -> DiseaseBenefit | None:
        """The limit and rate in force on ``on`` (the last entry not after it), if any."""
        current: DiseaseBenefit | None = None
        for benefit in self.benefits:
            if benefit.effective_on <= on:
                current = benefit
        if current is None or (current.annual_limit is None and current.rate is None):
            return None
        return current


@dataclass(frozen=True, slots=True)
class DiseaseList:
    """The diseases a region recognises: the national list plus the region's own entries.

    ``region_code`` is the region whose own file was merged (``None``: the national list only).
    A regional entry with the code of a national disease adds that region's limit and rate to it.
    """

    region_code: str | None
    diseases: tuple[Disease, ...]
    illustrative: bool = False

    def codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.diseases)

    def on(self, on: dt.date) -> list[Disease]:
        return [d for d in self.diseases if d.valid_on(on)]

    def find(self, code: str) -> list[Disease]:
        return [d for d in self.diseases if d.code == code]

    def require(self, code: str, on: dt.date) -> Disease:
        """The disease ``code`` as listed on ``on``, or a clear refusal."""
        entries = self.find(code)
        if not entries:
            raise InvalidInput(
                "CHRONIC_DISEASE_UNKNOWN",
                f"病种编码 {code} 不在参保地的门诊慢特病病种目录中",
                f"disease code {code} is on no chronic-disease list of the insured region",
                field="disease_code",
            )
        for entry in entries:
            if entry.valid_on(on):
                return entry
        spans = "；".join(
            f"{e.valid_from.isoformat()} 起"
            + (f"至 {e.valid_until.isoformat()} 前" if e.valid_until else "")
            for e in entries
        )
        raise Refused(
            "CHRONIC_DISEASE_NOT_LISTED_ON_DATE",
            f"病种 {code}（{entries[0].name}）在 {on.isoformat()} 不在病种目录中（目录有效期：{spans}）",
            f"disease {code} is not on the list on {on.isoformat()}",
            field="begin_on",
        )


def merge_lists(
    national: Sequence[Disease], regional: Sequence[Disease], region_code: str | None
) -> DiseaseList:
    """The national list with the region's own file merged in.

    A regional entry whose code is a national disease contributes its benefits (limit, rate)
    to the national entry; any other regional entry is a disease of the region's own, valid from
    its first benefit date and ended by a final ``null`` entry.
    """
    by_code = {d.code: d for d in regional}
    merged: list[Disease] = []
    for disease in national:
        extra = by_code.pop(disease.code, None)
        if extra is not None:
            disease = Disease(
                disease.code,
                disease.name,
                disease.scope,
                disease.valid_from,
                disease.valid_until,
                disease.reference,
                disease.verified,
                disease.national_name,
                extra.benefits,
            )
        merged.append(disease)
    merged.extend(by_code.values())
    illustrative = any(b.illustrative for d in regional for b in d.benefits)
    return DiseaseList(region_code, tuple(merged), illustrative)


class RecognitionState(enum.Enum):
    ACTIVE = "active"  # 有效（含已约定结束日期但尚未到期）
    ENDED = "ended"  # 经办机构已终止

    @property
    def label_zh(self) -> str:
        return {"active": "有效", "ended": "已终止"}[self.value]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Who or what the recognition rests on: a hospital and doctor, and/or a document number."""

    hospital_code: str = ""
    doctor_name: str = ""
    reference: str = ""

    def require_some(self) -> Evidence:
        fields = (self.hospital_code, self.doctor_name, self.reference)
        if any(len(v) > EVIDENCE_MAX for v in fields):
            raise InvalidInput(
                "CHRONIC_EVIDENCE_TOO_LONG",
                f"认定依据的每一项最多 {EVIDENCE_MAX} 个字符",
                f"each evidence field has at most {EVIDENCE_MAX} characters",
                field="evidence",
            )
        if not any(v.strip() for v in fields):
            raise InvalidInput(
                "CHRONIC_EVIDENCE_REQUIRED",
                "请填写认定依据：鉴定医院、医师或材料编号至少一项",
                "give the hospital, the doctor or the evidence reference",
                field="evidence",
            )
        return Evidence(*(v.strip() for v in fields))


@dataclass(frozen=True, slots=True)
class Recognition:
    """门诊慢特病 认定: a person recognised for one disease from ``begin_on`` to ``end_on``."""

    id: str
    person_id: int
    psn_no: str
    insured_region_code: str
    disease_code: str
    disease_name: str
    begin_on: dt.date
    end_on: dt.date | None
    evidence: Evidence
    state: RecognitionState
    recorded_by: str
    recorded_at: dt.datetime
    ended_by: str | None = None
    ended_at: dt.datetime | None = None
    end_reason: str = ""

    def last_day(self) -> dt.date | None:
        return self.end_on

    def over_on(self, today: dt.date) -> bool:
        """Ended (终止) or past its last day on ``today``: the lists' "ended" filter (the
        storage's search applies the same rule in its query)."""
        return self.state is RecognitionState.ENDED or (
            self.end_on is not None and self.end_on < today
        )

    def valid_on(self, on: dt.date) -> bool:
        return self.begin_on <= on and (self.end_on is None or on <= self.end_on)

    def overlaps(self, begin_on: dt.date, end_on: dt.date | None) -> bool:
        """Does [begin_on, end_on] (None: open) share a day with this recognition?"""
        if self.end_on is not None and self.end_on < begin_on:
            return False
        return end_on is None or self.begin_on <= end_on


@dataclass(frozen=True, slots=True)
class NewRecognition:
    """What the agency asks to record, checked by :func:`check_new`."""

    disease_code: str
    begin_on: dt.date
    end_on: dt.date | None
    evidence: Evidence = field(default_factory=Evidence)


def require_dates(begin_on: dt.date, end_on: dt.date | None) -> None:
    if end_on is not None and end_on < begin_on:
        raise InvalidInput(
            "CHRONIC_RECOGNITION_END_BEFORE_BEGIN",
            f"结束日期 {end_on.isoformat()} 早于开始日期 {begin_on.isoformat()}",
            "the end date is before the begin date",
            field="end_on",
        )


def normalise_code(code: str) -> str:
    text = code.strip().upper()
    if not text or len(text) > DISEASE_CODE_MAX:
        raise InvalidInput(
            "CHRONIC_DISEASE_CODE_INVALID",
            f"病种编码须为 1–{DISEASE_CODE_MAX} 个字符",
            f"a disease code has 1 to {DISEASE_CODE_MAX} characters",
            field="disease_code",
        )
    return text


def check_new(
    request: NewRecognition, diseases: DiseaseList, existing: Iterable[Recognition]
) -> Disease:
    """The listed disease for a new recognition, or the first rule it breaks.

    The disease must be on the list on the begin date (and, for a closed period, on its last
    day too); a recognition of the same disease whose period shares a day is refused.
    """
    code = normalise_code(request.disease_code)
    require_dates(request.begin_on, request.end_on)
    disease = diseases.require(code, request.begin_on)
    if request.end_on is not None and not disease.valid_on(request.end_on):
        diseases.require(code, request.end_on)
    request.evidence.require_some()
    for other in existing:
        if other.disease_code == code and other.overlaps(request.begin_on, request.end_on):
            until = other.end_on.isoformat() if other.end_on else "长期"
            raise Conflict(
                "CHRONIC_RECOGNITION_OVERLAP",
                f"该参保人员已有 {disease.name} 的认定（{other.begin_on.isoformat()} 至 {until}），"
                "期间重叠；请先终止原认定或调整日期",
                "an overlapping recognition of the same disease exists",
                field="begin_on",
                details={"recognition_id": other.id},
            )
    return disease


def same_request(recognition: Recognition, request: NewRecognition) -> bool:
    """Is ``recognition`` exactly what ``request`` asks for (a retry without a key)?"""
    return (
        recognition.state is RecognitionState.ACTIVE
        and recognition.disease_code == normalise_code(request.disease_code)
        and recognition.begin_on == request.begin_on
        and recognition.end_on == request.end_on
    )


def check_end(recognition: Recognition, end_on: dt.date) -> bool:
    """May ``recognition`` end on ``end_on`` (inclusive)? False: it already has, a retry."""
    if recognition.state is RecognitionState.ENDED:
        if recognition.end_on == end_on:
            return False
        raise Conflict(
            "CHRONIC_RECOGNITION_ALREADY_ENDED",
            f"该认定已于 {recognition.end_on} 终止，不能再改终止日期",
            "this recognition has already ended",
            field="end_on",
        )
    if end_on < recognition.begin_on:
        raise InvalidInput(
            "CHRONIC_RECOGNITION_END_BEFORE_BEGIN",
            f"终止日期 {end_on.isoformat()} 早于认定开始日期 {recognition.begin_on.isoformat()}",
            "the end date is before the begin date",
            field="end_on",
        )
    if recognition.end_on is not None and end_on > recognition.end_on:
        raise Refused(
            "CHRONIC_RECOGNITION_END_AFTER_PERIOD",
            f"终止日期 {end_on.isoformat()} 晚于认定原定结束日期 {recognition.end_on.isoformat()}；"
            "延长请重新认定",
            "the end date is after the recognition's own end; record a new recognition instead",
            field="end_on",
        )
    return True
