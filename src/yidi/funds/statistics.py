"""Statistics (统计) of direct settlements: person-times and fund spend, both directions.

* 外出 (outbound): our insured persons treated elsewhere ("我市参保人员在…异地就医").
* 外来 (inbound): other regions' insured persons treated in our hospitals.

One :class:`StatisticsQuery` gives one :class:`StatisticsReport`; the report is
then rendered as HTML, JSON, CSV or XLSX (``yidi.reports.statistics``), so every
format carries the same numbers. A sentence in the style of the Hengyang news
page can be rendered from an outbound report grouped by treatment province.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from yidi.funds.model import CLEARING_KINDS, FUNDS, ClearingKind, Fund, RegionKeys, SettlementFact
from yidi.kernel.errors import InvalidInput
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.regions import region_prefix


class Direction(enum.Enum):
    OUTBOUND = "outbound"  # 本地参保、外地就医
    INBOUND = "inbound"  # 外地参保、本地就医

    @property
    def label_zh(self) -> str:
        return {"outbound": "本地参保人员异地就医", "inbound": "外地参保人员在本地就医"}[self.value]


class Dimension(enum.Enum):
    INSURED_REGION = "insured_region"
    INSURED_PROVINCE = "insured_province"
    TREATMENT_REGION = "treatment_region"
    TREATMENT_PROVINCE = "treatment_province"
    HOSPITAL = "hospital"
    CATEGORY = "category"
    INSURANCE_TYPE = "insurance_type"
    MONTH = "month"  # the clearing month
    YEAR = "year"
    CLEARING_TYPE = "clearing_type"  # 清算类别: 11 门诊, 21 住院, 41 药店购药

    @property
    def label_zh(self) -> str:
        return {
            "insured_region": "参保地",
            "insured_province": "参保省",
            "treatment_region": "就医地",
            "treatment_province": "就医省",
            "hospital": "医疗机构",
            "category": "人员类别",
            "insurance_type": "险种",
            "month": "月份",
            "year": "年度",
            "clearing_type": "清算类别",
        }[self.value]


NO_CATEGORY: Final = "none"


@dataclass(frozen=True, slots=True)
class StatisticsQuery:
    region_code: str
    direction: Direction
    group_by: Dimension
    settled_from: dt.date | None = None
    settled_to: dt.date | None = None  # inclusive

    def __post_init__(self) -> None:
        if len(self.region_code) != 6 or not self.region_code.isdigit():
            raise InvalidInput(
                "STATISTICS_REGION_INVALID",
                "统计地区应为6位行政区划代码",
                "region must be a six-digit division code",
                field="region",
            )

    def selects(self, insured_code: str, treatment_code: str, settled_on: dt.date) -> bool:
        prefix = region_prefix(self.region_code)
        insured_in, treated_in = insured_code.startswith(prefix), treatment_code.startswith(prefix)
        if self.direction is Direction.OUTBOUND and not (insured_in and not treated_in):
            return False
        if self.direction is Direction.INBOUND and not (treated_in and not insured_in):
            return False
        if self.settled_from is not None and settled_on < self.settled_from:
            return False
        return self.settled_to is None or settled_on <= self.settled_to


@dataclass(frozen=True, slots=True)
class StatisticsRow:
    key: str
    label: str
    person_times: int
    total_charges_fen: int
    fund_fen: tuple[int, ...]  # in FUNDS order

    @property
    def fund_total_fen(self) -> int:
        return sum(self.fund_fen)


#: (record key, Chinese column title) in the order every rendering shows them.
STATISTICS_COLUMNS: Final = (
    ("key", "代码"),
    ("label", "名称"),
    ("person_times", "人次"),
    ("total_charges", "医疗费总额"),
    *((fund.value, fund.label_zh) for fund in FUNDS),
    ("fund_total", "基金支付合计"),
)


Sums = Iterable[tuple[str, int, int, tuple[int, ...]]]


@dataclass(frozen=True, slots=True)
class StatisticsReport:
    query: StatisticsQuery
    rows: tuple[StatisticsRow, ...]
    #: the same selection summed per clearing kind (清算类别: 住院, 门诊, 药店购药), one row
    #: per kind in :data:`CLEARING_KINDS` order, keyed by its clr_type code; together they
    #: add up to :attr:`total`
    kinds: tuple[StatisticsRow, ...] = ()

    @property
    def total(self) -> StatisticsRow:
        return StatisticsRow(
            "",
            "合计",
            sum(r.person_times for r in self.rows),
            sum(r.total_charges_fen for r in self.rows),
            tuple(sum(r.fund_fen[i] for r in self.rows) for i in range(len(FUNDS))),
        )

    def records(self, *, with_total: bool = True) -> list[dict[str, str | int | Decimal]]:
        """Rows as plain records (amounts in yuan): what every renderer prints."""
        rows = [*self.rows, self.total] if with_total else list(self.rows)
        return [_record(row) for row in rows]

    def kind_records(self) -> list[dict[str, str | int | Decimal]]:
        """The per-kind rows as plain records (printed beside the overall total)."""
        return [_record(row) for row in self.kinds]


def _record(row: StatisticsRow) -> dict[str, str | int | Decimal]:
    return {
        "key": row.key,
        "label": row.label,
        "person_times": row.person_times,
        "total_charges": _yuan(row.total_charges_fen),
        **{fund.value: _yuan(row.fund_fen[i]) for i, fund in enumerate(FUNDS)},
        "fund_total": _yuan(row.fund_total_fen),
    }


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def category_label(key: str) -> str:
    return "未备案/其他" if key == NO_CATEGORY else FilingCategory(key).label_zh


def dimension_key(
    dimension: Dimension,
    *,
    insured: str,
    treatment: str,
    hospital: str,
    category: str | None,
    insurance_type: str,
    clearing_month: str,
    clearing_type: str,
) -> str:
    """The group key of a fact under ``dimension`` (the SQL paths compute the same)."""
    return {
        Dimension.INSURED_REGION: insured,
        Dimension.INSURED_PROVINCE: insured[:2] + "0000",
        Dimension.TREATMENT_REGION: treatment,
        Dimension.TREATMENT_PROVINCE: treatment[:2] + "0000",
        Dimension.HOSPITAL: hospital,
        Dimension.CATEGORY: category or NO_CATEGORY,
        Dimension.INSURANCE_TYPE: insurance_type,
        Dimension.MONTH: clearing_month,
        Dimension.YEAR: clearing_month[:4],
        Dimension.CLEARING_TYPE: clearing_type,
    }[dimension]


def label_for(
    dimension: Dimension, key: str, keys: RegionKeys, hospital_names: Callable[[str], str]
) -> str:
    if dimension in (
        Dimension.INSURED_REGION,
        Dimension.INSURED_PROVINCE,
        Dimension.TREATMENT_REGION,
        Dimension.TREATMENT_PROVINCE,
    ):
        return keys.name(key)
    if dimension is Dimension.HOSPITAL:
        return hospital_names(key)
    if dimension is Dimension.CATEGORY:
        return category_label(key)
    if dimension is Dimension.INSURANCE_TYPE:
        return InsuranceType(key).label_zh
    if dimension is Dimension.CLEARING_TYPE:
        return ClearingKind(key).label_zh
    return key


def report_from_sums(
    query: StatisticsQuery,
    sums: Sums,
    keys: RegionKeys,
    hospital_names: Callable[[str], str] = lambda code: code,
    kind_sums: Sums = (),
) -> StatisticsReport:
    """Rows ordered by key, so the same query always gives the same report; ``kind_sums``
    are the same sums keyed by clearing kind (clr_type code)."""
    rows = tuple(
        StatisticsRow(
            key, label_for(query.group_by, key, keys, hospital_names), times, charges, funds
        )
        for key, times, charges, funds in sorted(sums)
    )
    by_kind = {key: (times, charges, funds) for key, times, charges, funds in kind_sums}
    kinds = tuple(
        StatisticsRow(kind.value, kind.label_zh, *by_kind[kind.value])
        for kind in CLEARING_KINDS
        if kind.value in by_kind
    )
    return StatisticsReport(query, rows, kinds)


def _sums_of_facts(
    facts: Iterable[SettlementFact], query: StatisticsQuery, key_of: Callable[[SettlementFact], str]
) -> list[tuple[str, int, int, tuple[int, ...]]]:
    sums: dict[str, list[int]] = {}
    for fact in facts:
        if not query.selects(fact.insured_region_code, fact.treatment_region_code, fact.settled_on):
            continue
        cell = sums.setdefault(key_of(fact), [0] * (2 + len(FUNDS)))
        cell[0] += fact.person_times
        cell[1] += fact.total_charges.fen
        for i, fund in enumerate(FUNDS):
            cell[2 + i] += fact.fund_amounts[fund].fen
    return [(k, v[0], v[1], tuple(v[2:])) for k, v in sums.items()]


def _group_key(query: StatisticsQuery) -> Callable[[SettlementFact], str]:
    return lambda fact: dimension_key(
        query.group_by,
        insured=fact.insured_region_code,
        treatment=fact.treatment_region_code,
        hospital=fact.hospital_code,
        category=fact.filing_category.value if fact.filing_category else None,
        insurance_type=fact.insurance_type.value,
        clearing_month=fact.clearing_month,
        clearing_type=fact.clearing_kind.value,
    )


def _kind_key(fact: SettlementFact) -> str:
    return fact.clearing_kind.value


def statistics_from_facts(
    facts: Iterable[SettlementFact],
    query: StatisticsQuery,
    keys: RegionKeys | None = None,
    hospital_names: Callable[[str], str] = lambda code: code,
) -> StatisticsReport:
    """The Python path (small data, tests): the storage and DuckDB paths must agree."""
    facts = list(facts)
    return report_from_sums(
        query,
        _sums_of_facts(facts, query, _group_key(query)),
        keys or RegionKeys(),
        hospital_names,
        _sums_of_facts(facts, query, _kind_key),
    )


# --- the news sentence ---------------------------------------------------------------

_PROVINCE_SUFFIXES: Final = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)


def province_short_name(name: str) -> str:
    """广西壮族自治区 -> 广西, 北京市 -> 北京, 广东省 -> 广东, 内蒙古自治区 -> 内蒙古."""
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def ten_thousand_yuan(fen: int) -> Decimal:
    """Amount in 万元 with two decimals, ROUND_HALF_UP (485,700.00 元 -> 48.57)."""
    return (Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def outbound_sentence(
    report: StatisticsReport,
    as_of: dt.date,
    *,
    subject: str = "我市",
    named: int = 3,
    funds: tuple[Fund, ...] = FUNDS,
) -> str:
    """ "截至9月30日，我市参保人员在广西、北京、广东等省异地就医直接结算57人次，医保基金支出48.57万元".

    ``report`` must be outbound and grouped by treatment province; provinces are
    named in order of person-times (then code), at most ``named`` of them.
    """
    if (
        report.query.direction is not Direction.OUTBOUND
        or report.query.group_by is not Dimension.TREATMENT_PROVINCE
    ):
        raise InvalidInput(
            "SENTENCE_NEEDS_OUTBOUND_BY_PROVINCE",
            "需按就医省汇总的外出就医统计",
            "the sentence needs an outbound report grouped by treatment province",
        )
    ranked = sorted(
        (row for row in report.rows if row.person_times > 0),
        key=lambda row: (-row.person_times, row.key),
    )
    names = [province_short_name(row.label) for row in ranked[:named]]
    places = "、".join(names) + ("等省" if len(ranked) > named else "")
    total = report.total
    fund_fen = sum(total.fund_fen[FUNDS.index(f)] for f in funds)
    return (
        f"截至{as_of.month}月{as_of.day}日，{subject}参保人员在{places}异地就医直接结算"
        f"{total.person_times}人次，医保基金支出{ten_thousand_yuan(fund_fen)}万元"
    )
