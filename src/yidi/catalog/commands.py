"""Treatment-region catalogues (就医地目录): import and store versions.

A catalogue version is stored once per content hash: importing the same content again
changes nothing and answers with the version already stored. Reading the version in force
on a day is ``yidi.catalog.queries.CatalogLookup``. Storage is reached through
``yidi.catalog.ports``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yidi.catalog.files import (
    SAMPLE_EFFECTIVE_ON,
    SAMPLE_REGIONS,
    parse_catalog_csv,
    parse_catalog_xlsx,
    sample_catalog,
)
from yidi.catalog.model import CatalogVersion, no_catalog, region_chain
from yidi.catalog.ports import CatalogUnitOfWork
from yidi.catalog.queries import CatalogLookup
from yidi.encounter.records import CatalogVersionRow
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, InvalidInput

# Callers import the lookup and the region helpers from here as well.
__all__ = [
    "CatalogImportReport",
    "CatalogLookup",
    "import_catalog_file",
    "import_sample_catalogs",
    "no_catalog",
    "parse_catalog_file",
    "region_chain",
    "store_catalog",
]


@dataclass(frozen=True, slots=True)
class CatalogImportReport:
    version: CatalogVersionRow
    created: bool  # False: the same content was already stored


def store_catalog(
    uow: CatalogUnitOfWork, catalog: CatalogVersion, *, source_name: str, at: dt.datetime
) -> CatalogImportReport:
    """Store one version unless its content is already there (inside the caller's transaction)."""
    existing = uow.hospital.catalog_version_by_hash(catalog.content_hash)
    if existing is not None:
        if (
            existing.treatment_region != catalog.treatment_region
            or existing.effective_on != catalog.effective_on
        ):
            raise Conflict(
                "CATALOG_ALREADY_IMPORTED",
                f"相同内容的目录已作为 {existing.treatment_region} 自 {existing.effective_on} "
                f"起执行的版本“{existing.version_label}”导入",
                "the same catalogue content is already stored with another region or date",
                field="effective_on",
            )
        return CatalogImportReport(existing, created=False)
    same_day = [
        v
        for v in uow.hospital.catalog_versions(catalog.treatment_region)
        if v.effective_on == catalog.effective_on
    ]
    if same_day:
        raise Conflict(
            "CATALOG_EFFECTIVE_DATE_TAKEN",
            f"{catalog.treatment_region} 已有自 {catalog.effective_on} 起执行的另一目录版本"
            f"“{same_day[0].version_label}”，请使用新的执行日期",
            "another catalogue version of this region takes effect on the same day",
            field="effective_on",
        )
    return CatalogImportReport(
        uow.hospital.add_catalog_version(catalog, source_name=source_name, at=at), created=True
    )


def parse_catalog_file(
    path: Path, treatment_region: str, effective_on: dt.date, version_label: str | None = None
) -> CatalogVersion:
    if not (len(treatment_region) == 6 and treatment_region.isdigit()):
        raise InvalidInput(
            "CATALOG_REGION_INVALID",
            f"就医地区划代码“{treatment_region}”应为 6 位数字",
            "the treatment region must be a 6-digit division code",
            field="region",
        )
    label = version_label or f"{treatment_region}-{effective_on.isoformat()}-{path.stem}"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return parse_catalog_xlsx(path.read_bytes(), treatment_region, label, effective_on)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            "CATALOG_FILE_ENCODING",
            "目录文件不是 UTF-8 编码的 CSV 或 XLSX 文件",
            "the catalogue file is neither UTF-8 CSV nor XLSX",
        ) from None
    return parse_catalog_csv(text, treatment_region, label, effective_on)


def import_catalog_file(
    uow_factory: Callable[[], CatalogUnitOfWork],
    clock: Clock,
    path: Path,
    treatment_region: str,
    effective_on: dt.date,
    version_label: str | None = None,
) -> CatalogImportReport:
    """Validate the whole file first (every bad row listed), then store it in one transaction."""
    catalog = parse_catalog_file(path, treatment_region, effective_on, version_label)
    with uow_factory() as uow:
        report = store_catalog(uow, catalog, source_name=path.name, at=clock.now())
        uow.commit()
    return report


def import_sample_catalogs(
    uow_factory: Callable[[], CatalogUnitOfWork], clock: Clock
) -> list[CatalogImportReport]:
    """The shipped sample catalogues (430400, 450000, 640000), effective 2017-01-01."""
    reports = []
    with uow_factory() as uow:
        for region in SAMPLE_REGIONS:
            catalog = sample_catalog(region)
            reports.append(
                store_catalog(uow, catalog, source_name=f"sample-{region}.csv", at=clock.now())
            )
        uow.commit()
    assert all(r.version.effective_on == SAMPLE_EFFECTIVE_ON for r in reports)
    return reports
