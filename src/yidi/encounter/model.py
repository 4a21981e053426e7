"""The encounter (就诊) of a direct settlement: its states, its transitions and the admission
rules, as a pure aggregate.

::

    ADMITTED ──discharge──▶ DISCHARGED ──settle──▶ SETTLED
      │  ▲                    │    ▲                  │
      │  └──cancel_discharge──┘    └──────reverse─────┘
      └──cancel_admission──▶ CANCELLED

An outpatient visit (普通门诊, med_type 11) has its own table::

    REGISTERED ──settle──▶ SETTLED
      │  ▲                   │
      │  └─────reverse───────┘
      └──cancel_registration──▶ CANCELLED

Its fee lines are uploaded and cancelled while REGISTERED; a visit is never an admission
(the outpatient scheme of the insured region's policy settles it, and it adds nothing to the
year's admission count).

Fee lines are uploaded or cancelled, the admission changed and a pre-settlement run only
while the encounter is *open* (ADMITTED or DISCHARGED). A reversal (2305 冲正/撤销结算)
puts a SETTLED encounter back to DISCHARGED so it can be corrected and settled again; a
2601 of that reversal settles it once more (``restore``).

Admission rules, from the Hengyang seed (衡阳日报 2017，“两种情形：不纳入直接结算范围”):
outpatient and emergency care are not admissions (general outpatient care, med_type 11, has
settled directly since 医保发〔2022〕22号 through its own visit, 2201–2208), and emergency care
is excluded, except emergency care that becomes an
admission within the national window (72 hours, ``yidi/data/national/settlement_rules.yaml``)
— measured from the emergency start to the admission instant; accidental-injury admissions
(med_type 22, or the admission's injury flag) are excluded. Only med_type 21 (普通住院) and
24 (急诊转住院) settle directly.

The service asks this module; it holds no state and reads nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from yidi.kernel.clock import CHINA_TZ
from yidi.kernel.errors import Conflict, InvalidInput, Refused
from yidi.kernel.money import Money
from yidi.policy.national import national_model
from yidi.settlement.claims import emergency_window_opens


class EncounterKind(enum.StrEnum):
    """住院, 普通门诊 or 药店购药: the kind of an encounter, known from its medical type."""

    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"
    PHARMACY = "pharmacy"

    @classmethod
    def of(cls, med_type: str) -> EncounterKind:
        if med_type in VISIT_MED_TYPES:
            return cls.OUTPATIENT
        if med_type == PHARMACY_MED_TYPE:
            return cls.PHARMACY
        return cls.INPATIENT

    @property
    def label_zh(self) -> str:
        return {"inpatient": "住院", "outpatient": "普通门诊", "pharmacy": "定点药店购药"}[
            self.value
        ]

    @property
    def transactions_zh(self) -> str:
        """The national transactions of the kind, for a refusal's way forward."""
        return {
            "inpatient": "住院请用 2301–2305、2401–2405",
            "outpatient": "门诊请用 2201–2208",
            "pharmacy": "药店购药请用 2101–2103",
        }[self.value]


#: med_type of a general outpatient visit (普通门诊), settled by 2201–2208.
OUTPATIENT_MED_TYPE: Final = "11"
#: med_type of a 门诊慢特病 visit, settled by 2201–2208 with the chronic scheme of the insured
#: region (the disease's terms on its list) when the person holds a recognition for the disease.
CHRONIC_MED_TYPE: Final = "14"
#: The med_types of an outpatient visit (2201–2208).
VISIT_MED_TYPES: Final = frozenset({OUTPATIENT_MED_TYPE, CHRONIC_MED_TYPE})
#: med_type of a purchase at a designated retail pharmacy (定点药店购药), settled by 2101–2103.
PHARMACY_MED_TYPE: Final = "41"


def visit_med_type(med_type: str | None) -> str:
    """The med_type of an outpatient visit: 11 普通门诊 (the default) or 14 门诊慢特病."""
    code = (med_type or OUTPATIENT_MED_TYPE).strip()
    if code not in VISIT_MED_TYPES:
        raise Refused(
            "MED_TYPE_NOT_DIRECT",
            f"医疗类别 {code} 不能按门诊办理（2201–2208 支持 11 普通门诊、14 门诊慢特病）",
            "2201-2208 settle med_type 11 (general outpatient) and 14 (chronic disease)",
            field="med_type",
        )
    return code


class EncounterState(enum.StrEnum):
    """States of an encounter as stored (``encounters.state``)."""

    REGISTERED = "registered"  # 已挂号 (outpatient)
    ADMITTED = "admitted"  # 在院
    DISCHARGED = "discharged"  # 已出院
    SETTLED = "settled"  # 已结算
    CANCELLED = "cancelled"  # 已撤销入院

    @property
    def label_zh(self) -> str:
        return STATE_ZH[self]

    @property
    def is_open(self) -> bool:
        """Fee lines, the admission and a pre-settlement may change only while open."""
        return self in (
            EncounterState.ADMITTED,
            EncounterState.DISCHARGED,
            EncounterState.REGISTERED,
        )


STATE_ZH: Final[dict[str, str]] = {
    EncounterState.REGISTERED: "已挂号",
    EncounterState.ADMITTED: "在院",
    EncounterState.DISCHARGED: "已出院",
    EncounterState.SETTLED: "已结算",
    EncounterState.CANCELLED: "已撤销入院",
}


class EncounterAction(enum.StrEnum):
    DISCHARGE = "discharge"  # 2402 出院
    CANCEL_DISCHARGE = "cancel_discharge"  # 2405 撤销出院
    CANCEL_ADMISSION = "cancel_admission"  # 2404 撤销入院
    SETTLE = "settle"  # 2304 结算
    REVERSE = "reverse"  # 2305 撤销结算 (and 2601 of a 2304)
    RESTORE = "restore"  # 2601 of a 2305 / 2208: settled again with the reversed result
    CANCEL_REGISTRATION = "cancel_registration"  # 2202 挂号撤销 (outpatient)


#: (state, action) → the state after it. A pair not listed is refused.
TRANSITIONS: Final[dict[tuple[EncounterState, EncounterAction], EncounterState]] = {
    (EncounterState.ADMITTED, EncounterAction.DISCHARGE): EncounterState.DISCHARGED,
    (EncounterState.ADMITTED, EncounterAction.CANCEL_ADMISSION): EncounterState.CANCELLED,
    (EncounterState.DISCHARGED, EncounterAction.CANCEL_DISCHARGE): EncounterState.ADMITTED,
    (EncounterState.DISCHARGED, EncounterAction.SETTLE): EncounterState.SETTLED,
    (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.DISCHARGED,
    (EncounterState.DISCHARGED, EncounterAction.RESTORE): EncounterState.SETTLED,
}

#: The outpatient visit's table (2201–2208), in the same style.
OUTPATIENT_TRANSITIONS: Final[dict[tuple[EncounterState, EncounterAction], EncounterState]] = {
    (EncounterState.REGISTERED, EncounterAction.SETTLE): EncounterState.SETTLED,
    (EncounterState.REGISTERED, EncounterAction.CANCEL_REGISTRATION): EncounterState.CANCELLED,
    (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.REGISTERED,
    (EncounterState.REGISTERED, EncounterAction.RESTORE): EncounterState.SETTLED,
}

#: A pharmacy purchase (2101–2103): 2102 stores it and settles it in one transaction (it is
#: REGISTERED only inside that transaction); 2103 cancels the settlement and with it the
#: purchase, which is then CANCELLED (a new purchase is a new 2102).
PHARMACY_TRANSITIONS: Final[dict[tuple[EncounterState, EncounterAction], EncounterState]] = {
    (EncounterState.REGISTERED, EncounterAction.SETTLE): EncounterState.SETTLED,
    (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.CANCELLED,
}

TRANSITIONS_BY_KIND: Final = {
    EncounterKind.INPATIENT: TRANSITIONS,
    EncounterKind.OUTPATIENT: OUTPATIENT_TRANSITIONS,
    EncounterKind.PHARMACY: PHARMACY_TRANSITIONS,
}


def _pharmacy_refusal(state: EncounterState, action: EncounterAction) -> Conflict:
    label = STATE_ZH[state]
    if action is EncounterAction.SETTLE:
        return Conflict(
            "ENCOUNTER_ALREADY_SETTLED",
            f"该药店购药状态为“{label}”，不能再次结算（新的购药请重新发起 2102）",
            "a pharmacy purchase is settled once; a new purchase is a new 2102",
            field="mdtrt_id",
        )
    if action is EncounterAction.REVERSE:
        return Conflict(
            "ENCOUNTER_NOT_SETTLED",
            f"该药店购药状态为“{label}”，没有可撤销的结算",
            "only a settled purchase can have its settlement cancelled",
            field="mdtrt_id",
        )
    return Conflict(
        "VISIT_NOT_INPATIENT",
        f"该就诊为定点药店购药（状态“{label}”），不能办理住院或门诊业务（药店购药请用 2101–2103）",
        "a pharmacy purchase has no admission, discharge or registration",
        field="mdtrt_id",
    )


def _outpatient_refusal(state: EncounterState, action: EncounterAction) -> Conflict:
    label = STATE_ZH[state]
    if action is EncounterAction.SETTLE:
        settled = state is EncounterState.SETTLED
        return Conflict(
            "ENCOUNTER_ALREADY_SETTLED" if settled else "VISIT_NOT_REGISTERED",
            "该门诊就诊已结算，不能重复结算" if settled else f"门诊就诊状态为“{label}”，不能结算",
            "only a registered, unsettled outpatient visit can be settled",
            field="mdtrt_id",
        )
    if action is EncounterAction.CANCEL_REGISTRATION:
        return cannot_cancel_registration()
    if action is EncounterAction.RESTORE:
        return cannot_restore()
    if action is EncounterAction.REVERSE:
        return Conflict(
            "ENCOUNTER_NOT_SETTLED",
            f"门诊就诊状态为“{label}”，没有可撤销的结算",
            "only a settled visit can have its settlement cancelled",
            field="mdtrt_id",
        )
    return Conflict(
        "VISIT_NOT_INPATIENT",
        f"该就诊为普通门诊（状态“{label}”），不能办理住院业务（入院、出院、撤销出院）",
        "an outpatient visit has no admission, discharge or discharge cancellation",
        field="mdtrt_id",
    )


def cannot_cancel_registration() -> Conflict:
    return Conflict(
        "VISIT_CANNOT_CANCEL",
        "只能撤销已挂号、未结算且没有有效费用明细的门诊挂号（请先撤销费用明细 2205 或结算 2208）",
        "only a registered visit without active fee lines can be cancelled",
        field="mdtrt_id",
    )


def _refusal(state: EncounterState, action: EncounterAction) -> Conflict:
    """The stable answer for an action the state does not allow."""
    label = STATE_ZH[state]
    if state is EncounterState.REGISTERED or action is EncounterAction.CANCEL_REGISTRATION:
        return Conflict(
            "VISIT_NOT_INPATIENT" if state is EncounterState.REGISTERED else "VISIT_NOT_OUTPATIENT",
            f"就诊状态为“{label}”，不能办理该业务（门诊与住院的交易不能混用）",
            "outpatient and inpatient transactions cannot be mixed",
            field="mdtrt_id",
        )
    if action is EncounterAction.DISCHARGE:
        return Conflict(
            "ENCOUNTER_NOT_ADMITTED",
            f"就诊状态为“{label}”，不能办理出院",
            "only an admitted encounter can be discharged",
            field="mdtrt_id",
        )
    if action is EncounterAction.CANCEL_DISCHARGE:
        return Conflict(
            "ENCOUNTER_NOT_DISCHARGED",
            f"就诊状态为“{label}”，不能撤销出院（已结算的请先撤销结算）",
            "only a discharged, unsettled encounter can be reopened",
            field="mdtrt_id",
        )
    if action is EncounterAction.CANCEL_ADMISSION:
        return cannot_cancel()
    if action is EncounterAction.SETTLE:
        settled = state is EncounterState.SETTLED
        return Conflict(
            "ENCOUNTER_ALREADY_SETTLED" if settled else "ENCOUNTER_NOT_DISCHARGED",
            "该就诊已结算，不能重复结算"
            if settled
            else f"就诊状态为“{label}”，须先办理出院（2402）再结算",
            "the encounter must be discharged and not yet settled",
            field="mdtrt_id",
        )
    if action is EncounterAction.RESTORE:
        return cannot_restore()
    return Conflict(
        "ENCOUNTER_NOT_SETTLED",
        f"就诊状态为“{label}”，没有可撤销的结算",
        "only a settled encounter can have its settlement reversed",
        field="mdtrt_id",
    )


def cannot_cancel() -> Conflict:
    return Conflict(
        "ENCOUNTER_CANNOT_CANCEL",
        "只能撤销在院且没有有效费用明细的入院登记（请先撤销费用明细）",
        "only an admitted encounter without active fee lines can be cancelled",
        field="mdtrt_id",
    )


def cannot_restore() -> Conflict:
    return Conflict(
        "REVERSAL_CANNOT_RESTORE",
        "结算撤销后该就诊已有变更（费用明细、出院或重新结算），不能冲正该结算撤销；"
        "请按当前明细重新结算（住院 2304，门诊 2207）",
        "the encounter changed after the cancellation; settle it again with 2304",
        field="omsgid",
    )


def open_stay_conflict(encounter_id: str | None = None) -> Conflict:
    """The one answer for a second open stay of a person at one hospital."""
    which = f"（就诊ID {encounter_id}）" if encounter_id else ""
    return Conflict(
        "ENCOUNTER_ALREADY_OPEN",
        f"该参保人在本院已有未结算的住院{which}，请勿重复办理入院",
        "the person already has an open encounter at this hospital",
        field="psn_no",
    )


def next_state(
    state: str, action: EncounterAction, kind: EncounterKind = EncounterKind.INPATIENT
) -> EncounterState:
    """The state after ``action`` in the table of the encounter's kind, or the action's
    stable refusal."""
    current = EncounterState(state)
    after = TRANSITIONS_BY_KIND[kind].get((current, action))
    if after is None:
        if kind is EncounterKind.OUTPATIENT:
            raise _outpatient_refusal(current, action)
        if kind is EncounterKind.PHARMACY:
            raise _pharmacy_refusal(current, action)
        raise _refusal(current, action)
    return after


def local(at: dt.datetime) -> dt.datetime:
    """A timestamp in China Standard Time (naive input is taken as Beijing time)."""
    return at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)


class TimedLine(Protocol):
    """A fee line as far as the stay's time rules are concerned."""

    @property
    def serial(self) -> str: ...

    @property
    def occurred_at(self) -> dt.datetime: ...


class ChargedLine(TimedLine, Protocol):
    """A fee line as uploaded (``FeeLineInput``)."""

    @property
    def catalog_code(self) -> str: ...
    @property
    def hospital_item_code(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def amount(self) -> Money: ...


def fee_line_fingerprint(line: ChargedLine) -> str:
    """The content of a fee line: the same serial with the same content is the same line."""
    text = "|".join(
        [
            line.catalog_code,
            line.hospital_item_code,
            f"{line.quantity.normalize():f}",
            f"{line.unit_price.normalize():f}",
            str(line.amount),
            local(line.occurred_at).replace(tzinfo=None).isoformat(),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EncounterFacts(Protocol):
    """What the aggregate reads of a stored encounter (``EncounterRow`` satisfies it)."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def med_type(self) -> str: ...

    @property
    def admitted_at(self) -> dt.datetime: ...

    @property
    def discharged_at(self) -> dt.datetime | None: ...

    @property
    def emergency_started_at(self) -> dt.datetime | None: ...


def _serials_text(serials: Sequence[str]) -> str:
    return f"{'、'.join(serials[:10])}{' 等' if len(serials) > 10 else ''}"


@dataclass(frozen=True, slots=True)
class Encounter:
    """One encounter's rules over its stored facts: each method answers the new state (or
    the values a change needs) or raises the stable error; nothing is written here."""

    facts: EncounterFacts

    @property
    def state(self) -> EncounterState:
        return EncounterState(self.facts.state)

    @property
    def kind(self) -> EncounterKind:
        return EncounterKind.of(self.facts.med_type)

    @property
    def counts_as_admission(self) -> bool:
        """An outpatient visit never counts as an admission."""
        return self.kind is EncounterKind.INPATIENT

    def require_kind(self, kind: EncounterKind | None) -> None:
        """An outpatient transaction on a stay (or an inpatient one on a visit) is refused."""
        if kind is None or kind is self.kind:
            return
        code = {
            EncounterKind.OUTPATIENT: "VISIT_NOT_OUTPATIENT",
            EncounterKind.INPATIENT: "VISIT_NOT_INPATIENT",
            EncounterKind.PHARMACY: "VISIT_NOT_PHARMACY",
        }[kind]
        raise Conflict(
            code,
            f"该就诊为{self.kind.label_zh}，不能办理{kind.label_zh}交易（{self.kind.transactions_zh}）",
            f"this encounter is {self.kind.value}; {kind.value} transactions do not apply",
            field="mdtrt_id",
        )

    def _next(self, action: EncounterAction) -> EncounterState:
        return next_state(self.facts.state, action, self.kind)

    def settlement_day(self) -> dt.date:
        """The day whose policy settles: the discharge day of a stay, the visit day of a visit."""
        if self.kind in (EncounterKind.OUTPATIENT, EncounterKind.PHARMACY):
            return local(self.facts.admitted_at).date()
        if self.facts.discharged_at is None:
            raise _refusal(self.state, EncounterAction.SETTLE)
        return local(self.facts.discharged_at).date()

    def cancel_registration(self, *, has_active_lines: bool) -> EncounterState:
        """2202: only a registered visit with nothing uploaded (so nothing settled)."""
        after = self._next(EncounterAction.CANCEL_REGISTRATION)
        if has_active_lines:
            raise cannot_cancel_registration()
        return after

    def require_open(self, refused_zh: str, message_en: str, *, if_settled_zh: str = "") -> None:
        """Fee lines change, and pre-settlement runs, only while the encounter is not settled."""
        state = self.state
        if not state.is_open:
            raise Conflict(
                "ENCOUNTER_NOT_OPEN",
                f"就诊状态为“{STATE_ZH[state]}”，{refused_zh}"
                + (if_settled_zh if state is EncounterState.SETTLED else ""),
                message_en,
                field="mdtrt_id",
            )

    def cancel(self, *, has_active_lines: bool) -> EncounterState:
        """2404: only an admission with nothing uploaded (so nothing settled)."""
        if self.kind is EncounterKind.OUTPATIENT:
            return self._next(EncounterAction.CANCEL_ADMISSION)  # refused: not a stay
        if has_active_lines:
            raise cannot_cancel()
        return self._next(EncounterAction.CANCEL_ADMISSION)

    def discharge(self, at: dt.datetime, lines: Iterable[TimedLine]) -> EncounterState:
        """2402: after the admission and after every uploaded line."""
        after = self._next(EncounterAction.DISCHARGE)
        when = local(at)
        if when < self.facts.admitted_at:
            raise InvalidInput(
                "DISCHARGE_BEFORE_ADMISSION",
                "出院时间早于入院时间",
                "discharge is before admission",
                field="endtime",
            )
        later = [line.serial for line in lines if local(line.occurred_at) > when]
        if later:
            raise InvalidInput(
                "DISCHARGE_BEFORE_FEE_LINES",
                f"出院时间 {when:%Y-%m-%d %H:%M:%S} 早于已上传费用明细的发生时间"
                f"（流水号 {_serials_text(later)}），"
                "请核对出院时间或先撤销这些明细（2302）",
                "the discharge time is before fee lines already uploaded",
                field="endtime",
                details={"serials": later},
            )
        return after

    def cancel_discharge(self) -> EncounterState:
        return self._next(EncounterAction.CANCEL_DISCHARGE)

    def settle(self) -> EncounterState:
        return self._next(EncounterAction.SETTLE)

    def reverse(self) -> EncounterState:
        return self._next(EncounterAction.REVERSE)

    def restore(self, *, lines_unchanged: bool) -> EncounterState:
        """2601 of a 2305: only if nothing changed since the reversal."""
        if not lines_unchanged:
            raise cannot_restore()
        return self._next(EncounterAction.RESTORE)

    def check_med_type_change(self, med_type: str | None) -> None:
        """2403: the medical type never changes (cancel and admit again)."""
        if med_type and med_type != self.facts.med_type:
            raise Refused(
                "ADMISSION_MED_TYPE_CHANGE",
                f"医疗类别不能由 {self.facts.med_type} 变更为 {med_type}，"
                "请撤销入院（2404）后重新办理入院",
                "the medical type cannot change; cancel and admit again",
                field="med_type",
            )

    def check_new_admission_time(self, when: dt.datetime, lines: Iterable[TimedLine]) -> None:
        """2403: a new admission time keeps every uploaded line in the stay; an emergency
        admission keeps its time (the window was checked against it)."""
        if self.facts.emergency_started_at is not None:
            raise Refused(
                "ADMISSION_TIME_CHANGE_EMERGENCY",
                "急诊转住院的入院时间不能变更（72 小时规则按原时间核定），请撤销入院后重新办理",
                "the admission time of an emergency admission cannot change",
                field="begntime",
            )
        if self.facts.discharged_at is not None and when > self.facts.discharged_at:
            raise InvalidInput(
                "DISCHARGE_BEFORE_ADMISSION",
                "入院时间晚于出院时间",
                "admission is after discharge",
                field="begntime",
            )
        earlier = [line.serial for line in lines if local(line.occurred_at).date() < when.date()]
        if earlier:
            raise InvalidInput(
                "ADMISSION_AFTER_FEE_LINES",
                f"新的入院时间 {when:%Y-%m-%d %H:%M:%S} 晚于已上传费用明细的发生日期"
                f"（流水号 {_serials_text(earlier)}），"
                "请核对入院时间或先撤销这些明细（2302）",
                "the new admission time is after fee lines already uploaded",
                field="begntime",
                details={"serials": earlier},
            )

    def check_fee_batch(self, lines: Sequence[ChargedLine], latest: dt.datetime) -> dict[str, str]:
        """2301: refuse an invalid batch (a line outside the stay, up to ``latest``: the
        discharge, or before it the upload time plus the policy's tolerance); return each
        serial's content fingerprint."""
        problems: list[str] = []
        seen: dict[str, str] = {}
        for line in lines:
            if not line.serial or len(line.serial) > 30:
                problems.append(f"流水号“{line.serial}”应为 1–30 位")
            fingerprint = fee_line_fingerprint(line)
            if seen.get(line.serial, fingerprint) != fingerprint:
                problems.append(f"流水号 {line.serial} 在本批次中出现两次且内容不同")
            seen[line.serial] = fingerprint
            if line.quantity <= 0 or line.unit_price < 0 or line.amount.is_negative():
                problems.append(
                    f"流水号 {line.serial} 的数量须为正数、单价和金额不能为负（退费请用 2302 撤销明细）"
                )
                continue
            expected = Money.rounded(line.quantity * line.unit_price)
            if abs((expected - line.amount).yuan) > Decimal("0.01"):
                problems.append(
                    f"流水号 {line.serial} 的金额 {line.amount} 与数量×单价 {expected} 不符"
                )
            occurred = local(line.occurred_at)
            if self.facts.emergency_started_at is not None:
                if occurred < self.facts.emergency_started_at:
                    problems.append(f"流水号 {line.serial} 发生在急诊抢救开始之前")
            elif occurred.date() < local(self.facts.admitted_at).date():
                problems.append(f"流水号 {line.serial} 发生在入院日期之前")
            if self.facts.discharged_at is not None and occurred > self.facts.discharged_at:
                problems.append(f"流水号 {line.serial} 发生在出院之后")
            elif occurred > latest:
                problems.append(
                    f"流水号 {line.serial} 的费用发生时间 {occurred:%Y-%m-%d %H:%M:%S} 远晚于上传时间，"
                    "不在就诊期间"
                )
        if problems:
            raise InvalidInput(
                "FEE_LINES_INVALID",
                "；".join(problems[:20])
                + (f"；等共 {len(problems)} 处" if len(problems) > 20 else ""),
                "fee lines are invalid",
                field="feedetail",
                details={"problems": problems},
            )
        return seen

    def is_emergency_pre_admission(self, occurred_at: dt.datetime) -> bool:
        """A line of the emergency care before the admission (joins the inpatient claim)."""
        return self.facts.emergency_started_at is not None and (
            local(occurred_at) < self.facts.admitted_at
        )


# --------------------------------------------------------------------------- admission rules

#: med_type codes (national) that are never settled directly across regions.
OUTPATIENT_MED_TYPES: Final = frozenset({"11", "12", "13", "14"})
INJURY_MED_TYPE: Final = "22"
EMERGENCY_ADMISSION_MED_TYPE: Final = "24"
DIRECT_MED_TYPES: Final = frozenset({"21", "24"})

_ICD10: Final = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Za-z+]{1,8})?$")


def check_icd10(diagnosis_codes: Sequence[str]) -> None:
    bad = [code for code in diagnosis_codes if not _ICD10.match(code)]
    if bad:
        raise InvalidInput(
            "DIAGNOSIS_CODE_INVALID",
            f"诊断编码不符合 ICD-10 格式：{'、'.join(bad)}",
            f"not ICD-10 codes: {', '.join(bad)}",
            field="diagnosis_codes",
        )


def emergency_counts_as_filed(med_type: str, admitted_on: dt.date) -> bool:
    """经办规程第三十四条 (2022 model): an admission the hospital flags as 急诊抢救 counts as
    filed. Under the 2017 model the patient files within 3 working days instead."""
    return (
        med_type == EMERGENCY_ADMISSION_MED_TYPE
        and national_model(admitted_on).emergency_flag_counts_as_filed
    )


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Care the rules exclude from direct settlement: the patient pays and claims at the
    insured region. The service words the refusal with the agency phone to call."""

    code: str
    what_zh: str


class AdmissionFacts(Protocol):
    """What the admission rules read of a 2401 request (``AdmissionRequest`` has it)."""

    @property
    def med_type(self) -> str: ...
    @property
    def admitted_at(self) -> dt.datetime: ...
    @property
    def diagnosis_codes(self) -> tuple[str, ...]: ...
    @property
    def accidental_injury(self) -> bool: ...
    @property
    def emergency_started_at(self) -> dt.datetime | None: ...


def admission_exclusion(facts: AdmissionFacts, window_hours: Callable[[], int]) -> Exclusion | None:
    """Check a 2401 against the admission rules: invalid input and care outside direct
    settlement raise; an exclusion the patient must be told how to claim is returned.
    ``window_hours`` gives the emergency window of the insured region's policy (asked only
    for an emergency admission)."""
    if not facts.diagnosis_codes:
        raise InvalidInput(
            "DIAGNOSIS_REQUIRED",
            "入院须填写至少一个诊断编码（ICD-10）",
            "at least one ICD-10 diagnosis code is required",
            field="diagnosis_codes",
        )
    check_icd10(facts.diagnosis_codes)
    med_type = facts.med_type
    if med_type in VISIT_MED_TYPES:
        raise Refused(
            "ENCOUNTER_OUTPATIENT_NOT_DIRECT",
            "普通门诊和门诊慢特病不办理入院：请按门诊直接结算办理（2201 门诊挂号 → 2203 就诊信息"
            "（门诊慢特病填 med_type 14 与病种编码）→ 2204 费用明细 → 2207 门诊结算）",
            "outpatient and chronic-disease care is not an admission; register the visit with 2201",
            field="med_type",
        )
    if med_type in OUTPATIENT_MED_TYPES:
        return Exclusion(
            "ENCOUNTER_OUTPATIENT_NOT_DIRECT",
            "普通门（急）诊医疗费用（急诊抢救后转住院的请按 med_type 24 办理）",
        )
    if med_type == INJURY_MED_TYPE or facts.accidental_injury:
        return Exclusion("ENCOUNTER_INJURY_NOT_DIRECT", "意外伤害住院的医疗费用")
    if med_type not in DIRECT_MED_TYPES:
        raise Refused(
            "MED_TYPE_NOT_DIRECT",
            f"医疗类别 {med_type} 不属于跨省异地就医住院直接结算范围（支持 21 普通住院、24 急诊转住院）",
            "only med_type 21 and 24 are settled directly",
            field="med_type",
        )
    if med_type != EMERGENCY_ADMISSION_MED_TYPE:
        return None
    started = facts.emergency_started_at
    if started is None:
        raise InvalidInput(
            "EMERGENCY_START_REQUIRED",
            "急诊转住院须提供急诊抢救开始时间（exp_content.EMER_BEGNTIME）",
            "emergency-to-inpatient admissions need the emergency start time",
            field="emergency_started_at",
        )
    hours = window_hours()
    admitted_at = local(facts.admitted_at)
    gap = admitted_at - local(started)
    if gap < dt.timedelta(0):
        raise InvalidInput(
            "EMERGENCY_START_AFTER_ADMISSION",
            "急诊抢救开始时间晚于入院时间",
            "emergency start is after admission",
            field="emergency_started_at",
        )
    if local(started) < emergency_window_opens(admitted_at, hours):
        return Exclusion(
            "EMERGENCY_ADMISSION_AFTER_72H",
            f"急诊抢救后超过{hours}小时才转住院（相隔 {gap.total_seconds() / 3600:.1f} 小时），"
            "其门急诊及住院医疗费用",
        )
    return None
