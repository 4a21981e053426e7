from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from yidi.catalog.files import catalog_to_csv, sample_catalog
from yidi.entrypoints.cli.main import app

CLAIM = {
    "insured_region": "430400",
    "treatment_region": "450000",
    "insurance_type": "310",
    "person_type": "employee_active",
    "hospital_level": 3,
    "filing_category": "long_term_resident",
    "admitted_on": "2017-05-08",
    "discharged_on": "2017-05-15",
    "fee_lines": [
        {
            "catalog_code": "003311000010000",
            "quantity": "1",
            "unit_price": "5000.00",
            "occurred_at": "2017-05-10T10:00:00",
        },
        {
            "catalog_code": "XA11GAV001A001010100010",
            "quantity": "2",
            "unit_price": "25.00",
            "occurred_at": "2017-05-10T10:00:00",
        },
    ],
}


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_settle_prints_national_fields_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["settle", str(_write(tmp_path, CLAIM)), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["setlinfo"]["medfee_sumamt"] == "5050.00"
    assert body["setlinfo"]["hifp_pay"] == "2960.00"
    assert body["setlinfo"]["psn_part_amt"] == "2090.00"
    assert body["lines"][1]["fulamt_ownpay_amt"] == "50.00"
    assert any("起付线 1,300.00 元" in text for text in body["explanation"])


def test_settle_prints_a_table_by_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["settle", str(_write(tmp_path, CLAIM))])
    assert result.exit_code == 0, result.output
    assert "hifp_pay" in result.output and "2,960.00" in result.output


def test_settle_uses_a_catalogue_file_when_given(tmp_path: Path) -> None:
    text = catalog_to_csv(sample_catalog("450000")).replace(
        "XA11GAV001A001010100010,维生素C泡腾片,drug,03",
        "XA11GAV001A001010100010,维生素C泡腾片,drug,01",
    )
    catalogue = tmp_path / "catalog.csv"
    catalogue.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["settle", str(_write(tmp_path, CLAIM)), "--json", "--catalog", str(catalogue)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["setlinfo"]["fulamt_ownpay_amt"] == "0.00"


def test_settle_explains_a_refusal_and_exits_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["settle", str(_write(tmp_path, {**CLAIM, "filing_category": None}))]
    )
    assert result.exit_code == 2
    assert "SETTLEMENT_NOT_DIRECT" in result.output


def test_settle_manual_computes_unfiled_care(tmp_path: Path) -> None:
    path = _write(tmp_path, {**CLAIM, "filing_category": None})
    result = CliRunner().invoke(app, ["settle", str(path), "--json", "--manual"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["setlinfo"]["hifp_pay"] == "2220.00"


CASES = Path(__file__).parents[1] / "cases"
OUTPATIENT = {
    **CLAIM,
    "insured_region": "990100",
    "treatment_region": "430400",
    "encounter_type": "outpatient",
    "hospital_level": 2,
    "admitted_on": "2024-05-10",
    "discharged_on": "2024-05-10",
    "fee_lines": [
        {
            "catalog_code": "002501000010000",
            "quantity": "1",
            "unit_price": "100.00",
            "occurred_at": "2024-05-10T09:00:00",
        }
    ],
}


def test_settle_against_an_analysts_policy_root(tmp_path: Path) -> None:
    claim = str(_write(tmp_path, OUTPATIENT))
    root = str(CASES / "policies")
    result = CliRunner().invoke(app, ["settle", claim, "--json", "--policy-root", root])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    # 每次起付线 10.00，(100 − 10) × 50% = 45.00；门诊不计入住院次数
    assert body["scheme"] == "outpatient"
    assert body["setlinfo"]["act_pay_dedc"] == "10.00"
    assert body["setlinfo"]["hifp_pay"] == "45.00"
    assert body["year_to_date_after"]["admissions_count"] == 0
    assert body["year_to_date_after"]["counters"] == {
        "outpatient.deductible_used": "10.00",
        "outpatient.pooled_fund_paid": "45.00",
    }
    # the same through the environment variable
    by_env = CliRunner().invoke(app, ["settle", claim, "--json"], env={"YIDI_POLICY_ROOT": root})
    assert by_env.exit_code == 0 and json.loads(by_env.output)["setlinfo"] == body["setlinfo"]
    # and without it the shipped policies have no region 990100
    shipped = CliRunner().invoke(app, ["settle", claim, "--json"], env={"YIDI_POLICY_ROOT": ""})
    assert shipped.exit_code == 2 and "POLICY_REGION_UNKNOWN" in shipped.output


def test_the_reported_outpatient_claim_is_not_an_admission(tmp_path: Path) -> None:
    outpatient = {
        **CLAIM,
        "encounter_type": "outpatient",
        "discharged_on": "2017-05-08",
        "fee_lines": [
            {
                "catalog_code": "002501000010000",
                "quantity": "1",
                "unit_price": "50.00",
                "occurred_at": "2017-05-08T09:00:00",
            }
        ],
    }
    result = CliRunner().invoke(app, ["settle", str(_write(tmp_path, outpatient)), "--manual"])
    assert result.exit_code == 0, result.output
    assert "次住院" not in result.output and "不计入住院次数" in result.output
