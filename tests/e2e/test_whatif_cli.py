"""``yidi whatif`` end to end: a claims file, a candidate tree with a lower deductible; the
reported fund delta equals the per-claim engine's differences, summed."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
from typer.testing import CliRunner

from yidi.catalog.files import sample_catalog
from yidi.entrypoints.cli.main import app
from yidi.policy.loader import PolicyLibrary, load_policy_library, policy_at
from yidi.policy.model import Policy
from yidi.reports.whatif import read_claims
from yidi.settlement.claims import Claim
from yidi.settlement.columnar import settle_sequential
from yidi.settlement.result import SettlementResult


def _claim(
    claim_id: str, person: str, region: str, level: int, day: str, price: str, **extra: Any
) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "person_id": person,
        "insured_region": region,
        "treatment_region": "450000",
        "insurance_type": "employee",
        "person_type": "employee_retired",
        "hospital_level": level,
        "filing_category": "retiree_resettled",
        "admitted_on": day,
        "discharged_on": day,
        "encounter_type": "inpatient",
        "fee_lines": [
            {
                "catalog_code": "003311000010000",
                "quantity": "1",
                "unit_price": price,
                "occurred_at": f"{day}T10:00:00",
            },
            {
                "catalog_code": "XJ01DDA110B002010104371",
                "quantity": "3",
                "unit_price": "45.50",
                "occurred_at": f"{day}T11:00:00",
            },
        ],
        **extra,
    }


CLAIMS = [
    _claim("A1", "430421195001011234", "430400", 3, "2017-03-02", "8000.00"),
    _claim("B1", "430421196002021234", "430400", 2, "2017-03-10", "900.00"),
    _claim("A2", "430421195001011234", "430400", 3, "2017-05-20", "12000.00"),
    _claim(
        "C1",
        "430421197003031234",
        "430400",
        3,
        "2017-06-01",
        "60000.00",
        year_to_date={"year": 2017, "admissions_count": 1, "pooled_fund_paid": "50000.00"},
    ),
    _claim("D1", "640121195505051234", "640000", 3, "2017-06-15", "7000.00"),
    _claim("A3", "430421195001011234", "430400", 3, "2017-09-09", "3000.00"),
]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in CLAIMS), encoding="utf-8"
    )
    tree = tmp_path / "candidate"
    with resources.as_file(resources.files("yidi").joinpath("policies")) as shipped:
        shutil.copytree(shipped, tree)
    inpatient = tree / "430400" / "employee" / "inpatient.yaml"
    text = inpatient.read_text(encoding="utf-8")
    assert text.count('level_3: "1300.00"') == 1
    inpatient.write_text(text.replace('level_3: "1300.00"', 'level_3: "800.00"'), encoding="utf-8")
    return claims, tree


def _per_claim_fund(path: Path, library: PolicyLibrary | None) -> list[Decimal]:
    def policy_for(claim: Claim) -> Policy:
        return policy_at(claim.insured_region, claim.insurance_type, claim.discharged_on, library)

    results = settle_sequential([c.entry for c in read_claims(path)], policy_for, sample_catalog)
    out = []
    for result in results:
        assert isinstance(result, SettlementResult), result
        out.append(result.fund_paid_total.yuan)
    return out


def test_whatif_reports_the_deductible_change_as_the_per_claim_engine_computes_it(
    tmp_path: Path,
) -> None:
    claims, tree = _files(tmp_path)
    out_json = tmp_path / "report.json"
    out_csv = tmp_path / "report.csv"
    result = CliRunner().invoke(
        app,
        [
            "whatif",
            str(claims),
            "--policy-root",
            str(tree),
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text(encoding="utf-8"))

    before = _per_claim_fund(claims, None)
    after = _per_claim_fund(claims, load_policy_library(tree))
    differences = [b - a for a, b in zip(before, after, strict=True)]
    expected = sum(differences, Decimal("0.00"))
    assert expected > 0  # a lower deductible costs the fund
    assert Decimal(report["total"]["delta_fund_paid_total"]) == expected
    assert Decimal(report["total"]["current_fund_paid_total"]) == sum(before, Decimal(0))

    by_region = report["by"]["region"]
    assert Decimal(by_region["640000"]["delta_fund_paid_total"]) == 0
    assert Decimal(by_region["430400"]["delta_fund_paid_total"]) == expected
    for dim in ("hospital_level", "encounter", "month"):
        assert (
            sum(Decimal(b["delta_fund_paid_total"]) for b in report["by"][dim].values()) == expected
        )
    assert report["by"]["hospital_level"]["3"]["claims"] == 5
    assert set(report["by"]["month"]) == {"2017-03", "2017-05", "2017-06", "2017-09"}

    # the claims that change most, largest first, people masked
    top = report["top_changes"]
    ids = [row["claim_id"] for row in CLAIMS]
    by_id = dict(zip(ids, differences, strict=True))
    assert [Decimal(row["delta_fund_paid_total"]) for row in top] == sorted(
        (d for d in differences if d), key=lambda d: -abs(d)
    )
    for row in top:
        assert Decimal(row["delta_fund_paid_total"]) == by_id[row["claim_id"]]
        assert "1950" not in row["person"]
    assert report["per_claim_engine_fallback"] == {"current": 0, "candidate": 0}

    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8").splitlines()))
    assert rows[0]["dimension"] == "total"
    assert Decimal(rows[0]["delta_fund_paid_total"]) == expected
    claim_rows = list(
        csv.DictReader((tmp_path / "report-claims.csv").read_text(encoding="utf-8").splitlines())
    )
    assert [r["claim_id"] for r in claim_rows] == [r["claim_id"] for r in top]


def test_whatif_with_a_date_and_a_bad_file(tmp_path: Path) -> None:
    claims, tree = _files(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["whatif", str(claims), "--policy-root", str(tree), "--date", "2017-01-01", "--json", "-"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["candidate_date"] == "2017-01-01"
    assert Decimal(report["total"]["delta_fund_paid_total"]) > 0

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"insured_region": "430400"}\n', encoding="utf-8")
    result = runner.invoke(app, ["whatif", str(bad), "--policy-root", str(tree)])
    assert result.exit_code == 2
    assert "WHATIF_CLAIMS_INVALID" in result.output


def test_whatif_reads_a_parquet_claims_file_the_same(tmp_path: Path) -> None:
    claims, tree = _files(tmp_path)
    parquet = tmp_path / "claims.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_json('{claims}', format='newline_delimited')) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    runner = CliRunner()
    reports = []
    for path in (claims, parquet):
        result = runner.invoke(
            app, ["whatif", str(path), "--policy-root", str(tree), "--json", "-"]
        )
        assert result.exit_code == 0, result.output
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["claims"] == len(CLAIMS)
