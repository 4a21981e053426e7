"""The dated national filing rules: the 2017 model before 医保发〔2022〕22号 took effect, 2022 after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yidi.filing.model.evidence import EvidenceKind
from yidi.kernel.errors import InvalidInput, Refused
from yidi.kernel.insurance import FilingCategory as C
from yidi.policy.national import (
    FilingClass,
    ValidityKind,
    add_months,
    model_2022_from,
    national_eras,
    national_rules_on,
    parse_national_rules,
)

BEFORE = dt.date(2022, 7, 31)
FROM = dt.date(2022, 8, 1)


def test_the_2022_model_starts_on_the_date_the_notice_gives() -> None:
    assert model_2022_from() == FROM
    assert national_rules_on(BEFORE).era == "2017"
    assert national_rules_on(FROM).era == "2022"
    assert national_rules_on(BEFORE).effective_until == FROM


def test_2017_has_five_types_and_no_other_temporary() -> None:
    model = national_rules_on(dt.date(2018, 3, 1))
    assert set(model.types) == {
        C.RETIREE_RESETTLED,
        C.LONG_TERM_RESIDENT,
        C.POSTED_WORKER,
        C.REFERRAL,
        C.EMERGENCY,
    }
    with pytest.raises(Refused) as caught:
        model.type_rule(C.OTHER_TEMPORARY)
    assert caught.value.code == "FILING_TYPE_NOT_IN_FORCE"
    assert "其他临时外出就医人员" in caught.value.message


def test_2022_has_two_classes_of_three_types() -> None:
    model = national_rules_on(dt.date(2026, 12, 1))
    by_class = {
        cls: {c for c, rule in model.types.items() if rule.filing_class is cls}
        for cls in FilingClass
    }
    assert by_class[FilingClass.LONG_TERM] == {
        C.RETIREE_RESETTLED,
        C.LONG_TERM_RESIDENT,
        C.POSTED_WORKER,
    }
    assert by_class[FilingClass.TEMPORARY] == {C.REFERRAL, C.EMERGENCY, C.OTHER_TEMPORARY}
    assert model.class_labels[FilingClass.LONG_TERM] == "跨省异地长期居住人员"
    assert model.class_labels[FilingClass.TEMPORARY] == "跨省临时外出就医人员"


def test_2017_categories_keep_their_class_in_both_models() -> None:
    old, new = national_eras()
    for category, rule in old.types.items():
        assert new.types[category].filing_class is rule.filing_class
        assert new.types[category].proof == rule.proof


def test_promise_only_from_2022_and_only_for_long_term_types() -> None:
    old, new = national_rules_on(BEFORE), national_rules_on(FROM)
    assert not any(old.promise_allowed_for(c) for c in old.types)
    assert {c for c in new.types if new.promise_allowed_for(c)} == {
        C.RETIREE_RESETTLED,
        C.LONG_TERM_RESIDENT,
        C.POSTED_WORKER,
    }
    assert new.promise_lapse_to is C.OTHER_TEMPORARY
    with pytest.raises(Refused) as caught:
        old.promise_documents_due(BEFORE)
    assert caught.value.code == "FILING_PROMISE_NOT_IN_FORCE"


def test_promise_deadline_is_national_default_or_region_choice() -> None:
    model = national_rules_on(FROM)
    assert model.promise_documents_due(dt.date(2023, 1, 1)) == dt.date(2023, 1, 1) + dt.timedelta(
        days=180
    )
    regional = model.for_region({"promise_documents_due_days": 90})
    assert regional.promise_documents_due(dt.date(2023, 1, 1)) == dt.date(2023, 4, 1)


def test_emergency_3_working_days_in_2017_hospital_flag_in_2022() -> None:
    old, new = national_rules_on(BEFORE), national_rules_on(FROM)
    assert old.emergency_filing_deadline_working_days == 3
    assert not old.emergency_flag_counts_as_filed
    assert new.emergency_filing_deadline_working_days is None
    assert new.emergency_flag_counts_as_filed
    assert "第三十四条" in new.emergency_source


def test_late_filing_settles_directly_only_from_2022() -> None:
    assert not national_rules_on(BEFORE).late_filing_settles_directly
    assert national_rules_on(FROM).late_filing_settles_directly


def test_rate_reduction_ceilings_from_2022_only() -> None:
    assert dict(national_rules_on(BEFORE).rate_reduction_ceilings) == {}
    assert dict(national_rules_on(FROM).rate_reduction_ceilings) == {
        C.REFERRAL: Decimal("0.10"),
        C.EMERGENCY: Decimal("0.10"),
        C.OTHER_TEMPORARY: Decimal("0.20"),
    }


def test_temporary_validity_at_least_six_months_with_repeated_visits() -> None:
    model = national_rules_on(FROM)
    for category in (C.REFERRAL, C.EMERGENCY, C.OTHER_TEMPORARY):
        validity = model.type_rule(category).validity
        assert validity is not None and validity.kind is ValidityKind.MONTHS
        assert validity.months == 6 and validity.repeated_visits
    assert model.valid_until(C.OTHER_TEMPORARY, dt.date(2023, 8, 31)) == dt.date(2024, 2, 28)
    assert model.valid_until(C.LONG_TERM_RESIDENT, dt.date(2023, 8, 31)) is None
    # 2017: the era fixes no validity (the local rules table does).
    assert national_rules_on(BEFORE).valid_until(C.REFERRAL, BEFORE) is None


def test_region_may_lengthen_but_not_shorten_temporary_validity() -> None:
    model = national_rules_on(FROM)
    year = model.for_region({"temporary_validity_months": 12})
    assert year.valid_until(C.REFERRAL, dt.date(2023, 1, 1)) == dt.date(2023, 12, 31)
    with pytest.raises(InvalidInput) as caught:
        model.for_region({"temporary_validity_months": 3})
    assert caught.value.code == "NATIONAL_RULE_VALIDITY_FLOOR"
    with pytest.raises(InvalidInput) as unknown:
        model.for_region({"rate_reduction_ceilings": 1})
    assert unknown.value.code == "NATIONAL_RULE_OVERRIDE_UNKNOWN"


def test_cancel_lock_is_a_region_parameter_for_long_term_only() -> None:
    model = national_rules_on(FROM)
    assert model.cancel_locked_until(C.LONG_TERM_RESIDENT, dt.date(2023, 1, 15)) is None
    anshan_like = model.for_region({"long_term_cancel_lock_months": 6})
    assert anshan_like.cancel_locked_until(C.LONG_TERM_RESIDENT, dt.date(2023, 1, 15)) == dt.date(
        2023, 7, 15
    )
    # temporary filings stay cancellable at any time
    assert anshan_like.cancel_locked_until(C.OTHER_TEMPORARY, dt.date(2023, 1, 15)) is None


def test_2022_proof_lists_and_credentials() -> None:
    old, new = national_rules_on(BEFORE), national_rules_on(FROM)
    assert old.credentials == ("social_security_card",)
    assert set(new.credentials) == {"nhsa_e_credential", "resident_id_card", "social_security_card"}
    assert new.type_rule(C.OTHER_TEMPORARY).proof == ()
    assert new.type_rule(C.RETIREE_RESETTLED).proof == (EvidenceKind.HOUSEHOLD_REGISTRATION,)


def test_every_2022_rule_cites_a_url() -> None:
    model = national_rules_on(FROM)
    texts = [rule.source for rule in model.types.values()] + [
        model.promise_source,
        model.emergency_source,
        model.late_filing_source,
        model.rate_reduction_source,
    ]
    assert all("http" in text for text in texts)


def test_no_rules_before_the_first_era() -> None:
    with pytest.raises(Refused) as caught:
        national_rules_on(dt.date(2010, 1, 1))
    assert caught.value.code == "NATIONAL_RULES_NOT_IN_FORCE"


def test_parse_orders_eras_by_date() -> None:
    text = "eras:\n" + "\n".join(
        f"  - id: '{year}'\n    label_zh: m{year}\n    effective_from: {year}-01-01\n"
        "    sources: [s]\n    credentials: [c]\n    promise_allowed: false\n"
        "    classes: {temporary: {label_zh: t}}\n"
        "    emergency: {hospital_flag_counts_as_filed: false, source: e}\n"
        "    late_filing_settles_directly: false\n    late_filing_source: l\n"
        "    online_review: {working_days: null, source: o}\n"
        "    types: {referral: {class: temporary, label_zh: r, cancel_lock_months: 0}}"
        for year in (2030, 2020)
    )
    eras = parse_national_rules(text)
    assert [e.era for e in eras] == ["2020", "2030"]
    assert eras[0].effective_until == dt.date(2030, 1, 1)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 5, 15), 12) == dt.date(2024, 5, 15)


def test_2017_classes_are_labelled_from_the_seeds() -> None:
    old = national_rules_on(BEFORE)
    assert old.class_labels[FilingClass.LONG_TERM] == "异地居住人员"
    assert old.class_of(C.REFERRAL) is FilingClass.TEMPORARY


def test_filing_rules_cli_shows_the_model_of_a_date() -> None:
    from typer.testing import CliRunner

    from yidi.entrypoints.cli.main import app

    old = CliRunner().invoke(app, ["filing", "rules", "--date", "2021-06-01"])
    assert old.exit_code == 0 and "2017年模式" in old.output
    assert "other_temporary" not in old.output
    new = CliRunner().invoke(app, ["filing", "rules", "--date", "2026-12-01"])
    assert new.exit_code == 0 and "跨省临时外出就医人员 / 其他临时外出就医人员" in new.output
    bad = CliRunner().invoke(app, ["filing", "rules", "--date", "2026-13-01"])
    assert bad.exit_code == 2


def test_every_type_states_its_cancel_lock_in_the_data_no_code_default() -> None:
    from importlib import resources

    old = national_rules_on(BEFORE)
    assert {old.cancel_lock_months(category) for category in old.types} == {0}
    text = (resources.files("yidi") / "data" / "national" / "filing_rules.yaml").read_text("utf-8")
    # the 2017 referral type without its lock: the file is refused, not read as 0
    broken = text.replace(
        "        proof: [referral_approval]\n        cancel_lock_months: {value: 0, region_parameter: false}\n",
        "        proof: [referral_approval]\n",
        1,
    )
    assert broken != text
    with pytest.raises(KeyError):
        parse_national_rules(broken)


def test_the_emergency_deadline_is_dated_rule_data() -> None:
    assert national_rules_on(BEFORE).emergency_filing_deadline_working_days == 3
    assert "三个工作日" in national_rules_on(BEFORE).emergency_source
    assert national_rules_on(FROM).emergency_filing_deadline_working_days is None
