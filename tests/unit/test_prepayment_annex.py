"""附件3/附件4: which fact counts where, the estimates, the identities, the workbook cell by cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from funds_helpers import make_fact
from openpyxl import load_workbook

from yidi.funds.model import SettlementFact
from yidi.funds.prepayment import (
    Annex,
    AnnexRow,
    EstimateMethod,
    IdentityViolated,
    check_identities,
    estimate_prepayment,
    trend_of,
)
from yidi.kernel.insurance import FilingCategory, InsuranceType
from yidi.kernel.regions import annex3_henan_rows, annex4_province_rows
from yidi.reports.funds_xlsx import annex_workbook, workbook_bytes, write_annex_sheet

EMP, RES = InsuranceType.EMPLOYEE, InsuranceType.RESIDENT
RETIREE, RESIDENT_LONG = FilingCategory.RETIREE_RESETTLED, FilingCategory.LONG_TERM_RESIDENT
REFERRAL, EMERGENCY = FilingCategory.REFERRAL, FilingCategory.EMERGENCY


def _zhengzhou_history() -> list[SettlementFact]:
    """A small fixed history of 郑州市 (410100) insured persons, 2015-2017."""
    d = dt.date
    cancelled = make_fact("L4", on=d(2017, 5, 1), insured="410100", treatment="410311",
                          insurance_type=RES, category=REFERRAL, pooled="50.00")  # fmt: skip
    return [
        make_fact("K1", on=d(2015, 3, 1), insured="410100", treatment="410202", pooled="1000.00"),
        make_fact("K2", on=d(2016, 3, 1), insured="410100", treatment="410200", pooled="1800.00", large="200.00"),
        make_fact("L1", on=d(2016, 6, 1), insured="410100", treatment="410300", insurance_type=RES,
                  category=REFERRAL, pooled="300.50"),
        make_fact("K3", on=d(2017, 3, 1), insured="410100", treatment="410200", pooled="3000.00"),
        make_fact("K4", on=d(2017, 4, 1), insured="410100", treatment="410200", category=EMERGENCY,
                  pooled="400.00"),
        make_fact("L2", on=d(2017, 7, 1), insured="410100", treatment="410300", insurance_type=RES,
                  category=RESIDENT_LONG, pooled="100.25"),
        cancelled,
        cancelled.reversed("L5", d(2017, 5, 3)),
        # Not 郑州's 附件3 business: within its own pool, another pool's insured, another year.
        make_fact("X1", on=d(2017, 1, 1), insured="410100", treatment="410102", pooled="77.00"),
        make_fact("X2", on=d(2017, 1, 1), insured="410181", treatment="410200", pooled="88.00"),
        make_fact("X3", on=d(2014, 1, 1), insured="410100", treatment="410200", pooled="99.00"),
        # 附件4 business: outside Henan.
        make_fact("B1", on=d(2015, 8, 1), insured="410100", treatment="110101", pooled="900.00"),
        make_fact("B2", on=d(2017, 8, 1), insured="410181", treatment="450923", insurance_type=RES,
                  category=None, pooled="600.00"),
    ]  # fmt: skip


def _row(values: dict[int, str]) -> list[Decimal]:
    """The 18 columns of a row as Decimals; absent columns are zero."""
    return [Decimal(values.get(n, "0")) for n in range(1, 19)]


KAIFENG = _row({1: "1", 2: "2133.33", 3: "1", 4: "2000.00", 5: "0", 6: "133.33",
                7: "1", 8: "2133.33", 9: "1", 10: "2000.00", 12: "133.33"})  # fmt: skip
LUOYANG = _row({2: "133.59", 4: "33.42", 6: "100.17", 14: "133.59", 16: "33.42", 18: "100.17"})
TOTAL3 = [a + b for a, b in zip(KAIFENG, LUOYANG, strict=True)]


def test_the_three_year_average_of_zhengzhou_fills_annex3_leaf_by_leaf() -> None:
    estimate = estimate_prepayment(_zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018)
    assert [t.year for t in estimate.history] == [2015, 2016, 2017]
    rows = {row.code: row for row in estimate.average.rows}
    assert [
        Decimal(v) / (100 if n % 2 == 0 else 1) for n, v in enumerate(rows["410200"].columns, 1)
    ] == KAIFENG
    assert rows["410100"].columns == (0,) * 18  # its own pool is not 异地
    history_2017 = {row.code: row for row in estimate.history[2].rows}
    # The cancelled 洛阳 referral nets to zero person-times and zero amount.
    assert history_2017["410300"].column(17) == 0 and history_2017["410300"].column(18) == 0
    assert history_2017["410300"].column(15) == 1 and history_2017["410300"].column(16) == 10025


def test_the_trend_is_a_least_squares_line_one_year_on_and_never_negative() -> None:
    assert trend_of([100, 200, 300]) == 400
    assert trend_of([300, 200, 100]) == 0
    assert trend_of([0, 0, 40000]) == 53333
    estimate = estimate_prepayment(
        _zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018, method=EstimateMethod.TREND
    )
    kaifeng = next(row for row in estimate.chosen.rows if row.code == "410200")
    assert kaifeng.column(10) == 400000 and kaifeng.column(12) == 53333


def test_the_prepayment_proposal_is_n_months_of_the_average_monthly_estimate() -> None:
    two = estimate_prepayment(_zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018)
    three = estimate_prepayment(
        _zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018, prepayment_months=3
    )
    assert {p.code: p.prepayment_fen for p in two.proposal}["410200"] == 35556  # 2133.33 / 12 * 2
    assert {p.code: p.prepayment_fen for p in three.proposal}["410200"] == 53333


def test_a_tampered_row_breaks_an_identity_and_nothing_is_written() -> None:
    estimate = estimate_prepayment(_zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018)
    good = estimate.average.rows[1]
    check_identities(good)
    columns = list(good.columns)
    columns[7] += 1  # column 8 no longer equals 10 + 12
    tampered = AnnexRow(good.code, good.label, tuple(columns))
    with pytest.raises(IdentityViolated) as caught:
        check_identities(tampered)
    assert caught.value.code == "ANNEX_IDENTITY_VIOLATED" and "8=10+12" in caught.value.message
    bad_table = dataclasses.replace(
        estimate.average, rows=(estimate.average.rows[0], tampered, *estimate.average.rows[2:])
    )
    workbook = annex_workbook(estimate)
    with pytest.raises(IdentityViolated):
        write_annex_sheet(workbook.create_sheet("x"), bad_table)
    total_off = dataclasses.replace(estimate.average, total=estimate.average.rows[1])
    with pytest.raises(IdentityViolated) as caught:
        total_off.validate()
    assert caught.value.code == "ANNEX_TOTAL_MISMATCH"


def _expected_merges(total_row: int) -> set[str]:
    del total_row
    merges = {"A2:S2", "A4:A6", "B4:G4", "H4:M4", "N4:S4"}
    letters = "BCDEFGHIJKLMNOPQRS"
    merges |= {f"{letters[i]}5:{letters[i + 1]}5" for i in range(0, 18, 2)}
    return merges


def _header_values() -> dict[str, str]:
    header = {"A4": "地区", "B4": "合计", "H4": "职工医疗", "N4": "城乡居民医疗"}
    subs = [
        "合计",
        "异地备案",
        "转诊转院等",
        "小计",
        "异地备案",
        "转诊转院等",
        "小计",
        "异地备案",
        "转诊转院等",
    ]
    letters = "BCDEFGHIJKLMNOPQRS"
    for i, sub in enumerate(subs):
        header[f"{letters[2 * i]}5"] = sub
        header[f"{letters[2 * i]}6"] = "人数"
        header[f"{letters[2 * i + 1]}6"] = "金额"
    return header


def _number(value: object) -> Decimal:
    assert isinstance(value, int | float), value
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _check_sheet(
    sheet: object, title: str, labels: list[str], expected: dict[str, list[Decimal]]
) -> None:
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    total_row = 8 + len(labels)
    assert {str(r) for r in sheet.merged_cells.ranges} == _expected_merges(total_row)
    assert sheet["A1"].value == title.split("|")[0]
    assert sheet["A2"].value == title.split("|")[1]
    assert sheet["A3"].value == "市(县、市)：郑州市"
    for ref, value in _header_values().items():
        assert sheet[ref].value == value, ref
    assert [sheet.cell(7, c).value for c in range(2, 20)] == list(range(1, 19))
    for offset, label in enumerate([*labels, "合计"]):
        r = 8 + offset
        assert sheet.cell(r, 1).value == label
        want = expected.get(label, [Decimal(0)] * 18)
        got = [_number(sheet.cell(r, c).value) for c in range(2, 20)]
        assert got == [w.quantize(Decimal("0.01")) for w in want], label
        for c in range(2, 20):  # person-times are whole numbers, amounts carry the fen
            assert isinstance(sheet.cell(r, c).value, int) or c % 2 == 1
    assert sheet.max_column == 19


def test_annex3_workbook_matches_the_notice_layout_cell_by_cell() -> None:
    estimate = estimate_prepayment(_zhengzhou_history(), Annex.IN_PROVINCE, "410100", 2018)
    data = workbook_bytes(annex_workbook(estimate, prepared_on=dt.date(2018, 4, 10)))
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["附件3", "测算依据", "2015年实际", "2016年实际", "2017年实际"]
    labels = [d.name for d in annex3_henan_rows(include_jiyuan=True)]
    assert labels[:3] == ["郑州市", "开封市", "洛阳市"] and labels[-1] == "新蔡县"
    sheet = workbook["附件3"]
    _check_sheet(sheet, "附件3|2018年度省内异地就医费用支出测算表", labels,
                 {"开封市": KAIFENG, "洛阳市": LUOYANG, "合计": TOTAL3})  # fmt: skip
    last = 8 + len(labels)
    assert [sheet.cell(last + 2, c).value for c in (1, 8, 14)] == [
        "单位负责人:", "审核人:", "制表日期:2018年4月10日",
    ]  # fmt: skip
    assert sheet.cell(last + 4, 1).value == "备注: 1、转诊转院是指市(县、市)外转诊转院人员。"
    assert sheet.cell(last + 5, 1).value == "2、表中人数单位为人次，金额单位为元。"
    assert sheet.cell(last + 6, 1).value.startswith("3、1=3+5  2=4+6  3=9+15")
    assert sheet.cell(last + 6, 1).value.endswith("13=15+17  14=16+18。")
    basis = workbook["测算依据"]
    assert [basis.cell(3, c).value for c in range(1, 8)] == [
        "地区", "2015年人次", "2015年金额", "2016年人次", "2016年金额", "2017年人次", "2017年金额",
    ]  # fmt: skip
    kaifeng = [basis.cell(5, c).value for c in range(1, 13)]
    assert kaifeng[0] == "开封市"
    assert [_number(v) for v in kaifeng[1:]] == [
        _number(v) for v in (1, 1000, 1, 2000, 2, 3400, 1, 2133.33, 2, 4533.33, 355.56)
    ]


def test_annex4_rows_are_the_provinces_where_zhengzhou_insured_were_treated() -> None:
    estimate = estimate_prepayment(_zhengzhou_history(), Annex.OUT_OF_PROVINCE, "410100", 2018)
    workbook = load_workbook(io.BytesIO(workbook_bytes(annex_workbook(estimate))))
    labels = [d.name for d in annex4_province_rows(excluding="410100")]
    assert "河南省" not in labels  # 附件4 is the 省外 table
    beijing = _row({1: "0", 2: "300.00", 4: "300.00", 8: "300.00", 10: "300.00"})
    sheet = workbook["附件4"]
    _check_sheet(sheet, "附件4|2018年度省外异地就医费用支出测算表", labels,
                 {"北京市": beijing, "合计": beijing})  # fmt: skip
    last = 8 + len(labels)
    assert [sheet.cell(last + 2, c).value for c in (1, 8, 14)] == [
        "单位负责人：",
        "制表人：",
        "制表日期：",
    ]
    # The whole province's insured: 巩义's 广西 stay counts too, 郑州's own 附件3 stays do not.
    province = estimate_prepayment(_zhengzhou_history(), Annex.OUT_OF_PROVINCE, "410000", 2018)
    guangxi = next(r for r in province.history[2].rows if r.code == "450000")
    assert guangxi.column(17) == 1 and guangxi.column(18) == 60000
    assert province.history[2].total.column(1) == 1
