"""The money pages over HTTP: 附件3/附件4, clearing statements, the statistics dashboard, and
the totals per clearing type they and their downloads show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from yidi.bootstrap import Container
from yidi.funds.commands import record_settlement_fact, run_clearing, set_prepayment
from yidi.funds.model import ClearingKind, ClearingLevel, Prepayment
from yidi.kernel.money import Money

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from funds_helpers import make_fact, record_facts

from web_helpers import PAGE, csrf_token, sign_in, table_rows

AT = dt.datetime(2017, 10, 1, 9, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("demo_world")


def _settlements(container: Container) -> None:
    """Zhengzhou's insured treated in Guangxi, Beijing and Luoyang; Hengyang's in Guangxi."""
    facts = [
        make_fact("Z1", insured="410100", treatment="450923"),
        make_fact("Z2", insured="410100", treatment="450923", on=dt.date(2017, 8, 3)),
        make_fact("Z3", insured="410100", treatment="110101", pooled="900.00"),
        make_fact("Z4", insured="410100", treatment="410302", on=dt.date(2016, 5, 1)),
        make_fact("Z5", insured="410100", treatment="410302", on=dt.date(2015, 5, 1)),
        make_fact("H1", insured="430400", treatment="450923", pooled="1234.56"),
    ]
    record_facts(container.uow, facts, AT)


# --- statistics -------------------------------------------------------------------------


def test_statistics_without_settlements_say_so_instead_of_showing_numbers(
    web: TestClient,
) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/statistics", headers=PAGE)
    assert page.status_code == 200
    assert 'id="no-data"' in page.text and "暂无结算数据" in page.text
    assert "<canvas" not in page.text and "chart.umd.min.js" not in page.text


def test_statistics_show_months_and_provinces_with_the_numbers_and_the_seed_sentence(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "zhengzhou")
    page = web.get("/funds/statistics", headers=PAGE)
    assert page.status_code == 200
    assert table_rows(page.text, 'data-numbers="month-times"') == [
        ["2015-05", "1", "1,000.00", "600.00"],
        ["2016-05", "1", "1,000.00", "600.00"],
        ["2017-08", "1", "1,000.00", "600.00"],
        ["2017-09", "2", "2,000.00", "1,500.00"],
        ["合计", "5", "5,000.00", "3,300.00"],
    ]
    # Luoyang is in Henan: not outbound for the province, but for Zhengzhou it is.
    assert table_rows(page.text, 'data-numbers="region-times"')[-1] == [
        "合计",
        "5",
        "5,000.00",
        "3,300.00",
    ]
    sentence = re.search(r'id="sentence"[^>]*>([^<]+)<', page.text)
    assert sentence is not None
    assert sentence.group(1) == (
        "截至11月20日，郑州市参保人员在河南、广西、北京异地就医直接结算5人次，医保基金支出0.33万元。"
    )  # ranked by person-times (河南 2, 广西 2, 北京 1), ties by province code
    chart = json.loads(
        re.search(r'id="month-spend">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    )
    assert chart["values"] == ["600.00", "600.00", "600.00", "1500.00"]


def test_an_agency_sees_only_its_own_region_and_a_province_may_choose_its_cities(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "hengyang")
    own = web.get("/funds/statistics", headers=PAGE)
    assert "衡阳市参保人员在广西异地就医直接结算1人次" in own.text
    other = web.get("/funds/statistics?region=410100", headers=PAGE)
    assert other.status_code == 422
    assert 'id="region-error"' in other.text and "请选择本单位可查看的地区" in other.text
    assert "郑州" not in other.text.split('id="region-error"', 1)[1]
    download = web.get("/funds/statistics/download?region=410100&group_by=month", headers=PAGE)
    assert download.status_code == 404
    web.cookies.clear()
    sign_in(web, "henan")
    city = web.get("/funds/statistics?region=410100&direction=outbound", headers=PAGE)
    assert city.status_code == 200 and "郑州市参保人员" in city.text


def test_statistics_date_errors_are_named_next_to_the_field(web: TestClient) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/statistics?from=2017-09-30&to=2017-09-01", headers=PAGE)
    assert page.status_code == 422
    assert re.search(r'id="to-error"[^>]*>结束日期不能早于开始日期<', page.text)
    bad = web.get("/funds/statistics?from=2017-13-01", headers=PAGE)
    assert re.search(r'id="from-error"[^>]*>请输入有效日期<', bad.text)


def test_statistics_download_carries_the_same_numbers_as_the_page(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "zhengzhou")
    response = web.get(
        "/funds/statistics/download?region=410100&direction=outbound&group_by=month&format=csv",
        headers=PAGE,
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    last = response.text.strip().splitlines()[-1].split(",")
    assert last[2] == "5" and last[-1] == "3300.00"


def test_a_cashier_may_not_open_the_money_pages(web: TestClient) -> None:
    sign_in(web, "nhfy1")
    for path in ("/funds/statistics", "/funds/clearing", "/funds/prepayment"):
        response = web.get(path, headers=PAGE)
        assert response.status_code == 403, path
        assert "无权访问" in response.text


def test_anonymous_is_sent_to_sign_in_from_the_money_pages(web: TestClient) -> None:
    response = web.get("/funds/statistics", headers=PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Ffunds%2Fstatistics"


# --- clearing ---------------------------------------------------------------------------


def test_a_clearing_officer_runs_the_month_with_the_form_and_downloads_it(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "clearing")
    before = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    assert before.status_code == 200 and 'id="not-run"' in before.text
    token = csrf_token(web, "/funds/clearing?month=2017-09")
    run = web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "csrf_token": token},
        headers=PAGE,
        follow_redirects=False,
    )
    assert run.status_code == 303
    assert run.headers["location"] == "/funds/clearing?month=2017-09&level=province&ran=1"
    after = web.get(run.headers["location"], headers=PAGE)
    assert 'data-status="open"' in after.text and "清算已完成" in after.text
    rows = re.findall(r"<tr(?: class=\"mine\")?><td>([^<]+)</td><td>([^<]+)</td>", after.text)
    assert rows == [
        ("河南省", "北京市"),
        ("河南省", "广西壮族自治区"),
        ("湖南省", "广西壮族自治区"),
    ]
    assert "2,734.56" in after.text  # 900.00 + 600.00 + 1234.56 due in September
    xlsx = web.get("/funds/clearing/download?month=2017-09&level=province&format=xlsx")
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content))["清算单"]["B4"].value == "河南省"
    as_json = web.get("/funds/clearing/download?month=2017-09&level=province&format=json")
    assert json.loads(as_json.content)["due_total"] == "2734.56"


def test_running_clearing_without_the_csrf_token_changes_nothing(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "clearing")
    refused = web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "csrf_token": "forged"},
        headers=PAGE,
    )
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert 'id="not-run"' in web.get("/funds/clearing?month=2017-09", headers=PAGE).text


def test_an_agency_reads_statements_but_may_not_run_clearing(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "hengyang")
    page = web.get("/funds/clearing?month=2017-09", headers=PAGE)
    assert page.status_code == 200 and 'id="run-form"' not in page.text
    token = csrf_token(web, "/funds/clearing")
    refused = web.post(
        "/funds/clearing", data={"month": "2017-09", "csrf_token": token}, headers=PAGE
    )
    assert refused.status_code == 403


def test_a_malformed_month_is_named_next_to_the_month_field(web: TestClient) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/clearing?month=2017-9", headers=PAGE)
    assert page.status_code == 422
    assert re.search(r'id="month-error"[^>]*>请按“年-月”填写', page.text)


def test_only_the_clearing_centre_closes_a_month_and_reopens_it_with_a_reason(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "henan")
    page = web.get("/funds/clearing?month=2017-09", headers=PAGE)
    assert 'id="run-form"' in page.text and 'name="close"' not in page.text
    token = csrf_token(web, "/funds/clearing")
    refused = web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "close": "1", "csrf_token": token},
        headers=PAGE,
    )
    assert refused.status_code == 403
    web.post("/signout", data={"csrf_token": csrf_token(web, "/home")}, headers=PAGE)
    sign_in(web, "clearing")
    token = csrf_token(web, "/funds/clearing")
    unconfirmed = web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "close": "1", "csrf_token": token},
        headers=PAGE,
    )
    assert unconfirmed.status_code == 422 and 'id="confirm_close-error"' in unconfirmed.text
    assert 'id="close" name="close" value="1" checked' in unconfirmed.text  # the choice stays
    page = web.get("/funds/clearing?month=2017-09", headers=PAGE)
    assert 'data-status="closed"' not in page.text  # nothing was closed
    web.post(
        "/funds/clearing",
        data={
            "month": "2017-09",
            "level": "province",
            "close": "1",
            "confirm_close": "1",
            "csrf_token": token,
        },
        headers=PAGE,
    )
    page = web.get("/funds/clearing?month=2017-09", headers=PAGE)
    assert 'data-status="closed"' in page.text and 'id="run-form"' not in page.text
    assert 'id="reopen-form"' in page.text
    token = csrf_token(web, "/funds/clearing?month=2017-09")
    no_reason = web.post(
        "/funds/clearing/reopen",
        data={"month": "2017-09", "level": "province", "reason": " ", "csrf_token": token},
        headers=PAGE,
    )
    assert no_reason.status_code == 422 and "重新开账须写明原因" in no_reason.text
    reopened = web.post(
        "/funds/clearing/reopen",
        data={
            "month": "2017-09",
            "level": "province",
            "reason": "误关账：9月广西结算未到齐",
            "csrf_token": token,
        },
        headers=PAGE,
        follow_redirects=False,
    )
    assert reopened.status_code == 303
    page = web.get(reopened.headers["location"], headers=PAGE)
    assert 'data-status="open"' in page.text and "已重新开账" in page.text
    with container.uow() as uow:
        (entry,) = [c.entry for c in uow.audit.walk() if c.entry.action == "clearing.reopen"]
    assert entry.actor == "clearing" and "误关账" in entry.reason


def test_a_month_that_has_not_ended_cannot_be_closed(web: TestClient, container: Container) -> None:
    _settlements(container)
    sign_in(web, "clearing")
    month = container.clock.today().strftime("%Y-%m")
    token = csrf_token(web, "/funds/clearing")
    page = web.post(
        "/funds/clearing",
        data={
            "month": month,
            "level": "province",
            "close": "1",
            "confirm_close": "1",
            "csrf_token": token,
        },
        headers=PAGE,
    )
    assert page.status_code == 422 and "尚未结束" in page.text
    assert (
        'data-status="closed"' not in web.get(f"/funds/clearing?month={month}", headers=PAGE).text
    )


def test_an_agency_sees_only_the_clearing_lines_of_its_own_region(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "clearing")
    token = csrf_token(web, "/funds/clearing")
    web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "csrf_token": token},
        headers=PAGE,
    )
    web.post("/signout", data={"csrf_token": csrf_token(web, "/home")}, headers=PAGE)
    sign_in(web, "hengyang")
    page = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    rows = re.findall(r"<tr(?: class=\"mine\")?><td>([^<]+)</td><td>([^<]+)</td>", page.text)
    assert rows == [("湖南省", "广西壮族自治区")]
    assert "河南省" not in page.text and "1,234.56" in page.text
    as_json = web.get("/funds/clearing/download?month=2017-09&level=province&format=json")
    lines = json.loads(as_json.content)["lines"]
    assert [(line["insured_region_code"], line["treatment_region_code"]) for line in lines] == [
        ("430000", "450000")
    ]
    xlsx = load_workbook(
        io.BytesIO(
            web.get("/funds/clearing/download?month=2017-09&level=province&format=xlsx").content
        )
    )
    assert "河南省" not in [cell.value for row in xlsx["清算单"].iter_rows() for cell in row]


# --- 附件3 / 附件4 ----------------------------------------------------------------------


def test_the_annex3_page_shows_18_columns_history_estimate_and_the_chart_numbers(
    web: TestClient, container: Container
) -> None:
    _settlements(container)
    sign_in(web, "henan")
    page = web.get("/funds/prepayment?region=410100&year=2018&annex=3", headers=PAGE)
    assert page.status_code == 200
    assert "2018年度省内异地就医费用支出测算表" in page.text
    head = page.text.split('id="annex-table"', 1)[1].split("</thead>", 1)[0]
    assert head.count('class="colno"') == 18
    luoyang = re.search(r"<th scope=\"row\">洛阳市</th>((?:<td[^>]*>[^<]*</td>){18})", page.text)
    assert luoyang is not None
    cells = re.findall(r">([^<]*)</td>", luoyang.group(1))
    assert cells[:2] == ["1", "400.00"]  # (0 + 600 + 600) / 3 years; 2 / 3 person-times -> 1
    assert table_rows(page.text, 'data-numbers="year-chart"') == [
        ["2015", "1", "600.00"],
        ["2016", "1", "600.00"],
        ["2017", "0", "0.00"],
        ["2018年测算", "1", "400.00"],
    ]
    link = re.search(r'href="(/funds/prepayment/download\?[^"]+)"', page.text)
    assert link is not None
    workbook = web.get(link.group(1).replace("&amp;", "&"))
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content))["附件3"]
    assert sheet["A2"].value == "2018年度省内异地就医费用支出测算表"


def test_annex4_without_history_says_the_estimate_is_zero(web: TestClient) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/prepayment?region=410000&year=2018&annex=4", headers=PAGE)
    assert page.status_code == 200
    assert "省外异地就医费用支出测算表" in page.text and 'id="no-history"' in page.text


def test_the_annex_form_names_each_wrong_field(web: TestClient) -> None:
    sign_in(web, "henan")
    page = web.get("/funds/prepayment?year=1999&months=13&annex=5", headers=PAGE)
    assert page.status_code == 422
    assert re.search(r'id="year-error"[^>]*>请输入2000至2100之间的年度<', page.text)
    assert re.search(r'id="months-error"[^>]*>预付月数应在1至12之间<', page.text)
    assert 'id="annex-error"' in page.text


def test_an_agency_estimates_only_its_own_region(web: TestClient) -> None:
    sign_in(web, "zhengzhou")
    own = web.get("/funds/prepayment?year=2018", headers=PAGE)
    assert own.status_code == 200 and "市(县、市)：郑州市" in own.text
    other = web.get("/funds/prepayment?region=410300&year=2018", headers=PAGE)
    assert other.status_code == 422 and 'id="region-error"' in other.text
    assert web.get("/funds/prepayment/download?region=410300&year=2018").status_code == 404
    web.cookies.clear()
    sign_in(web, "clearing")
    assert web.get("/funds/prepayment", headers=PAGE).status_code == 403


def test_the_prepayment_page_shows_this_years_usage_with_its_warning_label(
    web: TestClient, container: Container
) -> None:
    with container.uow() as uow:
        for setl_id, treatment, pooled in (("U1", "450923", "950.00"), ("U2", "110101", "750.00")):
            record_settlement_fact(
                uow,
                make_fact(
                    setl_id,
                    insured="410100",
                    treatment=treatment,
                    on=dt.date(2026, 10, 9),
                    pooled=pooled,
                ),
                AT,
            )
        uow.commit()
    for treatment in ("450000", "110000"):
        set_prepayment(
            container.uow(),
            Prepayment(
                ClearingLevel.PROVINCE,
                "410000",
                treatment,
                Money.of("1000.00"),
                dt.date(2026, 1, 1),
            ),
        )
    run_clearing(container.uow(), container.clock, "2026-10", ClearingLevel.PROVINCE)
    sign_in(web, "henan")
    page = web.get("/funds/prepayment", headers=PAGE)
    assert page.status_code == 200
    section = page.text.split('id="prepayment-usage"', 1)[1].split("</section>", 1)[0]
    assert (
        "2026年预付金使用情况与预警" in section
        and "达到70%为黄色预警，达到90%为红色预警" in section
    )
    rows = re.findall(r'<tr class="usage-(\w+)">(.*?)</tr>', section, flags=re.S)
    cells = {
        kind: [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for kind, row in rows
    }
    assert cells["red"][1:] == [
        "河南省",
        "广西壮族自治区",
        "1,000.00",
        "950.00",
        "95.00%",
        "红色预警",
        "357.15",
    ]
    assert cells["yellow"][1:] == [
        "河南省",
        "北京市",
        "1,000.00",
        "750.00",
        "75.00%",
        "黄色预警",
        "71.43",
    ]
    sign_in(web, "hengyang")
    theirs = web.get("/funds/prepayment", headers=PAGE).text
    assert "本年度暂无预付金或清算记录" in theirs.split('id="prepayment-usage"', 1)[1]


# --- clearing types (清算类别: 住院 21, 门诊 11, 药店购药 41) beside the overall totals ---------


def _settlements_by_kind(container: Container) -> None:
    """Zhengzhou's insured in Guangxi: a stay, an outpatient visit and a pharmacy purchase."""
    facts = [
        make_fact("K1", insured="410100", treatment="450923"),
        dataclasses.replace(
            make_fact("K2", insured="410100", treatment="450923", pooled="100.00"),
            clearing_kind=ClearingKind.OUTPATIENT,
        ),
        dataclasses.replace(
            make_fact("K3", insured="410100", treatment="450923", pooled="20.00"),
            clearing_kind=ClearingKind.PHARMACY,
        ),
    ]
    record_facts(container.uow, facts, AT)


def test_the_statistics_page_and_downloads_split_the_total_by_clearing_type(
    web: TestClient, container: Container
) -> None:
    _settlements_by_kind(container)
    sign_in(web, "zhengzhou")
    page = web.get("/funds/statistics", headers=PAGE)
    assert page.status_code == 200
    assert table_rows(page.text, 'data-numbers="clearing-types"') == [
        ["住院（21）", "1", "1,000.00", "600.00"],
        ["门诊（11）", "1", "1,000.00", "100.00"],
        ["药店购药（41）", "1", "1,000.00", "20.00"],
        ["合计", "3", "3,000.00", "720.00"],
    ]
    query = "region=410100&direction=outbound"
    by_type = web.get(f"/funds/statistics/download?{query}&group_by=clearing_type&format=csv")
    assert by_type.status_code == 200
    lines = [line.split(",") for line in by_type.text.lstrip("\ufeff").strip().splitlines()]
    assert [(row[0], row[1], row[2], row[-1]) for row in lines[1:]] == [
        ("11", "门诊", "1", "100.00"),
        ("21", "住院", "1", "600.00"),
        ("41", "药店购药", "1", "20.00"),
        ("", "合计", "3", "720.00"),
    ]
    xlsx = web.get(f"/funds/statistics/download?{query}&group_by=month&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["按清算类别"]
    assert [(sheet.cell(r, 1).value, sheet.cell(r, 3).value) for r in (3, 4, 5)] == [
        ("21", 1),
        ("11", 1),
        ("41", 1),
    ]


def test_the_clearing_page_and_workbook_split_the_due_by_clearing_type(
    web: TestClient, container: Container
) -> None:
    _settlements_by_kind(container)
    sign_in(web, "clearing")
    token = csrf_token(web, "/funds/clearing?month=2017-09")
    web.post(
        "/funds/clearing",
        data={"month": "2017-09", "level": "province", "csrf_token": token},
        headers=PAGE,
    )
    page = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    assert table_rows(page.text, 'id="kinds-table"') == [
        ["住院（21）", "1", "600.00"],
        ["门诊（11）", "1", "100.00"],
        ["药店购药（41）", "1", "20.00"],
        ["合计", "3", "720.00"],
    ]
    xlsx = web.get("/funds/clearing/download?month=2017-09&level=province&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["按清算类别"]
    assert [sheet.cell(5, c).value for c in range(1, 9)] == ["合计", None, 1, 600, 1, 100, 1, 20]


def test_a_statement_stored_before_clearing_types_says_so(
    web: TestClient, container: Container
) -> None:
    _settlements_by_kind(container)
    run_clearing(container.uow(), container.clock, "2017-09", ClearingLevel.PROVINCE)
    from sqlalchemy import update

    from yidi.platform.tables import clearing_runs

    with container.uow() as uow:  # a statement as stored before: no by_kind anywhere
        (row,) = uow.session.execute(clearing_runs.select()).all()
        old = re.sub(r',"by_kind":\{[^{}]*(\{[^{}]*\}[^{}]*)*\}', "", row.statement_json)
        assert "by_kind" not in old
        uow.session.execute(update(clearing_runs).values(statement_json=old))
        uow.commit()
    sign_in(web, "clearing")
    page = web.get("/funds/clearing?month=2017-09&level=province", headers=PAGE)
    assert page.status_code == 200 and 'id="kinds-unknown"' in page.text
    assert 'id="kinds-table"' not in page.text
