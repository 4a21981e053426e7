"""政策调整测算 (what-if): re-settle a year of claims under the current and a candidate
policy and report what the change costs the fund.

Claims come from a JSON-lines or Parquet file in the claim format of docs/claim-files.md,
with two optional fields: ``claim_id`` and ``person_id`` (default: ``id_number``, else
the claim is its own person). Each person's claims are settled in the order of the file
(settlement order), year-to-date totals carried from claim to claim; a ``year_to_date``
on a person's first claim of a year is the opening balance, later ones are ignored.

Both runs use the columnar engine (:mod:`yidi.settlement.columnar`): the current policy
is the one in force on each claim's discharge date, the candidate the candidate tree's in
force on ``on_date`` (default: the discharge date too). A claim refused under one policy
pays nothing under it (its error code is counted).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from yidi.catalog.model import CatalogVersion
from yidi.kernel.errors import InvalidInput, YidiError
from yidi.kernel.insurance import SettlementMode
from yidi.kernel.money import Money
from yidi.policy.loader import PolicyLibrary, policy_at
from yidi.policy.model import Policy
from yidi.settlement.claims import Claim
from yidi.settlement.columnar import AMOUNT_FIELDS, BatchClaim, ColumnarResult, settle_batch
from yidi.settlement.inputs import parse_claim, parse_year_to_date

DIMENSIONS = ("region", "hospital_level", "encounter", "month")
#: the payer amounts reported, fund first
FUND_FIELDS = (
    "fund_paid_total",
    "pooled_fund_paid",
    "serious_illness_paid",
    "large_expense_paid",
    "medical_assistance_paid",
    "patient_share",
)


@dataclass(frozen=True)
class WhatIfClaim:
    claim_id: str
    person_id: str
    entry: BatchClaim


def _bad_file(path: Path, where: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(
        "WHATIF_CLAIMS_INVALID",
        f"结算申请文件 {path.name} {where}：{message}",
        f"claims file {path.name} {where}: {message_en}",
        field="claims",
    )


def present(value: Any) -> Any:
    """A Parquet row as a claim mapping: absent (NULL) fields left out, nested too."""
    if isinstance(value, Mapping):
        return {key: present(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [present(item) for item in value]
    return value


def _rows(path: Path) -> Iterator[Mapping[str, Any]]:
    if not path.is_file():
        raise _bad_file(path, "", "文件不存在", "no such file")
    if path.suffix.lower() == ".parquet":
        try:
            relation = duckdb.sql("SELECT * FROM read_parquet($p)", params={"p": str(path)})
            if relation is None:  # pragma: no cover - a SELECT always returns a relation
                return
            names = relation.columns
            for row in relation.fetchall():
                yield present(dict(zip(names, row, strict=True)))
        except duckdb.Error as error:
            raise _bad_file(path, "", f"不是有效的 Parquet 文件（{error}）", str(error)) from None
        return
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise _bad_file(
                    path, f"第{number}行", f"不是有效的 JSON（{error.msg}）", error.msg
                ) from None
            if not isinstance(value, Mapping):
                raise _bad_file(path, f"第{number}行", "须为 JSON 对象", "must be a JSON object")
            yield value


def read_claims(path: Path) -> list[WhatIfClaim]:
    """Parse every claim of the file; a bad claim is an error naming its line and field."""
    out: list[WhatIfClaim] = []
    for number, row in enumerate(_rows(path), start=1):
        try:
            claim = parse_claim(row)
            opening = parse_year_to_date(row.get("year_to_date"), claim.settlement_year)
        except YidiError as error:
            raise _bad_file(path, f"第{number}条", error.message, error.message_en) from None
        claim_id = str(row.get("claim_id") or number)
        person = row.get("person_id") or row.get("id_number") or f"claim:{claim_id}"
        out.append(WhatIfClaim(claim_id, str(person), BatchClaim(str(person), claim, opening)))
    return out


def mask_person(person_id: str) -> str:
    """A person key as shown in reports: the first two and last two characters."""
    if len(person_id) <= 6:
        return "*" * len(person_id)
    return f"{person_id[:2]}{'*' * (len(person_id) - 4)}{person_id[-2:]}"


# --------------------------------------------------------------------------- report


@dataclass
class Bucket:
    claims: int = 0
    current: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUND_FIELDS, 0))
    candidate: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUND_FIELDS, 0))

    def delta(self, name: str = "fund_paid_total") -> int:
        return self.candidate[name] - self.current[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "claims": self.claims,
            **{f"current_{n}": str(Money.from_fen(self.current[n])) for n in FUND_FIELDS},
            **{f"candidate_{n}": str(Money.from_fen(self.candidate[n])) for n in FUND_FIELDS},
            **{f"delta_{n}": str(Money.from_fen(self.delta(n))) for n in FUND_FIELDS},
        }


@dataclass(frozen=True)
class ClaimChange:
    claim_id: str
    person: str  # masked
    region: str
    month: str
    current_fund: int
    candidate_fund: int
    current_status: str | None
    candidate_status: str | None

    @property
    def delta(self) -> int:
        return self.candidate_fund - self.current_fund

    def as_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "person": self.person,
            "region": self.region,
            "month": self.month,
            "current_fund_paid_total": str(Money.from_fen(self.current_fund)),
            "candidate_fund_paid_total": str(Money.from_fen(self.candidate_fund)),
            "delta_fund_paid_total": str(Money.from_fen(self.delta)),
            "current_status": self.current_status or "ok",
            "candidate_status": self.candidate_status or "ok",
        }


@dataclass
class WhatIfReport:
    claims: int
    total: Bucket
    by: dict[str, dict[str, Bucket]]
    top: list[ClaimChange]
    errors_current: dict[str, int]
    errors_candidate: dict[str, int]
    fallback_current: int
    fallback_candidate: int
    candidate_date: dt.date | None
    #: stored settlements re-settled under the current policy: how many were compared, and
    #: every amount that did not come back to the fen (claim id, field, stored, recomputed)
    baseline_compared: int = 0
    baseline_differences: list[tuple[str, str, int, int | None]] = field(default_factory=list)

    @property
    def baseline_different_claims(self) -> int:
        return len({claim_id for claim_id, *_ in self.baseline_differences})

    def as_dict(self) -> dict[str, Any]:
        return {
            "claims": self.claims,
            "baseline": {
                "compared": self.baseline_compared,
                "different_claims": self.baseline_different_claims,
                "differences": [
                    {"claim_id": c, "field": f, "stored_fen": s, "recomputed_fen": r}
                    for c, f, s, r in self.baseline_differences[:100]
                ],
            },
            "candidate_date": None
            if self.candidate_date is None
            else self.candidate_date.isoformat(),
            "total": self.total.as_dict(),
            "by": {
                dim: {key: bucket.as_dict() for key, bucket in sorted(groups.items())}
                for dim, groups in self.by.items()
            },
            "top_changes": [change.as_dict() for change in self.top],
            "errors": {"current": self.errors_current, "candidate": self.errors_candidate},
            "per_claim_engine_fallback": {
                "current": self.fallback_current,
                "candidate": self.fallback_candidate,
            },
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        rows = [{"dimension": "total", "key": "", **self.total.as_dict()}]
        for dim, groups in self.by.items():
            for key, bucket in sorted(groups.items()):
                rows.append({"dimension": dim, "key": key, **bucket.as_dict()})
        return rows


def claim_keys(claim: Claim) -> dict[str, str]:
    return {
        "region": claim.insured_region,
        "hospital_level": str(int(claim.hospital_level)),
        "encounter": claim.encounter_type.name.lower(),
        "month": claim.discharged_on.strftime("%Y-%m"),
    }


def library_resolver(
    library: PolicyLibrary | None, on_date: dt.date | None
) -> Callable[[Claim], Policy]:
    cache: dict[tuple[str, str, dt.date], Policy] = {}

    def policy_for(claim: Claim) -> Policy:
        day = on_date or claim.discharged_on
        key = (claim.insured_region, claim.insurance_type.value, day)
        if key not in cache:
            cache[key] = policy_at(claim.insured_region, claim.insurance_type, day, library)
        return cache[key]

    return policy_for


def what_if(
    claims: Sequence[WhatIfClaim],
    catalog_for: Callable[[str], CatalogVersion],
    *,
    current: PolicyLibrary | None = None,
    candidate: PolicyLibrary,
    on_date: dt.date | None = None,
    mode: SettlementMode = SettlementMode.DIRECT,
    top: int = 20,
    progress: Callable[[int], None] | None = None,
    stored: Mapping[str, Mapping[str, int]] | None = None,
) -> WhatIfReport:
    """Re-settle ``claims`` under ``current`` and ``candidate``; with ``stored`` (claim id ->
    amount field -> fen, what was actually paid) also check the current run gives it back."""
    batch = [item.entry for item in claims]
    runs: list[ColumnarResult] = []
    for library, day in ((current, None), (candidate, on_date)):
        runs.append(
            settle_batch(
                batch,
                library_resolver(library, day),
                catalog_for,
                mode=mode,
                progress=progress,
            )
        )
    before, after = runs
    total = Bucket()
    by: dict[str, dict[str, Bucket]] = {dim: {} for dim in DIMENSIONS}
    changes: list[ClaimChange] = []
    errors: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for index, item in enumerate(claims):
        keys = claim_keys(item.entry.claim)
        buckets = [total, *(by[dim].setdefault(keys[dim], Bucket()) for dim in DIMENSIONS)]
        for bucket in buckets:
            bucket.claims += 1
            for name in FUND_FIELDS:
                bucket.current[name] += int(before.amounts[name][index])
                bucket.candidate[name] += int(after.amounts[name][index])
        for run, counts in zip(runs, errors, strict=True):
            code = run.status[index]
            if code is not None:
                counts[code] = counts.get(code, 0) + 1
        changes.append(
            ClaimChange(
                item.claim_id,
                mask_person(item.person_id),
                keys["region"],
                keys["month"],
                int(before.amounts["fund_paid_total"][index]),
                int(after.amounts["fund_paid_total"][index]),
                before.status[index],
                after.status[index],
            )
        )
    changes.sort(key=lambda change: (-abs(change.delta), change.claim_id))
    differences: list[tuple[str, str, int, int | None]] = []
    compared = 0
    for index, item in enumerate(claims if stored is not None else ()):
        paid = stored.get(item.claim_id) if stored is not None else None
        if paid is None:
            continue
        compared += 1
        if before.status[index] is not None:
            differences.append(
                (item.claim_id, before.status[index] or "", paid["total_charges"], None)
            )
            continue
        for name in AMOUNT_FIELDS:
            value = int(before.amounts[name][index])
            if value != paid[name]:
                differences.append((item.claim_id, name, paid[name], value))
    return WhatIfReport(
        claims=len(claims),
        total=total,
        by=by,
        top=[change for change in changes[:top] if change.delta],
        errors_current=errors[0],
        errors_candidate=errors[1],
        fallback_current=before.fallback_claims,
        fallback_candidate=after.fallback_claims,
        candidate_date=on_date,
        baseline_compared=compared,
        baseline_differences=differences,
    )


__all__ = ["AMOUNT_FIELDS", "WhatIfReport", "read_claims", "what_if"]
