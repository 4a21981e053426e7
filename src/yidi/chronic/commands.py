"""门诊慢特病 认定 use cases: record and end a recognition, list and read them, and the query
the national gateway answers (5301 人员慢特病备案查询).

Scope: the insured-place agency records and ends recognitions of its own region's persons; the
agency and the province read within their region; an insured person reads their own. A record
outside the caller's scope is answered like a missing one. Every read of a person's
recognitions (detail, a person's own list, a hospital's 5301) is appended to the audit chain;
lists show ID numbers masked (the caller's formatting). Retries are safe: an
``Idempotency-Key`` returns the first answer, and recording exactly the same recognition again
returns the existing one instead of a second row.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from yidi.chronic.lists import DiseaseLists
from yidi.chronic.model import (
    Disease,
    DiseaseList,
    NewRecognition,
    Recognition,
    RecognitionState,
    check_end,
    check_new,
    normalise_code,
    same_request,
)
from yidi.chronic.ports import ChronicUnitOfWork, PersonRef, RecognitionQuery
from yidi.kernel.access import Action, Principal, Role, hidden
from yidi.kernel.audit import as_utc, audit_entry, audit_entry_by
from yidi.kernel.clock import Clock
from yidi.kernel.errors import InvalidInput, NotFound, Refused
from yidi.kernel.identity import ResidentId
from yidi.kernel.regions import region_prefix

REASON_MAX = 400


@dataclass(frozen=True, slots=True)
class RecognitionDetail:
    recognition: Recognition
    person: PersonRef
    disease: Disease | None  # the list entry of its begin date (None: no longer on any list)
    created: bool = False


@dataclass(frozen=True, slots=True)
class GatewayRecognitions:
    """What 5301 answers: the person's recognitions valid on the day, with their list entries."""

    person: PersonRef
    items: list[tuple[Recognition, Disease | None]]


def _person_hidden() -> NotFound:
    return hidden("参保人员", "person")


def _recognition_hidden() -> NotFound:
    return hidden("门诊慢特病认定", "chronic_recognition")


def _may_see(principal: Principal, person: PersonRef) -> bool:
    if principal.role is Role.INSURED_PERSON:
        return principal.id_number is not None and principal.id_number == person.id_number
    return principal.covers_region(person.insured_region_code)


class ChronicService:
    def __init__(
        self,
        uow: Callable[[], ChronicUnitOfWork],
        clock: Clock,
        lists: DiseaseLists | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.lists = lists or DiseaseLists()

    # the lists ------------------------------------------------------------------------
    def diseases(self, region_code: str | None) -> DiseaseList:
        """The list a region's insured persons are recognised from (None: the national list)."""
        if region_code is None:
            return self.lists.national_list()
        if not (len(region_code) == 6 and region_code.isdigit()):
            raise InvalidInput(
                "REGION_CODE_INVALID",
                "参保地区划须为6位数字",
                "the region code has six digits",
                field="region",
            )
        return self.lists.for_region(region_code)

    # recording ------------------------------------------------------------------------
    def recognise(
        self,
        principal: Principal,
        id_number: str,
        request: NewRecognition,
        *,
        idempotency: tuple[str, str] | None = None,
    ) -> RecognitionDetail:
        """认定: record that the person is recognised for ``request.disease_code``."""
        principal.require(Action.CHRONIC_RECOGNISE)
        number = ResidentId.parse(id_number).number
        scope = f"chronic:{principal.user_id}"
        with self._uow() as uow:
            if idempotency is not None:
                stored = uow.idempotency.recall(scope, idempotency[0], idempotency[1])
                if stored is not None:
                    return self._detail(uow, stored["recognition_id"])
            person = uow.chronic.person_by_id_number(number)
            if person is None or not _may_see(principal, person):
                raise _person_hidden()
            uow.chronic.lock_person(person.person_id)
            existing = uow.chronic.for_person(person.person_id)
            for other in existing:
                if same_request(other, request):
                    return self._detail(uow, other.id)
            diseases = self.lists.for_region(person.insured_region_code)
            disease = check_new(request, diseases, existing)
            now = self._clock.now()
            recognition = Recognition(
                id="CR" + secrets.token_hex(12).upper(),
                person_id=person.person_id,
                psn_no=person.psn_no,
                insured_region_code=person.insured_region_code,
                disease_code=disease.code,
                disease_name=disease.name,
                begin_on=request.begin_on,
                end_on=request.end_on,
                evidence=request.evidence.require_some(),
                state=RecognitionState.ACTIVE,
                recorded_by=principal.user_id,
                recorded_at=as_utc(now),
            )
            uow.chronic.add(recognition)
            uow.audit.append(
                audit_entry_by(
                    principal,
                    now,
                    action="chronic.recognise",
                    subject=f"chronic:{recognition.id}",
                    reason=f"认定 {disease.code} {disease.name} 自 {request.begin_on.isoformat()}",
                )
            )
            if idempotency is not None:
                uow.idempotency.remember(
                    scope,
                    idempotency[0],
                    idempotency[1],
                    {"recognition_id": recognition.id},
                    as_utc(now),
                )
            uow.commit()
            return RecognitionDetail(recognition, person, disease, created=True)

    def end(
        self, principal: Principal, recognition_id: str, end_on: dt.date, reason: str
    ) -> RecognitionDetail:
        """终止: the recognition ends on ``end_on`` (inclusive). The same end again is a retry."""
        principal.require(Action.CHRONIC_RECOGNISE)
        text = reason.strip()
        if not 2 <= len(text) <= REASON_MAX:
            raise InvalidInput(
                "CHRONIC_END_REASON_REQUIRED",
                f"请写明终止原因（2–{REASON_MAX} 个字符）",
                f"give the reason (2 to {REASON_MAX} characters)",
                field="reason",
            )
        with self._uow() as uow:
            recognition, person = self._scoped(uow, principal, recognition_id)
            uow.chronic.lock_person(person.person_id)
            if check_end(recognition, end_on):
                now = self._clock.now()
                uow.chronic.end(
                    recognition.id, end_on, by=principal.user_id, at=as_utc(now), reason=text
                )
                uow.audit.append(
                    audit_entry_by(
                        principal,
                        now,
                        action="chronic.end",
                        subject=f"chronic:{recognition.id}",
                        reason=f"终止于 {end_on.isoformat()}：{text}",
                    )
                )
                uow.commit()
            return self._detail(uow, recognition.id)

    # reading --------------------------------------------------------------------------
    def list_recognitions(
        self,
        principal: Principal,
        *,
        region: str | None = None,
        disease_code: str | None = None,
        active_on: dt.date | None = None,
        over: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[tuple[Recognition, PersonRef]]]:
        """Recognitions within the caller's scope (the route masks what it shows); ``over``:
        only those ended or past their last day today (True), only the others (False)."""
        principal.require(Action.CHRONIC_READ)
        own: str | None = None
        prefix: str | None = None
        if principal.role is Role.INSURED_PERSON:
            own = principal.id_number or "-"
        else:
            if principal.region_code is None:
                raise _person_hidden()
            prefix = region_prefix(principal.region_code)
            if region is not None:
                if not principal.covers_region(region):
                    raise NotFound("REGION_NOT_FOUND", "未找到该地区", "region not found")
                prefix = region_prefix(region)
        query = RecognitionQuery(
            region_prefix=prefix,
            own_id_number=own,
            disease_code=normalise_code(disease_code) if disease_code else None,
            active_on=active_on,
            over=over,
            as_of=self._clock.today() if over is not None else None,
            limit=limit,
            offset=offset,
        )
        with self._uow() as uow:
            total, items = uow.chronic.search(query)
            if own is not None:
                # A person's own record: the read is audited like a detail.
                uow.audit.append(
                    audit_entry_by(
                        principal, self._clock.now(), action="chronic.read", subject="chronic:self"
                    )
                )
                uow.commit()
            return total, items

    def get(self, principal: Principal, recognition_id: str) -> RecognitionDetail:
        """One recognition in full (the person's ID number included): audited."""
        principal.require(Action.CHRONIC_READ)
        with self._uow() as uow:
            recognition, _person = self._scoped(uow, principal, recognition_id)
            uow.audit.append(
                audit_entry_by(
                    principal,
                    self._clock.now(),
                    action="chronic.read",
                    subject=f"chronic:{recognition.id}",
                )
            )
            detail = self._detail(uow, recognition.id)
            uow.commit()
            return detail

    # the national gateway (5301) ------------------------------------------------------
    def for_hospital(
        self, fixmedins_code: str, operator: str, psn_no: str, on: dt.date | None = None
    ) -> GatewayRecognitions:
        """人员慢特病备案查询: the person's recognitions valid on ``on`` (default today), read
        by a connected hospital (audited)."""
        day = on or self._clock.today()
        with self._uow() as uow:
            connected = uow.chronic.hospital_connected(fixmedins_code)
            if connected is None:
                raise NotFound(
                    "HOSPITAL_NOT_FOUND",
                    f"定点医疗机构 {fixmedins_code} 不存在",
                    "no such designated institution",
                    field="fixmedins_code",
                )
            if not connected:
                raise Refused(
                    "HOSPITAL_NOT_CONNECTED",
                    f"定点医疗机构 {fixmedins_code} 未开通异地就医直接结算",
                    "the institution is not connected for cross-region settlement",
                    field="fixmedins_code",
                )
            person = uow.chronic.person_by_psn_no(psn_no)
            if person is None:
                raise NotFound(
                    "PERSON_NOT_FOUND",
                    "人员编号不存在，请先用 1101 获取人员信息",
                    "unknown psn_no; query the person with 1101 first",
                    field="psn_no",
                )
            diseases = self.lists.for_region(person.insured_region_code)
            items = [
                (r, _entry(diseases, r))
                for r in uow.chronic.for_person(person.person_id)
                if r.valid_on(day)
            ]
            uow.audit.append(
                audit_entry(
                    self._clock.now(),
                    actor=operator[:64],
                    role="hospital_gateway",
                    region_code=None,
                    action="chronic.read",
                    subject=f"chronic:person:{person.psn_no}",
                    reason=f"5301 {fixmedins_code}：{len(items)} 条有效认定",
                )
            )
            uow.commit()
            return GatewayRecognitions(person, items)

    # helpers --------------------------------------------------------------------------
    def _scoped(
        self, uow: ChronicUnitOfWork, principal: Principal, recognition_id: str
    ) -> tuple[Recognition, PersonRef]:
        recognition = uow.chronic.get(recognition_id[:32])
        if recognition is None:
            raise _recognition_hidden()
        person = uow.chronic.person_by_internal_id(recognition.person_id)
        if person is None or not _may_see(principal, person):
            raise _recognition_hidden()
        return recognition, person

    def _detail(self, uow: ChronicUnitOfWork, recognition_id: str) -> RecognitionDetail:
        recognition = uow.chronic.get(recognition_id)
        if recognition is None:
            raise _recognition_hidden()
        person = uow.chronic.person_by_internal_id(recognition.person_id)
        if person is None:
            raise _recognition_hidden()
        diseases = self.lists.for_region(person.insured_region_code)
        return RecognitionDetail(recognition, person, _entry(diseases, recognition))


def _entry(diseases: DiseaseList, recognition: Recognition) -> Disease | None:
    for disease in diseases.find(recognition.disease_code):
        if disease.valid_on(recognition.begin_on):
            return disease
    return None
