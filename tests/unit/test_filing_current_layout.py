"""备案记录（现行版式）: a filing's row names its class, type, promise or proof, validity,
lock and 补办 care under the model of its handling day; 2017 filings keep their meaning."""

from __future__ import annotations

import dataclasses
from datetime import date

from filing_helpers import REGIONS, record_for

from yidi.filing.model.annex import ANNEX2_COLUMNS
from yidi.filing.model.current_layout import (
    CURRENT_LAYOUT_COLUMNS,
    current_layout_row,
    promise_status,
)
from yidi.filing.model.lifecycle import FilingState
from yidi.filing.model.record import FilingRecord
from yidi.kernel.insurance import FilingCategory as C
from yidi.policy.national import national_model

TODAY = date(2026, 11, 20)


def _handled(record: FilingRecord, on: date, **changes: object) -> FilingRecord:
    handling: dict[str, object] = {
        "filing_number": "BA430421-2026-000001",
        "handling_agency": "衡阳县医保中心",
        "handled_on": on,
        "valid_from": on,
    }
    return dataclasses.replace(record, **(handling | changes))  # type: ignore[arg-type]


def _row(
    record: FilingRecord, *, mask: bool = True, region: dict[str, object] | None = None
) -> dict[str, str]:
    assert record.handled_on is not None
    model = national_model(record.handled_on, region)
    cells = current_layout_row(
        record,
        1,
        REGIONS,
        model,
        state=FilingState.APPROVED,
        online=True,
        today=TODAY,
        mask=mask,
    )
    return dict(zip(CURRENT_LAYOUT_COLUMNS, cells, strict=True))


def test_a_promise_based_long_term_filing_shows_its_class_deadline_and_lock() -> None:
    record = _handled(
        record_for(C.RETIREE_RESETTLED, promise_signed=True),
        date(2026, 9, 1),
        promise_documents_due_on=date(2027, 2, 28),
    )
    row = _row(record, region={"long_term_cancel_lock_months": 6})
    assert row["适用规则"] == "2022年模式"
    assert row["备案人员大类"] == "跨省异地长期居住人员"
    assert row["备案类型"] == "异地安置退休人员"
    assert row["备案方式"] == "个人承诺"
    assert row["所需证明材料"] == "安置地户口"
    assert (row["承诺补齐期限"], row["承诺材料情况"]) == ("2027-02-28", "待补齐")
    assert row["有效期止"] == "长期有效"
    assert row["变更撤销锁定至"] == "2027-03-01"  # 6 months from the handling day
    assert row["办理渠道"] == "线上"
    assert "*" in row["身份证号"] and record.social_security_number not in row.values()
    # without a region lock the national data leave it open
    assert _row(record)["变更撤销锁定至"] == "不限"


def test_a_temporary_filing_has_no_lock_and_a_late_filing_shows_the_care() -> None:
    stay = _handled(
        record_for(C.OTHER_TEMPORARY, late_care_from=date(2026, 11, 18)),
        date(2026, 11, 19),
        valid_from=date(2026, 11, 18),
        valid_until=date(2027, 5, 17),
    )
    row = _row(stay)
    assert row["备案人员大类"] == "跨省临时外出就医人员"
    assert row["备案类型"] == "其他临时外出就医人员"
    assert (row["备案方式"], row["所需证明材料"], row["承诺材料情况"]) == ("证明材料", "", "")
    assert (row["有效期起"], row["有效期止"]) == ("2026-11-18", "2027-05-17")
    assert row["变更撤销锁定至"] == "不限"
    assert row["补办所补就医"] == "2026-11-18至在院"
    done = dataclasses.replace(stay, late_care_until=date(2026, 11, 25))
    assert _row(done)["补办所补就医"] == "2026-11-18至2026-11-25"


def test_promise_outcomes_are_named() -> None:
    base = _handled(record_for(C.LONG_TERM_RESIDENT, promise_signed=True), date(2026, 1, 5))
    overdue = dataclasses.replace(base, promise_documents_due_on=date(2026, 7, 4))
    assert promise_status(overdue, TODAY) == "逾期未补齐"
    supplied = dataclasses.replace(overdue, promise_documents_supplied_on=date(2026, 6, 1))
    assert promise_status(supplied, TODAY) == "已补齐（2026-06-01）"
    lapsed = dataclasses.replace(
        overdue, category=C.OTHER_TEMPORARY, promise_lapsed_from=C.LONG_TERM_RESIDENT
    )
    assert "按其他临时外出就医人员处理（原类型：异地长期居住人员）" in promise_status(lapsed, TODAY)
    false = dataclasses.replace(
        overdue, false_promise_on=date(2026, 8, 1), fund_recovery_required=True
    )
    assert promise_status(false, TODAY) == "虚假承诺（2026-08-01），已撤销备案，需追回医保基金"


def test_a_2017_filing_keeps_its_2017_meaning_and_full_numbers_for_those_who_may_see_them() -> None:
    record = _handled(record_for(C.REFERRAL), date(2021, 3, 2), valid_until=date(2021, 8, 28))
    row = _row(record, mask=False)
    assert (row["适用规则"], row["备案人员大类"]) == ("2017年模式", "异地转诊、急诊人员")
    assert row["备案类型"] == "异地转诊人员"
    assert row["变更撤销锁定至"] == "不限"
    assert row["身份证号"] == record.social_security_number
    # 附件2 keeps the 2017 Henan columns; the current layout is a different table beside it
    assert ANNEX2_COLUMNS[-1] == "人员类别" and "备案人员大类" not in ANNEX2_COLUMNS
