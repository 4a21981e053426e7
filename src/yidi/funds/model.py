"""The money side of direct settlement: settlement facts, the clearing ledger, monthly clearing.

Direct settlement (直接结算) means the treatment region's hospital advances the
funds' share of a bill; the insured region (参保地) owes it to the treatment
region (就医地). Every settled or reversed encounter becomes one
:class:`SettlementFact`; each fact posts balanced double entries to the clearing
ledger (清算台账); a monthly clearing run (月度清算) sums what each insured region
owes each treatment region, nets it against the prepayment (预付金) already held
and states the balance to pay. Reconciliation (对账) lists every encounter where a
hospital's report and ours disagree.

Everything here is pure: facts in, statements out, no clock, no storage.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Final

from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.money import Money, money_sum
from yidi.kernel.regions import DivisionLevel, DivisionRegistry, annex3_henan_rows, default_registry
from yidi.settlement.amounts import FUND_AMOUNTS, AmountName


class Fund(enum.Enum):
    """基金: the funds a direct settlement draws on and the insured region repays.

    One member per fund amount of the money vocabulary
    (:data:`yidi.settlement.amounts.FUND_AMOUNTS`); the value is that amount's
    ``fund_code``, the stable name of the fund in ledger accounts and clearing statements.
    """

    POOLED = "pooled"
    SERIOUS_ILLNESS = "serious_illness"
    LARGE_EXPENSE = "large_expense"
    MEDICAL_ASSISTANCE = "medical_assistance"

    @property
    def amount(self) -> AmountName:
        """The vocabulary amount this fund pays (``pooled_fund_paid`` …)."""
        return _FUND_AMOUNT[self.value]

    @property
    def amount_name(self) -> str:
        return self.amount.name

    @property
    def label_zh(self) -> str:
        return self.amount.fund_label_zh


_FUND_AMOUNT: Final[dict[str, AmountName]] = {
    a.fund_code: a for a in FUND_AMOUNTS if a.fund_code is not None
}

FUNDS: Final = tuple(Fund)


class AnnexGroup(enum.Enum):
    """The notice's split of cross-region spending (豫人社办函〔2017〕63号 附件3/附件4)."""

    RESIDENCE = "residence"  # 异地备案: 异地安置退休、异地长期居住、常驻异地工作
    REFERRAL_AND_OTHERS = "referral_and_others"  # 转诊转院等: referral, emergency, unfiled

    @property
    def label_zh(self) -> str:
        return {"residence": "异地备案", "referral_and_others": "转诊转院等"}[self.value]


class ClearingKind(enum.Enum):
    """清算类别: the kind of care a settlement is cleared as, by the national clr_type code
    (HN table 396: 11 门诊, 21 住院, 41 药店购药; a HIS's reconciliation SQL lists the same three,
    code-index id 17312677380). Every outpatient medical type (11 普通门诊, 12, 13 and 14 门诊慢特病)
    clears as outpatient: no source seen gives 门诊慢特病 a clearing type of its own."""

    OUTPATIENT = "11"
    INPATIENT = "21"
    PHARMACY = "41"

    @property
    def label_zh(self) -> str:
        return {"11": "门诊", "21": "住院", "41": "药店购药"}[self.value]

    @classmethod
    def of_med_type(cls, med_type: str) -> ClearingKind:
        """The clearing kind of an encounter of national medical type ``med_type``."""
        if med_type in _OUTPATIENT_MED_TYPES:
            return cls.OUTPATIENT
        if med_type == _PHARMACY_MED_TYPE:
            return cls.PHARMACY
        return cls.INPATIENT


_OUTPATIENT_MED_TYPES: Final = frozenset({"11", "12", "13", "14"})
_PHARMACY_MED_TYPE: Final = "41"
#: every clearing kind, in the order reports list them (住院, 门诊, 药店购药)
CLEARING_KINDS: Final = (ClearingKind.INPATIENT, ClearingKind.OUTPATIENT, ClearingKind.PHARMACY)


def _month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(month: str) -> str:
    """Validate a clearing month ``YYYY-MM`` and return it."""
    try:
        parsed = dt.date(int(month[:4]), int(month[5:7]), 1)
    except (ValueError, IndexError):
        parsed = None
    if parsed is None or len(month) != 7 or month[4] != "-":
        raise InvalidInput(
            "CLEARING_MONTH_INVALID",
            f"清算月份“{month}”格式应为YYYY-MM",
            f"clearing month {month!r} must look like YYYY-MM",
            field="month",
        )
    return month


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class SettlementFact:
    """结算事实: one settled (or reversed) encounter as the money side sees it.

    A reversal (冲正/撤销结算) is a fact of its own: ``reverses_setl_id`` names
    the settlement it undoes, ``person_times`` is -1 and every amount is the
    negative of the original, so sums over facts are always net.
    ``clearing_month`` is the month whose clearing run carries the fact: the
    settlement month, or a later one if that month was already closed.
    """

    setl_id: str
    settled_on: dt.date
    insured_region_code: str
    treatment_region_code: str
    hospital_code: str
    insurance_type: InsuranceType
    filing_category: FilingCategory | None
    total_charges: Money  # 医疗费总额
    fund_amounts: Mapping[Fund, Money]
    reverses_setl_id: str | None = None
    clearing_month: str = ""
    person_times: int = field(default=0)
    #: 清算类别 of the encounter (a reversal keeps its settlement's)
    clearing_kind: ClearingKind = ClearingKind.INPATIENT

    def __post_init__(self) -> None:
        if not self.clearing_month:
            object.__setattr__(self, "clearing_month", _month_of(self.settled_on))
        parse_month(self.clearing_month)
        expected_times = -1 if self.reverses_setl_id else 1
        if self.person_times == 0:
            object.__setattr__(self, "person_times", expected_times)
        if self.person_times != expected_times:
            raise InvalidInput(
                "FACT_PERSON_TIMES",
                "结算记人次+1，冲正记-1",
                "a settlement counts +1 person-time, a reversal -1",
                field="person_times",
            )
        amounts = {fund: self.fund_amounts.get(fund, Money.zero()) for fund in FUNDS}
        object.__setattr__(self, "fund_amounts", amounts)
        wrong_sign = [
            m
            for m in (self.total_charges, *amounts.values())
            if m.is_negative() != self.is_reversal and not m.is_zero()
        ]
        if wrong_sign:
            raise InvalidInput(
                "FACT_AMOUNT_SIGN",
                "结算金额应为正数，冲正金额应为负数",
                "settlement amounts are positive, reversal amounts negative",
            )

    @property
    def is_reversal(self) -> bool:
        return self.reverses_setl_id is not None

    @property
    def annex_group(self) -> AnnexGroup:
        """异地备案 for residence-based filings; 转诊转院等 for everything else."""
        if self.filing_category is not None and self.filing_category.is_residence_based:
            return AnnexGroup.RESIDENCE
        return AnnexGroup.REFERRAL_AND_OTHERS

    @property
    def fund_total(self) -> Money:
        """基金支付总额: what the insured region repays for this encounter."""
        return money_sum([self.fund_amounts[f] for f in FUNDS])

    def reversed(
        self, reversal_setl_id: str, on: dt.date, clearing_month: str = ""
    ) -> SettlementFact:
        """The reversal of this settlement: same parties, every amount negated."""
        if self.is_reversal:
            raise InvalidInput(
                "FACT_REVERSE_REVERSAL", "冲正记录不能再冲正", "a reversal cannot be reversed"
            )
        return SettlementFact(
            setl_id=reversal_setl_id,
            settled_on=on,
            insured_region_code=self.insured_region_code,
            treatment_region_code=self.treatment_region_code,
            hospital_code=self.hospital_code,
            insurance_type=self.insurance_type,
            filing_category=self.filing_category,
            total_charges=-self.total_charges,
            fund_amounts={f: -a for f, a in self.fund_amounts.items()},
            reverses_setl_id=self.setl_id,
            clearing_month=clearing_month,
            clearing_kind=self.clearing_kind,
        )


# --- the ledger ------------------------------------------------------------------


class Side(enum.Enum):
    DEBIT = "D"  # 借
    CREDIT = "C"  # 贷


class AccountRole(enum.Enum):
    INSURED = "insured"  # 参保地应付: what the insured region owes
    TREATMENT = "treatment"  # 就医地应收: what the treatment region is owed


@dataclass(frozen=True, slots=True)
class Account:
    """A ledger account, named ``insured:430400:pooled`` / ``treatment:450923:pooled``."""

    role: AccountRole
    region_code: str
    fund: Fund

    @property
    def name(self) -> str:
        return f"{self.role.value}:{self.region_code}:{self.fund.value}"

    @classmethod
    def parse(cls, name: str) -> Account:
        role, region, fund = name.split(":")
        return cls(AccountRole(role), region, Fund(fund))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """记账分录: one line of the clearing ledger. ``amount`` is always positive."""

    setl_id: str
    clearing_month: str
    account: Account
    side: Side
    amount: Money
    insured_region_code: str
    treatment_region_code: str

    @property
    def signed_fen(self) -> int:
        """Debit positive, credit negative: the sum over any balanced set is 0."""
        return self.amount.fen if self.side is Side.DEBIT else -self.amount.fen


def ledger_entries_for(fact: SettlementFact) -> list[LedgerEntry]:
    """Two entries per fund with a non-zero amount.

    A settlement debits the insured region's account (it owes more) and credits
    the treatment region's (it is owed more). A reversal posts the opposite
    entries as new lines; nothing already posted is ever edited.
    """
    entries: list[LedgerEntry] = []
    for fund in FUNDS:
        amount = fact.fund_amounts[fund]
        if amount.is_zero():
            continue
        positive = not amount.is_negative()
        magnitude = amount if positive else -amount
        insured = Account(AccountRole.INSURED, fact.insured_region_code, fund)
        treatment = Account(AccountRole.TREATMENT, fact.treatment_region_code, fund)
        for account, side in (
            (insured, Side.DEBIT if positive else Side.CREDIT),
            (treatment, Side.CREDIT if positive else Side.DEBIT),
        ):
            entries.append(
                LedgerEntry(
                    setl_id=fact.setl_id,
                    clearing_month=fact.clearing_month,
                    account=account,
                    side=side,
                    amount=magnitude,
                    insured_region_code=fact.insured_region_code,
                    treatment_region_code=fact.treatment_region_code,
                )
            )
    return entries


def account_balances(entries: Iterable[LedgerEntry]) -> dict[str, int]:
    """Balance of every account in fen (debit positive), keyed by account name."""
    balances: dict[str, int] = {}
    for entry in entries:
        balances[entry.account.name] = balances.get(entry.account.name, 0) + entry.signed_fen
    return dict(sorted(balances.items()))


def ledger_is_balanced(entries: Iterable[LedgerEntry]) -> bool:
    """True when debits equal credits, overall and for every fund and every encounter."""
    totals: dict[tuple[str, str], int] = {}
    for entry in entries:
        for key in (("*", entry.account.fund.value), (entry.setl_id, entry.account.fund.value)):
            totals[key] = totals.get(key, 0) + entry.signed_fen
    return all(value == 0 for value in totals.values())


# --- region grouping ---------------------------------------------------------------


class ClearingLevel(enum.Enum):
    """清算层级: between provinces (省级) or between prefectures / pools (市级)."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"


@dataclass(frozen=True, slots=True)
class Prepayment:
    """预付金: what an insured region has paid a treatment region in advance, from a day on,
    at one clearing level (the latest one effective by a month's end is held against it)."""

    level: ClearingLevel
    insured_region_code: str
    treatment_region_code: str
    amount: Money
    effective_on: dt.date


class RegionKeys:
    """Maps a pooling-region code to the region a report groups it under.

    ``pool_of`` gives the prefecture-level pool: the prefecture containing the
    code; Henan's 省直管县(市) are pools of their own (附件3 rows them apart);
    counties run directly by a province or a municipality's districts group
    under the province-level unit above them. Results are cached per code, so
    a large history needs only its few thousand distinct codes looked up.
    """

    def __init__(
        self,
        registry: DivisionRegistry | None = None,
        direct_county_codes: Iterable[str] | None = None,
    ) -> None:
        self.registry = registry or default_registry()
        if direct_county_codes is None:
            direct_county_codes = (
                d.code for d in annex3_henan_rows(self.registry) if d.level is DivisionLevel.COUNTY
            )
        self.direct_county_codes = frozenset(direct_county_codes)
        self._pool_of = functools.cache(self._pool_uncached)

    def province_of(self, code: str) -> str:
        return code[:2] + "0000"

    def pool_of(self, code: str) -> str:
        return self._pool_of(code)

    def _pool_uncached(self, code: str) -> str:
        if not self.registry.exists(code):
            return code
        for division in [self.registry.get(code), *self.registry.ancestors(code)]:
            if division.code in self.direct_county_codes:
                return division.code
        prefecture = self.registry.prefecture_of(code)
        if prefecture is not None:
            return prefecture.code
        parent = self.registry.parent(code)
        if parent is not None and parent.level is DivisionLevel.PROVINCE:
            # 济源市 (a county-level city under the province) is its own pool; a
            # municipality's districts (北京市东城区) clear as the municipality.
            return code if code[2:4] == "90" else parent.code
        return code

    def key(self, code: str, level: ClearingLevel) -> str:
        return self.province_of(code) if level is ClearingLevel.PROVINCE else self.pool_of(code)

    def name(self, code: str) -> str:
        return self.registry.get(code).name if self.registry.exists(code) else code


# --- monthly clearing --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairTotals:
    """Sums for one (insured region, treatment region) pair: the aggregation result
    that both the Python path and the columnar (DuckDB) path produce."""

    insured_region_code: str
    treatment_region_code: str
    person_times: int
    fund_fen: Mapping[Fund, int]
    #: per clearing kind with facts in the pair: (person-times, fund total in fen)
    kind_fen: Mapping[ClearingKind, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KindDue:
    """What one clearing kind (住院, 门诊, 药店购药) contributes to a statement line or total."""

    person_times: int
    due_total: Money

    def as_dict(self) -> dict[str, Any]:
        return {"person_times": self.person_times, "due_total": str(self.due_total)}


def kind_dues(kind_fen: Mapping[ClearingKind, tuple[int, int]]) -> dict[ClearingKind, KindDue]:
    """Per-kind sums as dues, in :data:`CLEARING_KINDS` order (kinds without facts left out)."""
    return {
        kind: KindDue(kind_fen[kind][0], Money.from_fen(kind_fen[kind][1]))
        for kind in CLEARING_KINDS
        if kind in kind_fen
    }


def _kinds_as_dict(by_kind: Mapping[ClearingKind, KindDue]) -> dict[str, Any]:
    return {kind.value: due.as_dict() for kind, due in by_kind.items()}


def _kinds_from_dict(data: Mapping[str, Any] | None) -> dict[ClearingKind, KindDue] | None:
    if data is None:
        return None
    return {
        ClearingKind(code): KindDue(int(due["person_times"]), Money.of(due["due_total"]))
        for code, due in data.items()
    }


@dataclass(frozen=True, slots=True)
class ClearingAdjustment:
    """清算调整: an amount agreed in resolving a reconciliation dispute (对账差异), carried as a
    line of its own by a clearing month after the disputed one, never by rewriting a closed month.

    ``amount`` is signed from the insured region's side: positive, the insured region pays the
    treatment region more (追补); negative, it pays less (扣减). It is the difference between the
    dispute's agreed adjustment (``agreed``) and what its earlier resolutions already carried.
    In a statement the region codes are the pair's at the statement's level."""

    id: str
    dispute_id: str
    clearing_month: str
    concerns_month: str  # the month the dispute is about
    insured_region_code: str
    treatment_region_code: str
    hospital_code: str
    settlement_id: str | None
    refund: bool
    amount: Money
    agreed: Money
    decided_by: str
    decided_role: str
    decided_at: dt.datetime
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dispute_id": self.dispute_id,
            "clearing_month": self.clearing_month,
            "concerns_month": self.concerns_month,
            "insured_region_code": self.insured_region_code,
            "treatment_region_code": self.treatment_region_code,
            "hospital_code": self.hospital_code,
            "settlement_ids": [self.settlement_id] if self.settlement_id else [],
            "refund": self.refund,
            "amount": str(self.amount),
            "agreed": str(self.agreed),
            "decided_by": self.decided_by,
            "decided_role": self.decided_role,
            "decided_at": self.decided_at.isoformat(),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClearingAdjustment:
        ids = data.get("settlement_ids") or []
        return cls(
            id=data["id"],
            dispute_id=data["dispute_id"],
            clearing_month=data["clearing_month"],
            concerns_month=data["concerns_month"],
            insured_region_code=data["insured_region_code"],
            treatment_region_code=data["treatment_region_code"],
            hospital_code=data["hospital_code"],
            settlement_id=ids[0] if ids else None,
            refund=bool(data["refund"]),
            amount=Money.of(data["amount"]),
            agreed=Money.of(data["agreed"]),
            decided_by=data["decided_by"],
            decided_role=data["decided_role"],
            decided_at=dt.datetime.fromisoformat(data["decided_at"]),
            reason=data["reason"],
        )


@dataclass(frozen=True, slots=True)
class ClearingLine:
    """One pair's statement line: due by fund, prepayment netted, balance to pay."""

    insured_region_code: str
    insured_region_name: str
    treatment_region_code: str
    treatment_region_name: str
    person_times: int
    due_by_fund: Mapping[Fund, Money]
    due_total: Money
    prepayment_held: Money
    prepayment_applied: Money
    balance_to_pay: Money
    prepayment_remaining: Money
    #: the due split by clearing kind; None in a statement stored before kinds were recorded
    by_kind: Mapping[ClearingKind, KindDue] | None = None
    #: the sum of the month's 清算调整 of the pair (not part of ``due_total``, its settlements')
    adjustment_total: Money = field(default_factory=Money.zero)

    @property
    def cleared_total(self) -> Money:
        """What the month clears for the pair: its settlements' due plus its adjustments."""
        return self.due_total + self.adjustment_total

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "insured_region_code": self.insured_region_code,
            "insured_region_name": self.insured_region_name,
            "treatment_region_code": self.treatment_region_code,
            "treatment_region_name": self.treatment_region_name,
            "person_times": self.person_times,
            "due_by_fund": {f.value: str(self.due_by_fund[f]) for f in FUNDS},
            "due_total": str(self.due_total),
            "prepayment_held": str(self.prepayment_held),
            "prepayment_applied": str(self.prepayment_applied),
            "balance_to_pay": str(self.balance_to_pay),
            "prepayment_remaining": str(self.prepayment_remaining),
        }
        if self.by_kind is not None:
            body["by_kind"] = _kinds_as_dict(self.by_kind)
        if not self.adjustment_total.is_zero():
            # only then: a statement without adjustments keeps its bytes (and content hash)
            body["adjustment_total"] = str(self.adjustment_total)
            body["cleared_total"] = str(self.cleared_total)
        return body


@dataclass(frozen=True, slots=True)
class ClearingStatement:
    """清算单: a month's statement at one level, lines ordered by (insured, treatment)."""

    month: str
    level: ClearingLevel
    lines: tuple[ClearingLine, ...]
    #: the month's 清算调整, each explained (its pair's codes at the statement's level)
    adjustments: tuple[ClearingAdjustment, ...] = ()

    @property
    def due_total(self) -> Money:
        return money_sum([line.due_total for line in self.lines])

    @property
    def adjustment_total(self) -> Money:
        return money_sum([line.adjustment_total for line in self.lines])

    @property
    def cleared_total(self) -> Money:
        return money_sum([line.cleared_total for line in self.lines])

    @property
    def balance_to_pay(self) -> Money:
        return money_sum([line.balance_to_pay for line in self.lines])

    @property
    def person_times(self) -> int:
        return sum(line.person_times for line in self.lines)

    @property
    def by_kind(self) -> dict[ClearingKind, KindDue] | None:
        """The statement's person-times and due per clearing kind (beside the overall totals);
        None when a line predates the kinds (a statement stored before they were recorded)."""
        sums: dict[ClearingKind, tuple[int, int]] = {}
        for line in self.lines:
            if line.by_kind is None:
                return None
            for kind, due in line.by_kind.items():
                times, fen = sums.get(kind, (0, 0))
                sums[kind] = (times + due.person_times, fen + due.due_total.fen)
        return kind_dues(sums)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "month": self.month,
            "level": self.level.value,
            "person_times": self.person_times,
            "due_total": str(self.due_total),
            "balance_to_pay": str(self.balance_to_pay),
            "lines": [line.as_dict() for line in self.lines],
        }
        by_kind = self.by_kind
        if by_kind is not None:
            body["by_kind"] = _kinds_as_dict(by_kind)
        if self.adjustments:
            body["adjustment_total"] = str(self.adjustment_total)
            body["cleared_total"] = str(self.cleared_total)
            body["adjustments"] = [adjustment.as_dict() for adjustment in self.adjustments]
        return body

    def restricted_to(self, concerns: Callable[[str], bool]) -> ClearingStatement:
        """The statement as one region sees it: only the lines one of whose two regions it
        ``concerns`` (totals follow the lines kept)."""
        return ClearingStatement(
            self.month,
            self.level,
            tuple(
                line
                for line in self.lines
                if concerns(line.insured_region_code) or concerns(line.treatment_region_code)
            ),
            tuple(
                adjustment
                for adjustment in self.adjustments
                if concerns(adjustment.insured_region_code)
                or concerns(adjustment.treatment_region_code)
            ),
        )

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the same statement, the same bytes."""
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClearingStatement:
        lines = tuple(
            ClearingLine(
                insured_region_code=line["insured_region_code"],
                insured_region_name=line["insured_region_name"],
                treatment_region_code=line["treatment_region_code"],
                treatment_region_name=line["treatment_region_name"],
                person_times=int(line["person_times"]),
                due_by_fund={f: Money.of(line["due_by_fund"][f.value]) for f in FUNDS},
                due_total=Money.of(line["due_total"]),
                prepayment_held=Money.of(line["prepayment_held"]),
                prepayment_applied=Money.of(line["prepayment_applied"]),
                balance_to_pay=Money.of(line["balance_to_pay"]),
                prepayment_remaining=Money.of(line["prepayment_remaining"]),
                by_kind=_kinds_from_dict(line.get("by_kind")),
                adjustment_total=Money.of(line.get("adjustment_total", "0.00")),
            )
            for line in data["lines"]
        )
        adjustments = tuple(
            ClearingAdjustment.from_dict(item) for item in data.get("adjustments", ())
        )
        return cls(data["month"], ClearingLevel(data["level"]), lines, adjustments)


def aggregate_pairs(
    facts: Iterable[SettlementFact], month: str, level: ClearingLevel, keys: RegionKeys
) -> list[PairTotals]:
    """The Python aggregation: facts of ``month`` summed per region pair at ``level``."""
    sums: dict[tuple[str, str], list[int]] = {}
    kinds: dict[tuple[str, str], dict[ClearingKind, tuple[int, int]]] = {}
    for fact in facts:
        if fact.clearing_month != month:
            continue
        pair = (
            keys.key(fact.insured_region_code, level),
            keys.key(fact.treatment_region_code, level),
        )
        row = sums.setdefault(pair, [0] * (1 + len(FUNDS)))
        row[0] += fact.person_times
        for i, fund in enumerate(FUNDS, start=1):
            row[i] += fact.fund_amounts[fund].fen
        by_kind = kinds.setdefault(pair, {})
        times, fen = by_kind.get(fact.clearing_kind, (0, 0))
        by_kind[fact.clearing_kind] = (times + fact.person_times, fen + fact.fund_total.fen)
    return [
        PairTotals(
            insured,
            treatment,
            row[0],
            {f: row[i] for i, f in enumerate(FUNDS, start=1)},
            kinds[(insured, treatment)],
        )
        for (insured, treatment), row in sums.items()
    ]


def statement_from_totals(
    month: str,
    level: ClearingLevel,
    totals: Iterable[PairTotals],
    prepayments: Mapping[tuple[str, str], Money],
    keys: RegionKeys,
    adjustments: Iterable[ClearingAdjustment] = (),
) -> ClearingStatement:
    """Assemble the statement: net each pair's due against the prepayment it holds.

    The month's 清算调整 (``adjustments``, with the regions they concern) are grouped to the
    pairs at ``level`` and listed one by one; a line clears its due plus its adjustments
    (``cleared_total``), and that is what the prepayment is netted against. Its ``due_total``
    stays the sum of its settlements.

    A pair whose prepayment covers the month's due pays nothing and the rest of
    the prepayment stays with the treatment region; a negative due (more
    reversed than settled in the month) is carried as a negative balance, a
    credit for the insured region. Pairs with a prepayment but no activity
    still appear, so every prepayment is accounted for each month.
    """
    parse_month(month)
    by_pair = {(t.insured_region_code, t.treatment_region_code): t for t in totals}
    listed = sorted(
        (
            dataclasses.replace(
                adjustment,
                insured_region_code=keys.key(adjustment.insured_region_code, level),
                treatment_region_code=keys.key(adjustment.treatment_region_code, level),
            )
            for adjustment in adjustments
            if adjustment.clearing_month == month
        ),
        key=lambda a: (a.insured_region_code, a.treatment_region_code, a.decided_at, a.id),
    )
    adjusted: dict[tuple[str, str], int] = {}
    for adjustment in listed:
        pair = (adjustment.insured_region_code, adjustment.treatment_region_code)
        adjusted[pair] = adjusted.get(pair, 0) + adjustment.amount.fen
    for pair in (*prepayments, *adjusted):
        by_pair.setdefault(pair, PairTotals(pair[0], pair[1], 0, dict.fromkeys(FUNDS, 0)))
    lines = []
    for (insured, treatment), pair_totals in sorted(by_pair.items()):
        due_by_fund = {f: Money.from_fen(int(pair_totals.fund_fen.get(f, 0))) for f in FUNDS}
        due_total = money_sum(list(due_by_fund.values()))
        adjustment_total = Money.from_fen(adjusted.get((insured, treatment), 0))
        cleared = due_total + adjustment_total
        held = prepayments.get((insured, treatment), Money.zero())
        applied = held.min(cleared).clamp_non_negative()
        lines.append(
            ClearingLine(
                insured_region_code=insured,
                insured_region_name=keys.name(insured),
                treatment_region_code=treatment,
                treatment_region_name=keys.name(treatment),
                person_times=pair_totals.person_times,
                due_by_fund=due_by_fund,
                due_total=due_total,
                prepayment_held=held,
                prepayment_applied=applied,
                balance_to_pay=cleared - applied,
                prepayment_remaining=held - applied,
                by_kind=kind_dues(pair_totals.kind_fen),
                adjustment_total=adjustment_total,
            )
        )
    return ClearingStatement(month, level, tuple(lines), tuple(listed))


def clear_month(
    facts: Iterable[SettlementFact],
    month: str,
    level: ClearingLevel,
    prepayments: Mapping[tuple[str, str], Money] | None = None,
    keys: RegionKeys | None = None,
    adjustments: Iterable[ClearingAdjustment] = (),
) -> ClearingStatement:
    """月度清算: the statement for ``month`` at ``level`` (same facts, same statement)."""
    keys = keys or RegionKeys()
    totals = aggregate_pairs(facts, parse_month(month), level, keys)
    return statement_from_totals(month, level, totals, prepayments or {}, keys, adjustments)


# --- prepayment usage and warnings --------------------------------------------------


class WarningLevel(enum.Enum):
    """预付金预警等级 (the lines are national rule data: data/national/prepayment_rules.yaml)."""

    NONE = "none"
    YELLOW = "yellow"  # 黄色预警
    RED = "red"  # 红色预警：启动应急调增

    @property
    def label_zh(self) -> str:
        return {"none": "正常", "yellow": "黄色预警", "red": "红色预警"}[self.value]


@dataclass(frozen=True, slots=True)
class PrepaymentUsage:
    """One pair's prepayment in a year: held, drawn by clearing, usage ratio and warning.

    ``ratio`` is ``None`` when nothing is held; ``suggested_top_up`` is what brings the
    usage back under the yellow line (zero when it is already under it)."""

    level: ClearingLevel
    year: int
    insured_region_code: str
    treatment_region_code: str
    held: Money
    drawn: Money
    months_cleared: tuple[str, ...]
    ratio: Decimal | None
    warning: WarningLevel
    suggested_top_up: Money

    @property
    def ratio_percent(self) -> str:
        """The ratio as a percentage to 0.01 (display only; levels use the exact ratio)."""
        if self.ratio is None:
            return "—"
        return f"{(self.ratio * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "year": self.year,
            "insured_region_code": self.insured_region_code,
            "treatment_region_code": self.treatment_region_code,
            "held": str(self.held),
            "drawn": str(self.drawn),
            "months_cleared": list(self.months_cleared),
            "ratio": None if self.ratio is None else str(self.ratio),
            "ratio_percent": self.ratio_percent,
            "warning": self.warning.value,
            "warning_label_zh": self.warning.label_zh,
            "suggested_top_up": str(self.suggested_top_up),
        }


def prepayment_usage(
    level: ClearingLevel,
    year: int,
    insured_region_code: str,
    treatment_region_code: str,
    held: Money,
    drawn: Money,
    *,
    yellow: Decimal,
    red: Decimal,
    months_cleared: Sequence[str] = (),
) -> PrepaymentUsage:
    """预付金使用率与预警: ``drawn`` (what clearing charged the pair this year) over ``held``
    (the prepayment the insured region keeps with the treatment region). At or above
    ``yellow`` is 黄色预警, at or above ``red`` 红色预警 (the lines come from the national rule
    data, never from here). Nothing held but something drawn is 红色预警 (no ratio).

    The suggested top-up is the least whole fen x with drawn / (held + x) < yellow."""
    if not Decimal(0) < yellow < red:
        raise InvalidInput(
            "PREPAYMENT_WARNING_LINES_INVALID",
            "预付金预警线须满足 0 < 黄色 < 红色",
            "the warning lines must satisfy 0 < yellow < red",
        )
    ratio: Decimal | None = None
    if held.fen > 0:
        ratio = Decimal(drawn.fen) / Decimal(held.fen)
        if ratio >= red:
            warning = WarningLevel.RED
        elif ratio >= yellow:
            warning = WarningLevel.YELLOW
        else:
            warning = WarningLevel.NONE
    else:
        warning = WarningLevel.RED if drawn.fen > 0 else WarningLevel.NONE
    top_up = 0
    if warning is not WarningLevel.NONE:
        # the least total T (in fen) with drawn / T < yellow is floor(drawn / yellow) + 1
        needed = int((Decimal(drawn.fen) / yellow).to_integral_value(rounding=ROUND_FLOOR)) + 1
        top_up = max(needed - max(held.fen, 0), 0)
    return PrepaymentUsage(
        level=level,
        year=year,
        insured_region_code=insured_region_code,
        treatment_region_code=treatment_region_code,
        held=held,
        drawn=drawn,
        months_cleared=tuple(months_cleared),
        ratio=ratio,
        warning=warning,
        suggested_top_up=Money.from_fen(top_up),
    )


def drawn_by_pair(
    statements: Iterable[ClearingStatement],
) -> dict[tuple[str, str], tuple[Money, tuple[str, ...]]]:
    """What the clearing statements charged each (insured, treatment) pair, summed (the
    ``cleared_total`` of each line: reversals and deducting adjustments lower it), with the
    months that charged it."""
    drawn: dict[tuple[str, str], list[int]] = {}
    months: dict[tuple[str, str], list[str]] = {}
    for statement in sorted(statements, key=lambda s: s.month):
        for line in statement.lines:
            pair = (line.insured_region_code, line.treatment_region_code)
            drawn.setdefault(pair, [0])[0] += line.cleared_total.fen
            months.setdefault(pair, []).append(statement.month)
    return {pair: (Money.from_fen(total[0]), tuple(months[pair])) for pair, total in drawn.items()}


# --- reconciliation ------------------------------------------------------------------


class MismatchKind(enum.Enum):
    MISSING_HERE = "missing_here"  # the hospital reports it, we have no record
    MISSING_AT_HOSPITAL = "missing_at_hospital"  # we have it, the hospital does not
    AMOUNT_DIFFERS = "amount_differs"
    DUPLICATE_REPORTED = "duplicate_reported"  # the hospital lists the same id twice

    @property
    def label_zh(self) -> str:
        return {
            "missing_here": "本系统无此结算",
            "missing_at_hospital": "医院未上报",
            "amount_differs": "金额不一致",
            "duplicate_reported": "医院重复上报",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """对账差异: one encounter on which the hospital's report and ours disagree."""

    setl_id: str
    kind: MismatchKind
    ours: Money | None
    reported: Money | None

    @property
    def difference(self) -> Money:
        return (self.reported or Money.zero()) - (self.ours or Money.zero())


def reconcile(
    hospital_reported: Sequence[tuple[str, Money]], ours: Iterable[SettlementFact]
) -> list[Mismatch]:
    """对账: compare a hospital's (setl_id, fund total) list with our facts, encounter by
    encounter. Reversals are records of their own on both sides. Ordered by setl_id."""
    our_amounts = {fact.setl_id: fact.fund_total for fact in ours}
    reported: dict[str, Money] = {}
    mismatches: list[Mismatch] = []
    for setl_id, amount in hospital_reported:
        if setl_id in reported:
            mismatches.append(
                Mismatch(setl_id, MismatchKind.DUPLICATE_REPORTED, our_amounts.get(setl_id), amount)
            )
            continue
        reported[setl_id] = amount
    for setl_id in sorted(reported.keys() | our_amounts.keys()):
        mine, theirs = our_amounts.get(setl_id), reported.get(setl_id)
        if mine is None:
            mismatches.append(Mismatch(setl_id, MismatchKind.MISSING_HERE, None, theirs))
        elif theirs is None:
            mismatches.append(Mismatch(setl_id, MismatchKind.MISSING_AT_HOSPITAL, mine, None))
        elif mine != theirs:
            mismatches.append(Mismatch(setl_id, MismatchKind.AMOUNT_DIFFERS, mine, theirs))
    return sorted(mismatches, key=lambda m: (m.setl_id, m.kind.value))
