"""Prepayment estimation (预付金测算): 附件3 (省内) and 附件4 (省外) of 豫人社办函〔2017〕63号.

Section 四 of the notice: each 省辖市 and 省直管县(市) estimates next year's
cross-region fund spending "根据前三年省辖市、省直管县（市）外异地居住备案人员和
转诊转院人员的人数和费用情况" and fills two tables about ITS OWN insured persons:

* 附件3 省内: spending in the filling region's province but outside the filling region;
  one row per pool of that province where the care was given (for Henan, its 省辖市 /
  省直管县(市) as the notice lists them).
* 附件4 省外: spending outside the filling region's province; one row per other province.

Each row has 18 columns, person-times (人数, 人次) and amounts (金额, 元):
合计 / 职工医疗 / 城乡居民医疗, each split 异地备案 vs 转诊转院等. The amount is the
funds' spending (基金支付总额), since the tables size the fund's prepayment.
The identities printed under both tables are checked before anything is output.

Estimation: the three-year average and a least-squares linear trend of each
leaf cell (职工/居民 × 异地备案/转诊转院等), never negative; every other column
is derived from the leaves by the printed identities, so rounding can never
break them. The prepayment proposal is N months of the estimate's average
monthly spend (N from data/national/prepayment_rules.yaml by default: an illustrative local
choice, the notice fixes none).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from yidi.funds.model import AnnexGroup, RegionKeys, SettlementFact
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import InsuranceType
from yidi.kernel.regions import (
    DivisionRegistry,
    annex3_rows,
    annex4_province_rows,
    default_registry,
)
from yidi.policy.national import default_prepayment_months

COLUMN_COUNT: Final = 18

#: The identities printed under 附件3 and 附件4: column = column + column.
IDENTITIES: Final[tuple[tuple[int, int, int], ...]] = (
    (1, 3, 5),
    (2, 4, 6),
    (3, 9, 15),
    (4, 10, 16),
    (5, 11, 17),
    (6, 12, 18),
    (7, 9, 11),
    (8, 10, 12),
    (13, 15, 17),
    (14, 16, 18),
)

#: The leaf cells every other column is derived from: (insurance type, group) -> the
#: person-times column (the amount is the next column).
LEAF_COLUMNS: Final[dict[tuple[InsuranceType, AnnexGroup], int]] = {
    (InsuranceType.EMPLOYEE, AnnexGroup.RESIDENCE): 9,
    (InsuranceType.EMPLOYEE, AnnexGroup.REFERRAL_AND_OTHERS): 11,
    (InsuranceType.RESIDENT, AnnexGroup.RESIDENCE): 15,
    (InsuranceType.RESIDENT, AnnexGroup.REFERRAL_AND_OTHERS): 17,
}
LEAVES: Final = tuple(LEAF_COLUMNS)


class Annex(enum.IntEnum):
    IN_PROVINCE = 3  # 附件3 省内异地就医费用支出测算表
    OUT_OF_PROVINCE = 4  # 附件4 省外异地就医费用支出测算表

    def title(self, target_year: int) -> str:
        scope = "省内" if self is Annex.IN_PROVINCE else "省外"
        return f"{target_year}年度{scope}异地就医费用支出测算表"

    @property
    def signature_labels(self) -> tuple[str, ...]:
        """As printed: 附件3 has 审核人, 附件4 has 制表人 (both have 单位负责人, 制表日期)."""
        if self is Annex.IN_PROVINCE:
            return ("单位负责人:", "审核人:", "制表日期:")
        return ("单位负责人：", "制表人：", "制表日期：")


class EstimateMethod(enum.Enum):
    AVERAGE = "average"  # 三年平均
    TREND = "trend"  # 线性趋势（最小二乘）

    @property
    def label_zh(self) -> str:
        return {"average": "前三年平均", "trend": "线性趋势"}[self.value]


class IdentityViolated(InvalidInput):
    """A row breaks one of the printed identities: nothing may be output."""


@dataclass(frozen=True, slots=True)
class AnnexAggregate:
    """One aggregation cell: the shape both the Python and the DuckDB path produce."""

    year: int
    row_code: str
    insurance_type: InsuranceType
    group: AnnexGroup
    person_times: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class AnnexRow:
    """One table row. ``columns[n-1]`` is column n: odd columns person-times,
    even columns amounts in fen."""

    code: str
    label: str
    columns: tuple[int, ...]

    def column(self, number: int) -> int:
        return self.columns[number - 1]

    @classmethod
    def from_leaves(
        cls,
        code: str,
        label: str,
        leaves: Mapping[tuple[InsuranceType, AnnexGroup], tuple[int, int]],
    ) -> AnnexRow:
        cols = [0] * (COLUMN_COUNT + 1)  # 1-based
        for leaf, column in LEAF_COLUMNS.items():
            cols[column], cols[column + 1] = leaves.get(leaf, (0, 0))
        for offset in (0, 1):  # person-times, then amounts
            cols[7 + offset] = cols[9 + offset] + cols[11 + offset]
            cols[13 + offset] = cols[15 + offset] + cols[17 + offset]
            cols[3 + offset] = cols[9 + offset] + cols[15 + offset]
            cols[5 + offset] = cols[11 + offset] + cols[17 + offset]
            cols[1 + offset] = cols[3 + offset] + cols[5 + offset]
        return cls(code, label, tuple(cols[1:]))

    def leaves(self) -> dict[tuple[InsuranceType, AnnexGroup], tuple[int, int]]:
        return {leaf: (self.column(c), self.column(c + 1)) for leaf, c in LEAF_COLUMNS.items()}


def check_identities(row: AnnexRow) -> None:
    """Raise :class:`IdentityViolated` unless every printed identity holds for ``row``."""
    if len(row.columns) != COLUMN_COUNT:
        raise IdentityViolated(
            "ANNEX_COLUMN_COUNT",
            f"“{row.label}”行应有18栏，实有{len(row.columns)}栏",
            f"row {row.label} has {len(row.columns)} columns, not 18",
        )
    broken = [
        f"{a}={b}+{c}" for a, b, c in IDENTITIES if row.column(a) != row.column(b) + row.column(c)
    ]
    if broken:
        raise IdentityViolated(
            "ANNEX_IDENTITY_VIOLATED",
            f"“{row.label}”行不满足表内关系：{'，'.join(broken)}",
            f"row {row.label} breaks {', '.join(broken)}",
            details={"row": row.code, "identities": broken},
        )


@dataclass(frozen=True, slots=True)
class AnnexTable:
    """A filled 附件3/附件4: rows in the notice's order and the 合计 row."""

    annex: Annex
    year: int  # the year the figures are for (a history year, or the target year)
    insured_region_code: str
    insured_region_name: str
    rows: tuple[AnnexRow, ...]
    total: AnnexRow

    def validate(self) -> None:
        """Every identity on every row, and 合计 = the sum of the rows, column by column."""
        for row in (*self.rows, self.total):
            check_identities(row)
        sums = tuple(sum(row.column(n) for row in self.rows) for n in range(1, COLUMN_COUNT + 1))
        if sums != self.total.columns:
            raise IdentityViolated(
                "ANNEX_TOTAL_MISMATCH",
                "合计行不等于各行之和",
                "the 合计 row is not the sum of the rows",
            )


def _table(
    annex: Annex,
    year: int,
    insured_region_code: str,
    insured_region_name: str,
    row_labels: Sequence[tuple[str, str]],
    leaves_by_row: Mapping[str, Mapping[tuple[InsuranceType, AnnexGroup], tuple[int, int]]],
) -> AnnexTable:
    rows = tuple(
        AnnexRow.from_leaves(code, label, leaves_by_row.get(code, {})) for code, label in row_labels
    )
    total_leaves = {
        leaf: (
            sum(r.leaves()[leaf][0] for r in rows),
            sum(r.leaves()[leaf][1] for r in rows),
        )
        for leaf in LEAVES
    }
    table = AnnexTable(
        annex, year, insured_region_code, insured_region_name, rows,
        AnnexRow.from_leaves("", "合计", total_leaves),
    )  # fmt: skip
    table.validate()
    return table


# --- which fact counts where --------------------------------------------------------


@dataclass(frozen=True)
class AnnexScope:
    """The filling region and the rows of its table.

    ``insured_region_code`` is a pool (a Henan 省辖市 / 省直管县(市), a prefecture of
    another province), or a province code (410000) for the whole province's insured persons.
    """

    annex: Annex
    insured_region_code: str
    keys: RegionKeys = field(default_factory=RegionKeys)
    row_codes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def for_region(
        cls,
        annex: Annex,
        insured_region_code: str,
        keys: RegionKeys | None = None,
        registry: DivisionRegistry | None = None,
    ) -> AnnexScope:
        keys = keys or RegionKeys(registry)
        registry = keys.registry if registry is None else registry
        divisions = (
            annex3_rows(insured_region_code, registry, include_jiyuan=True)
            if annex is Annex.IN_PROVINCE
            else annex4_province_rows(registry, excluding=insured_region_code)
        )
        return cls(annex, insured_region_code, keys, tuple((d.code, d.name) for d in divisions))

    @property
    def is_province(self) -> bool:
        return self.insured_region_code.endswith("0000")

    def covers_insured(self, code: str) -> bool:
        if self.is_province:
            return code[:2] == self.insured_region_code[:2]
        return self.keys.pool_of(code) == self.insured_region_code

    def row_for(self, insured_code: str, treatment_code: str) -> str | None:
        """The row a fact counts under, or ``None`` if it is not this table's business."""
        if not self.covers_insured(insured_code):
            return None
        same_province = insured_code[:2] == treatment_code[:2]
        if self.annex is Annex.OUT_OF_PROVINCE:
            return None if same_province else self.keys.province_of(treatment_code)
        if not same_province:
            return None
        treatment_pool = self.keys.pool_of(treatment_code)
        if treatment_pool == self.keys.pool_of(insured_code):
            return None  # within one's own pool is not 异地就医
        return treatment_pool

    @property
    def insured_region_name(self) -> str:
        return self.keys.name(self.insured_region_code)


def history_years(target_year: int) -> tuple[int, int, int]:
    """前三年: the three calendar years before the target year."""
    return (target_year - 3, target_year - 2, target_year - 1)


def aggregate_annex(
    facts: Iterable[SettlementFact], scope: AnnexScope, years: Sequence[int]
) -> list[AnnexAggregate]:
    """The Python aggregation: net person-times and fund spend per (year, row, type, group).

    A fact counts in the calendar year of its ``settled_on``; a reversal counts
    (negatively) in the year it was made.
    """
    wanted = set(years)
    sums: dict[tuple[int, str, InsuranceType, AnnexGroup], list[int]] = {}
    for fact in facts:
        year = fact.settled_on.year
        if year not in wanted:
            continue
        row = scope.row_for(fact.insured_region_code, fact.treatment_region_code)
        if row is None:
            continue
        cell = sums.setdefault((year, row, fact.insurance_type, fact.annex_group), [0, 0])
        cell[0] += fact.person_times
        cell[1] += fact.fund_total.fen
    return [AnnexAggregate(y, r, t, g, v[0], v[1]) for (y, r, t, g), v in sums.items()]


# --- estimation ------------------------------------------------------------------------


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def average_of(values: Sequence[int]) -> int:
    return _round(Decimal(sum(values)) / len(values))


def trend_of(values: Sequence[int]) -> int:
    """Least-squares line through the years, read one year past the last, never negative."""
    n = len(values)
    xs = [Decimal(i) for i in range(n)]
    mean_x = sum(xs, Decimal(0)) / n
    mean_y = Decimal(sum(values)) / n
    spread = sum(((x - mean_x) ** 2 for x in xs), Decimal(0))
    slope = (
        sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, values, strict=True)), Decimal(0))
        / spread
        if spread
        else Decimal(0)
    )
    forecast = mean_y + slope * (Decimal(n) - mean_x)
    return max(0, _round(forecast))


@dataclass(frozen=True, slots=True)
class ProposalLine:
    code: str
    label: str
    estimate_amount_fen: int
    prepayment_fen: int


@dataclass(frozen=True)
class PrepaymentEstimate:
    """History (three tables), the two estimates, the chosen one, and the proposal."""

    annex: Annex
    target_year: int
    insured_region_code: str
    insured_region_name: str
    history: tuple[AnnexTable, AnnexTable, AnnexTable]
    average: AnnexTable
    trend: AnnexTable
    method: EstimateMethod
    prepayment_months: int
    proposal: tuple[ProposalLine, ...]

    @property
    def chosen(self) -> AnnexTable:
        return self.average if self.method is EstimateMethod.AVERAGE else self.trend

    @property
    def proposal_total_fen(self) -> int:
        return sum(line.prepayment_fen for line in self.proposal)


def estimate_from_aggregates(
    aggregates: Iterable[AnnexAggregate],
    scope: AnnexScope,
    target_year: int,
    *,
    method: EstimateMethod = EstimateMethod.AVERAGE,
    prepayment_months: int | None = None,
) -> PrepaymentEstimate:
    """History tables, both estimates and the proposal, every table identity-checked; the
    proposal covers ``prepayment_months`` (by default the national rule data's months)."""
    if prepayment_months is None:
        prepayment_months = default_prepayment_months()
    if not 1 <= prepayment_months <= 12:
        raise InvalidInput(
            "PREPAYMENT_MONTHS_RANGE",
            "预付月数应在1至12之间",
            "prepayment months must be between 1 and 12",
            field="prepayment_months",
        )
    years = history_years(target_year)
    known_rows = {code for code, _ in scope.row_codes}
    cells: dict[tuple[int, str], dict[tuple[InsuranceType, AnnexGroup], tuple[int, int]]] = {}
    for agg in aggregates:
        if agg.year not in years:
            continue
        if agg.row_code not in known_rows:
            raise InvalidInput(
                "ANNEX_ROW_UNKNOWN",
                f"就医地{agg.row_code}不在附件{int(scope.annex)}的行中",
                f"treatment region {agg.row_code} is not a row of annex {int(scope.annex)}",
            )
        leaves = cells.setdefault((agg.year, agg.row_code), {})
        old = leaves.get((agg.insurance_type, agg.group), (0, 0))
        leaves[(agg.insurance_type, agg.group)] = (
            old[0] + agg.person_times,
            old[1] + agg.amount_fen,
        )

    def history_table(year: int) -> AnnexTable:
        by_row = {code: leaves for (y, code), leaves in cells.items() if y == year}
        return _table(
            scope.annex,
            year,
            scope.insured_region_code,
            scope.insured_region_name,
            scope.row_codes,
            by_row,
        )

    history = (history_table(years[0]), history_table(years[1]), history_table(years[2]))

    def estimated(estimator: Callable[[Sequence[int]], int]) -> AnnexTable:
        by_row: dict[str, dict[tuple[InsuranceType, AnnexGroup], tuple[int, int]]] = {}
        for index, (code, _label) in enumerate(scope.row_codes):
            rows = [table.rows[index].leaves() for table in history]
            by_row[code] = {
                leaf: (
                    estimator([r[leaf][0] for r in rows]),
                    estimator([r[leaf][1] for r in rows]),
                )
                for leaf in LEAVES
            }
        return _table(
            scope.annex,
            target_year,
            scope.insured_region_code,
            scope.insured_region_name,
            scope.row_codes,
            by_row,
        )

    average = estimated(lambda values: max(0, average_of(values)))
    trend = estimated(trend_of)
    chosen = average if method is EstimateMethod.AVERAGE else trend
    proposal = tuple(
        ProposalLine(
            row.code,
            row.label,
            row.column(2),
            _round(Decimal(row.column(2)) * prepayment_months / 12),
        )
        for row in chosen.rows
    )
    return PrepaymentEstimate(
        annex=scope.annex,
        target_year=target_year,
        insured_region_code=scope.insured_region_code,
        insured_region_name=scope.insured_region_name,
        history=history,
        average=average,
        trend=trend,
        method=method,
        prepayment_months=prepayment_months,
        proposal=proposal,
    )


def estimate_prepayment(
    facts: Iterable[SettlementFact],
    annex: Annex,
    insured_region_code: str,
    target_year: int,
    *,
    method: EstimateMethod = EstimateMethod.AVERAGE,
    prepayment_months: int | None = None,
    keys: RegionKeys | None = None,
) -> PrepaymentEstimate:
    """The whole Python path: facts -> aggregates -> identity-checked estimate."""
    scope = AnnexScope.for_region(
        annex, insured_region_code, keys or RegionKeys(default_registry())
    )
    aggregates = aggregate_annex(facts, scope, history_years(target_year))
    return estimate_from_aggregates(
        aggregates, scope, target_year, method=method, prepayment_months=prepayment_months
    )


# --- 申请补充预付金与审批: top-up requests and their decision --------------------------------


class TopUpStatus(enum.StrEnum):
    """requested → approved (the approved amount is added to the prepayment held) or
    rejected (with a reason); a decided request never changes again."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label_zh(self) -> str:
        return {"requested": "待审批", "approved": "已批准", "rejected": "已驳回"}[self.value]


@dataclass(frozen=True, slots=True)
class TopUpRequest:
    """One 申请补充预付金 with the figures as they stood when asked, and its decision."""

    id: int
    level: str
    year: int
    insured_region_code: str
    treatment_region_code: str
    held_fen: int
    drawn_fen: int
    warning: str
    suggested_fen: int
    requested_by: str
    requested_at: dt.datetime
    status: TopUpStatus = TopUpStatus.REQUESTED
    approved_fen: int | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        def yuan(fen: int | None) -> str | None:
            return None if fen is None else f"{Decimal(fen).scaleb(-2):.2f}"

        return {
            "request_id": self.id,
            "level": self.level,
            "year": self.year,
            "insured_region_code": self.insured_region_code,
            "treatment_region_code": self.treatment_region_code,
            "held": yuan(self.held_fen),
            "drawn": yuan(self.drawn_fen),
            "warning": self.warning,
            "suggested_top_up": yuan(self.suggested_fen),
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "status": self.status.value,
            "status_label_zh": self.status.label_zh,
            "approved_amount": yuan(self.approved_fen),
            "decided_by": self.decided_by,
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
            "decision_reason": self.decision_reason,
        }
