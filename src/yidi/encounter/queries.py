"""Reads of direct settlement at the hospital: the caller's encounters, one encounter with
its lines and settlements, the settlement of an id, year-to-date totals and statistics.

Scope: a cashier (or a gateway caller identified by ``fixmedins_code``) sees only encounters
of their own hospital; another hospital's encounter is answered exactly like a missing one.
A read a person asked for (the detail page, the statement) is audited.

The state-changing use cases (``yidi.encounter.commands.HospitalService``) build on this
class; both reach storage only through the ports (``yidi.encounter.ports``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from yidi.accounts.model import account_eligible
from yidi.catalog.commands import CatalogLookup, region_chain
from yidi.encounter.model import local
from yidi.encounter.ports import CatalogSource, EncounterUnitOfWork
from yidi.encounter.records import (
    EncounterContext,
    EncounterRow,
    FeeLineRow,
    SettlementRecord,
    SettlementRow,
    settlement_record,
)
from yidi.kernel.access import Caller
from yidi.kernel.audit import caller_entry
from yidi.kernel.clock import Clock
from yidi.kernel.ecredential import E_CREDENTIAL_TYPE, ECredentialVerifier
from yidi.kernel.errors import InvalidInput, NotFound, Refused
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.money import Money
from yidi.kernel.privacy import mask_id_number
from yidi.kernel.regions import DivisionRegistry, default_registry
from yidi.policy.loader import PolicyLibrary, shipped_policy_library
from yidi.reference.model import Agency, Hospital, Person
from yidi.settlement.claim_builder import policy_region_of
from yidi.settlement.claims import YearToDate

#: Credential kind for the person number a hospital got from 1101 (2401 and later).
PSN_NO_KIND: Final = "psn"


@dataclass(frozen=True, slots=True)
class Credential:
    """就诊凭证 the patient presents: 01 医保电子凭证 (its token), 02 居民身份证 (the ID
    number, with the name: both are asked for), 03 社会保障卡 (the card number). Kind
    :data:`PSN_NO_KIND` is the person number 1101 returned, used by 2401 and later."""

    kind: str
    number: str
    name: str = ""


def _not_found_encounter() -> NotFound:
    return NotFound(
        "ENCOUNTER_NOT_FOUND", "未找到该就诊记录", "encounter not found", field="mdtrt_id"
    )


@dataclass(frozen=True)
class EncounterDetail:
    encounter: EncounterRow
    psn_no: str
    person: Person
    hospital: Hospital
    lines: list[FeeLineRow]
    settlements: list[SettlementRecord]


class EncounterQueries:
    """Reads of direct settlement; each call is one transaction (rolled back)."""

    def __init__(
        self,
        uow_factory: Callable[[], EncounterUnitOfWork],
        clock: Clock,
        *,
        catalogs: CatalogSource | None = None,
        regions: DivisionRegistry | None = None,
        policies: PolicyLibrary | None = None,
        ecredential: ECredentialVerifier | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs: CatalogSource = catalogs or CatalogLookup()
        self._regions = regions or default_registry()
        self._policies = policies
        # 医保电子凭证 (01): None resolves the tokens yidi issued itself (persons.ecert_token).
        self._ecredential = ecredential

    # --- helpers -------------------------------------------------------------------------

    @property
    def policies(self) -> PolicyLibrary:
        return self._policies or shipped_policy_library()

    def policy_region(self, insured_region: str, insurance_type: InsuranceType) -> str:
        """The pooling region whose policy applies: the code, its prefecture or province."""
        return policy_region_of(self.policies, insured_region, insurance_type)

    def _audit(
        self,
        uow: EncounterUnitOfWork,
        caller: Caller,
        action: str,
        subject: str,
        reason: str = "",
    ) -> None:
        uow.audit.append(caller_entry(self._clock.now(), caller, action, subject, reason))

    @staticmethod
    def _hospital(uow: EncounterUnitOfWork, caller: Caller) -> Hospital:
        hospital = uow.reference.hospital(caller.hospital_code)
        if hospital is None:
            raise NotFound(
                "HOSPITAL_NOT_FOUND",
                f"定点医疗机构 {caller.hospital_code} 不存在",
                "unknown designated institution",
                field="fixmedins_code",
            )
        if not hospital.cross_region_connected:
            raise Refused(
                "HOSPITAL_NOT_CONNECTED",
                f"{hospital.name}尚未接入异地就医直接结算平台，不能办理直接结算",
                "this hospital is not connected for cross-region direct settlement",
                field="fixmedins_code",
            )
        return hospital

    @staticmethod
    def _encounter(
        uow: EncounterUnitOfWork, caller: Caller, encounter_id: str, *, for_update: bool
    ) -> EncounterRow:
        encounter = uow.hospital.encounter(encounter_id, for_update=for_update)
        # Another hospital's encounter is answered exactly like a missing one.
        if encounter is None or encounter.hospital_code != caller.hospital_code:
            raise _not_found_encounter()
        return encounter

    @staticmethod
    def _encounter_context(
        uow: EncounterUnitOfWork, caller: Caller, encounter_id: str, *, for_update: bool
    ) -> EncounterContext:
        """The caller's stay with its person and hospital, in one read."""
        context = uow.hospital.encounter_context(encounter_id, for_update=for_update)
        if context is None or context.encounter.hospital_code != caller.hospital_code:
            raise _not_found_encounter()
        return context

    def _person_by_credential(
        self, uow: EncounterUnitOfWork, credential: Credential
    ) -> tuple[int, Person]:
        """The person the credential names. A miss (or an ID number with another name) is
        one answer, PERSON_NOT_FOUND, so a caller learns nothing it did not present."""
        number = credential.number.strip()
        found: tuple[int, Person] | None = None
        if credential.kind == "03":
            found = uow.hospital.person_by_card(number)
        elif credential.kind == "02":
            name = credential.name.strip()
            if not name:
                raise InvalidInput(
                    "CREDENTIAL_NAME_REQUIRED",
                    "以居民身份证查询时须同时提供姓名（psn_name）",
                    "an ID-card lookup needs the person's name as well",
                    field="psn_name",
                )
            found = uow.hospital.person_by_id_number(number.upper())
            if found is not None and found[1].name != name:
                found = None
        elif credential.kind == E_CREDENTIAL_TYPE:
            found = self._person_by_ecredential(uow, number)
        elif credential.kind == PSN_NO_KIND:
            found = uow.hospital.person_by_psn_no(number) if number else None
        else:
            raise InvalidInput(
                "CREDENTIAL_TYPE_INVALID",
                f"就诊凭证类型“{credential.kind}”无效，应为 01 医保电子凭证、02 居民身份证或 03 社会保障卡",
                "credential type must be 01, 02 or 03",
                field="mdtrt_cert_type",
            )
        if found is None:
            raise NotFound(
                "PERSON_NOT_FOUND",
                "未查询到该参保人员，请核对就诊凭证",
                "no insured person with this credential",
                field="psn_no" if credential.kind == PSN_NO_KIND else "mdtrt_cert_no",
            )
        return found

    def _person_by_ecredential(
        self, uow: EncounterUnitOfWork, token: str
    ) -> tuple[int, Person] | None:
        """The person an e-credential token names (with the internal id): through the
        configured verifier (which refuses an invalid or expired token), else yidi's own
        issued tokens."""
        if not token:
            return None
        if self._ecredential is None:
            return uow.hospital.person_by_ecert(token)
        identity = self._ecredential.verify(token, self._clock.now())
        found = uow.hospital.person_by_id_number(identity.id_number)
        if found is not None and identity.name and found[1].name != identity.name:
            return None
        return found

    def check_presented_ecredential(
        self, uow: EncounterUnitOfWork, person: Person, kind: str | None, token: str | None
    ) -> None:
        """2401 / 2201 name the person by psn_no; when the hospital also sends the
        e-credential it read (mdtrt_cert_type 01), the token must be valid and the same
        person's."""
        if kind != E_CREDENTIAL_TYPE or not token or not token.strip():
            return
        found = self._person_by_ecredential(uow, token.strip())
        if found is None or found[1].id_number != person.id_number:
            raise Refused(
                "ECREDENTIAL_PERSON_MISMATCH",
                "医保电子凭证与人员编号不属于同一参保人，交易未办理，请重新读取电子凭证",
                "the e-credential does not belong to the person named by psn_no",
                field="mdtrt_cert_no",
            )

    def _person_by_psn_no(self, uow: EncounterUnitOfWork, psn_no: str) -> tuple[int, Person]:
        return self._person_by_credential(uow, Credential(PSN_NO_KIND, psn_no))

    def agencies_to_call(self, uow: EncounterUnitOfWork, person: Person) -> list[Agency]:
        """The insured region's filing agencies, nearest first (county, prefecture, province)."""
        found: list[Agency] = []
        for code in region_chain(person.insured_region_code):
            for agency in uow.reference.agencies(code):
                if agency.insurance_type in (None, person.insurance_type):
                    found.append(agency)
            if any(a.phone for a in found):
                break
        return found

    def _call_agency_text(self, uow: EncounterUnitOfWork, person: Person) -> str:
        agencies = self.agencies_to_call(uow, person)
        with_phone = [a for a in agencies if a.phone]
        if with_phone:
            return "、".join(f"{a.name} {a.phone}" for a in with_phone)
        if agencies:
            return f"{agencies[0].name}（备案电话未登记，请通过参保地医保部门公布的电话联系）"
        return f"参保地（{person.insured_region_code}）医保经办机构"

    def require_person(self, caller: Caller, encounter_id: str, psn_no: str) -> None:
        """Refuse unless the caller's encounter is the person's: a request naming both a
        psn_no and an mdtrt_id must not act on (or show) another person's encounter."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            try:
                person_id, _ = self._person_by_psn_no(uow, psn_no)
            except NotFound:
                person_id = None
            if person_id != encounter.person_id:
                raise Refused(
                    "PSN_NO_MISMATCH",
                    f"人员编号 {psn_no[:30]} 与就诊ID {encounter_id} 不属于同一参保人，"
                    "交易未办理，请核对人员编号与就诊ID",
                    "psn_no and mdtrt_id do not belong to the same person",
                    field="psn_no",
                )

    def _context(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow
    ) -> tuple[Person, Hospital]:
        person = uow.hospital.person_by_internal_id(encounter.person_id)
        hospital = uow.reference.hospital(encounter.hospital_code)
        assert person is not None and hospital is not None
        return person, hospital

    def _record_of_row(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow, row: SettlementRow
    ) -> SettlementRecord:
        person, _ = self._context(uow, encounter)
        return settlement_record(
            row.kind,
            encounter,
            person,
            row.settled_at,
            row.amounts,
            json.loads(row.result_json),
            row=row,
        )

    def _stored_settlement(
        self, uow: EncounterUnitOfWork, encounter: EncounterRow, settlement_id: str
    ) -> SettlementRecord:
        row = uow.hospital.settlement(settlement_id)
        assert row is not None
        return self._record_of_row(uow, encounter, row)

    # --- reads --------------------------------------------------------------------------

    def encounters(
        self, caller: Caller, *, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[tuple[EncounterRow, Person]]:
        with self._uow() as uow:
            self._hospital(uow, caller)
            rows = uow.hospital.encounters_of_hospital(
                caller.hospital_code,
                state=state,
                limit=min(max(limit, 1), 200),
                offset=max(offset, 0),
            )
            out = []
            for row in rows:
                person = uow.hospital.person_by_internal_id(row.person_id)
                assert person is not None
                out.append((row, person))
            return out

    def institution(self, caller: Caller) -> Hospital:
        """The caller's own designated institution (a hospital or a retail pharmacy)."""
        with self._uow() as uow:
            return self._hospital(uow, caller)

    def account_balance(self, caller: Caller, encounter_id: str) -> Money | None:
        """The person's personal-account balance in the encounter's year, as the cashier may
        offer it (None: the insurance type keeps no account)."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            insurance_type = InsuranceType(encounter.insurance_type)
            if not account_eligible(insurance_type):
                return None
            year = local(encounter.admitted_at).year
            account = uow.accounts.read(encounter.person_id, insurance_type, year)
            return account.balance if account else Money.zero()

    def encounter_person(self, caller: Caller, encounter_id: str) -> Person:
        """The insured person of one of the caller's encounters (no fee lines read)."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            person = uow.hospital.person_by_internal_id(encounter.person_id)
            assert person is not None
            return person

    def encounter_detail(
        self, caller: Caller, encounter_id: str, *, audited: bool = False, reason: str = ""
    ) -> EncounterDetail:
        """The encounter with the person's full record; ``audited`` for a read a person asked
        for (the detail page, the statement), not for the echo after a change."""
        with self._uow() as uow:
            encounter = self._encounter(uow, caller, encounter_id, for_update=False)
            person, hospital = self._context(uow, encounter)
            detail = EncounterDetail(
                encounter=encounter,
                psn_no=person.psn_no,
                person=person,
                hospital=hospital,
                lines=uow.hospital.fee_lines(encounter_id, include_cancelled=True),
                settlements=[
                    self._record_of_row(uow, encounter, row)
                    for row in uow.hospital.settlements_of_encounter(encounter_id)
                ],
            )
            if audited:
                self._audit(
                    uow, caller, "hospital.encounter_read", f"encounter:{encounter_id}", reason
                )
                uow.commit()
            return detail

    def encounter_of_settlement(self, caller: Caller, settlement_id: str) -> str:
        """The mdtrt_id of one of the caller's settlements (others' answered like missing)."""
        with self._uow() as uow:
            row = uow.hospital.settlement(settlement_id)
            if row is None or row.hospital_code != caller.hospital_code:
                raise NotFound(
                    "SETTLEMENT_NOT_FOUND",
                    "未找到这笔结算",
                    "settlement not found",
                    field="setl_id",
                )
            return row.encounter_id

    def year_to_date(self, person_id: int, insurance_type: InsuranceType, year: int) -> YearToDate:
        with self._uow() as uow:
            return uow.hospital.read_year_to_date(person_id, insurance_type, year)

    def statistics(self) -> list[dict[str, Any]]:
        with self._uow() as uow:
            return uow.hospital.settlement_totals()


__all__ = [
    "PSN_NO_KIND",
    "Credential",
    "EncounterDetail",
    "EncounterQueries",
    "mask_id_number",
    "policy_region_of",
]
