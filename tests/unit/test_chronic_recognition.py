"""门诊慢特病: the dated disease lists and the recognition use cases, on in-memory fakes."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
from fakes_chronic import ChronicDatabase, ChronicUnitOfWork

from yidi.chronic.commands import ChronicService
from yidi.chronic.lists import DiseaseListError, DiseaseLists, parse_national, parse_regional
from yidi.chronic.model import Evidence, ListScope, NewRecognition
from yidi.chronic.ports import PersonRef
from yidi.kernel.access import Principal, Role
from yidi.kernel.clock import FixedClock
from yidi.kernel.errors import YidiError
from yidi.kernel.identity import Gender, make_resident_id
from yidi.kernel.money import Money

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
XIE_ID = make_resident_id("430421", dt.date(1955, 3, 8), 123, Gender.MALE).number
WANG_ID = make_resident_id("410102", dt.date(1950, 7, 1), 88, Gender.FEMALE).number
XIE = PersonRef(1, "PSN0000000000000000000001", "谢某某", XIE_ID, "430421", "310")
WANG = PersonRef(2, "PSN0000000000000000000002", "王某某", WANG_ID, "410102", "390")
HENGYANG = Principal("hengyang", Role.AGENCY_HANDLER, "430400")
ZHENGZHOU = Principal("zhengzhou", Role.AGENCY_HANDLER, "410100")
HUNAN = Principal("hunan", Role.PROVINCE_OFFICER, "430000")
SELF = Principal("xie", Role.INSURED_PERSON, id_number=XIE_ID)
EVIDENCE = Evidence("H43040000001", "李医生", "JD-1")


@pytest.fixture
def db() -> ChronicDatabase:
    database = ChronicDatabase(hospitals={"H45092300001": True, "H99": False})
    database.add_person(XIE)
    database.add_person(WANG)
    return database


@pytest.fixture
def service(db: ChronicDatabase) -> ChronicService:
    return ChronicService(lambda: ChronicUnitOfWork(db), FixedClock(NOW))


def ask(code: str = "M03900", begin: str = "2026-01-01", end: str | None = None) -> NewRecognition:
    return NewRecognition(
        code, dt.date.fromisoformat(begin), dt.date.fromisoformat(end) if end else None, EVIDENCE
    )


def refused_with(code: str, call: object) -> YidiError:
    with pytest.raises(YidiError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    return caught.value


# --- the lists ---------------------------------------------------------------------------


def test_the_national_list_has_the_first_five_diseases_from_september_2021() -> None:
    national = DiseaseLists().national_list()
    assert national.on(dt.date(2021, 8, 31)) == []
    names = {d.name for d in national.on(dt.date(2021, 9, 1))}
    assert {"高血压", "糖尿病", "恶性肿瘤门诊放化疗", "器官移植术后抗排异治疗"} <= names
    assert any(n.startswith("尿毒症透析") for n in names)
    assert all(d.scope is ListScope.NATIONAL and "http" in d.reference for d in national.diseases)


def test_a_county_takes_its_prefectures_own_list_merged_into_the_national_one() -> None:
    lists = DiseaseLists()
    hengyang = lists.for_region("430421")
    assert hengyang.region_code == "430400" and hengyang.illustrative
    hypertension = hengyang.require("M03900", dt.date(2026, 1, 1))
    assert hypertension.scope is ListScope.NATIONAL
    benefit = hypertension.benefit_on(dt.date(2026, 1, 1))
    assert benefit is not None and benefit.annual_limit == Money("1500.00")
    assert lists.for_region("410102").region_code is None  # 郑州 has no own list: national only


def test_a_regional_limit_is_the_one_in_force_on_the_day() -> None:
    copd = DiseaseLists().for_region("430400").require("M05300", dt.date(2024, 6, 1))
    assert copd.scope is ListScope.REGIONAL
    earlier, later = copd.benefit_on(dt.date(2024, 12, 31)), copd.benefit_on(dt.date(2025, 1, 1))
    assert earlier is not None and earlier.annual_limit == Money("1500.00")
    assert later is not None and later.annual_limit == Money("2000.00")


def test_a_regional_disease_ended_by_null_is_off_the_list_from_that_day() -> None:
    text = """
metadata: {illustrative: true}
diseases:
  - code: M04600
    name: 冠心病
    values:
      2023-01-01: {annual_limit: "1200.00", rate: "0.75", reference: 示例}
      2025-01-01: null
"""
    (disease,) = parse_regional(text, "990100", "test")
    assert disease.valid_on(dt.date(2024, 12, 31)) and not disease.valid_on(dt.date(2025, 1, 1))


@pytest.mark.parametrize(
    "text",
    [
        "diseases: [{code: M1, name: 甲, from: 2021-09-01, verified: yes-ish, reference: r}]",
        "diseases: [{code: M1, name: 甲, from: 2021-09-01, verified: true}]",
        "diseases: [{code: M1, name: 甲, from: 2021-09-01, until: 2021-01-01, verified: true, reference: r}]",
        "diseases: [{code: M1, name: 甲, from: 2021-09-01, verified: true, reference: r, bad: 1}]",
        "diseases: [{code: M1, name: 甲, from: 2021-09-01, verified: true, reference: r},"
        " {code: M1, name: 乙, from: 2021-09-01, verified: true, reference: r}]",
    ],
)
def test_a_bad_national_list_is_refused_with_the_entry_named(text: str) -> None:
    with pytest.raises(DiseaseListError) as caught:
        parse_national(text, "test")
    assert caught.value.code == "CHRONIC_LIST_INVALID" and "diseases[" in caught.value.message


def test_a_bare_number_as_a_limit_is_refused() -> None:
    text = """
metadata: {illustrative: true}
diseases:
  - {code: M1, name: 甲, values: {2023-01-01: {annual_limit: 1200.00, reference: r}}}
"""
    with pytest.raises(DiseaseListError):
        parse_regional(text, "990100", "test")


def test_every_shipped_list_parses() -> None:
    assert DiseaseLists().check() == []
    assert (resources.files("yidi") / "policies" / "430400" / "chronic_diseases.yaml").is_file()


# --- recognising -------------------------------------------------------------------------


def test_the_agency_recognises_a_person_of_its_region_and_it_is_audited(
    service: ChronicService, db: ChronicDatabase
) -> None:
    detail = service.recognise(HENGYANG, XIE_ID, ask())
    assert detail.created and detail.recognition.disease_name == "高血压"
    assert detail.recognition.psn_no == XIE.psn_no
    assert [e.action for e in db.audit] == ["chronic.recognise"]
    assert len(db.recognitions) == 1


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (ask("NOPE"), "CHRONIC_DISEASE_UNKNOWN"),
        (ask("M03900", "2021-08-31"), "CHRONIC_DISEASE_NOT_LISTED_ON_DATE"),
        (ask("M04600", "2022-12-31"), "CHRONIC_DISEASE_NOT_LISTED_ON_DATE"),
        (ask("M03900", "2026-05-01", "2026-04-30"), "CHRONIC_RECOGNITION_END_BEFORE_BEGIN"),
        (NewRecognition("M03900", dt.date(2026, 1, 1), None), "CHRONIC_EVIDENCE_REQUIRED"),
        (ask(""), "CHRONIC_DISEASE_CODE_INVALID"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    service: ChronicService, db: ChronicDatabase, request_: NewRecognition, code: str
) -> None:
    refused_with(code, lambda: service.recognise(HENGYANG, XIE_ID, request_))
    assert db.recognitions == {} and db.audit == []


def test_a_regional_disease_is_not_on_another_regions_list(service: ChronicService) -> None:
    # 冠心病 is 衡阳's own disease; 王某某 is insured in 郑州, which lists only the national five.
    refused_with(
        "CHRONIC_DISEASE_UNKNOWN",
        lambda: service.recognise(ZHENGZHOU, WANG_ID, ask("M04600", "2026-01-01")),
    )
    assert service.recognise(ZHENGZHOU, WANG_ID, ask("M01600")).created


def test_overlapping_recognitions_of_one_disease_are_refused(
    service: ChronicService, db: ChronicDatabase
) -> None:
    service.recognise(HENGYANG, XIE_ID, ask(end="2026-06-30"))
    error = refused_with(
        "CHRONIC_RECOGNITION_OVERLAP",
        lambda: service.recognise(HENGYANG, XIE_ID, ask(begin="2026-06-30")),
    )
    assert error.details["recognition_id"] in db.recognitions
    assert service.recognise(HENGYANG, XIE_ID, ask(begin="2026-07-01")).created
    assert service.recognise(HENGYANG, XIE_ID, ask("M01600", begin="2026-03-01")).created
    refused_with(
        "CHRONIC_RECOGNITION_OVERLAP",
        lambda: service.recognise(HENGYANG, XIE_ID, ask(begin="2025-01-01", end="2026-01-01")),
    )


def test_a_retry_returns_the_first_recognition(
    service: ChronicService, db: ChronicDatabase
) -> None:
    first = service.recognise(HENGYANG, XIE_ID, ask(), idempotency=("k", "fp"))
    again = service.recognise(HENGYANG, XIE_ID, ask(), idempotency=("k", "fp"))
    plain = service.recognise(HENGYANG, XIE_ID, ask())
    assert first.recognition.id == again.recognition.id == plain.recognition.id
    assert not plain.created and len(db.recognitions) == 1
    refused_with(
        "IDEMPOTENCY_KEY_REUSED",
        lambda: service.recognise(HENGYANG, XIE_ID, ask("M01600"), idempotency=("k", "other")),
    )


def test_only_the_agency_of_the_persons_region_records(service: ChronicService) -> None:
    refused_with("PERSON_NOT_FOUND", lambda: service.recognise(ZHENGZHOU, XIE_ID, ask()))
    refused_with("ACCESS_DENIED", lambda: service.recognise(HUNAN, XIE_ID, ask()))
    refused_with("ACCESS_DENIED", lambda: service.recognise(SELF, XIE_ID, ask()))


# --- ending and reading ------------------------------------------------------------------


def test_ending_is_recorded_once_and_may_not_move(
    service: ChronicService, db: ChronicDatabase
) -> None:
    rid = service.recognise(HENGYANG, XIE_ID, ask()).recognition.id
    ended = service.end(HENGYANG, rid, dt.date(2026, 10, 31), "复查不再符合")
    assert ended.recognition.end_on == dt.date(2026, 10, 31)
    service.end(HENGYANG, rid, dt.date(2026, 10, 31), "复查不再符合")
    assert [e.action for e in db.audit].count("chronic.end") == 1
    refused_with(
        "CHRONIC_RECOGNITION_ALREADY_ENDED",
        lambda: service.end(HENGYANG, rid, dt.date(2026, 9, 30), "改日期"),
    )
    refused_with(
        "CHRONIC_RECOGNITION_NOT_FOUND",
        lambda: service.end(ZHENGZHOU, rid, dt.date(2026, 9, 30), "别处"),
    )


def test_an_end_must_lie_inside_the_period(service: ChronicService) -> None:
    rid = service.recognise(HENGYANG, XIE_ID, ask(end="2026-12-31")).recognition.id
    refused_with(
        "CHRONIC_RECOGNITION_END_BEFORE_BEGIN",
        lambda: service.end(HENGYANG, rid, dt.date(2025, 12, 31), "太早"),
    )
    refused_with(
        "CHRONIC_RECOGNITION_END_AFTER_PERIOD",
        lambda: service.end(HENGYANG, rid, dt.date(2027, 1, 1), "太晚"),
    )
    refused_with(
        "CHRONIC_END_REASON_REQUIRED", lambda: service.end(HENGYANG, rid, dt.date(2026, 6, 1), " ")
    )


def test_reads_follow_the_scope_and_full_reads_are_audited(
    service: ChronicService, db: ChronicDatabase
) -> None:
    rid = service.recognise(HENGYANG, XIE_ID, ask()).recognition.id
    service.recognise(ZHENGZHOU, WANG_ID, ask("M01600"))
    assert service.list_recognitions(HENGYANG)[0] == 1
    assert service.list_recognitions(HUNAN)[0] == 1
    assert service.list_recognitions(ZHENGZHOU)[0] == 1
    total, rows = service.list_recognitions(SELF)
    assert total == 1 and rows[0][1].id_number == XIE_ID
    refused_with("REGION_NOT_FOUND", lambda: service.list_recognitions(HENGYANG, region="410100"))
    before = len(db.audit)
    for principal in (HENGYANG, HUNAN, SELF):
        assert service.get(principal, rid).person == XIE
    assert len(db.audit) == before + 3
    refused_with("CHRONIC_RECOGNITION_NOT_FOUND", lambda: service.get(ZHENGZHOU, rid))


def test_the_hospital_query_lists_the_recognitions_valid_today(
    service: ChronicService, db: ChronicDatabase
) -> None:
    service.recognise(HENGYANG, XIE_ID, ask())
    service.recognise(HENGYANG, XIE_ID, ask("M01600", "2025-01-01", "2025-12-31"))
    found = service.for_hospital("H45092300001", "nhsa:C01", XIE.psn_no)
    assert [r.disease_code for r, _ in found.items] == ["M03900"]
    assert db.audit[-1].action == "chronic.read" and "5301" in db.audit[-1].reason
    on_2025 = service.for_hospital("H45092300001", "nhsa:C01", XIE.psn_no, dt.date(2025, 6, 1))
    assert [r.disease_code for r, _ in on_2025.items] == ["M01600"]
    refused_with("HOSPITAL_NOT_FOUND", lambda: service.for_hospital("H00", "x", XIE.psn_no))
    refused_with("HOSPITAL_NOT_CONNECTED", lambda: service.for_hospital("H99", "x", XIE.psn_no))
    refused_with("PERSON_NOT_FOUND", lambda: service.for_hospital("H45092300001", "x", "PSN9"))
