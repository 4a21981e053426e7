"""Treatment-region catalogues in the database (就医地目录): import, versions, lookup by day.

A catalogue version is stored once per content hash: importing the same content again
changes nothing and answers with the version already stored. Each fee line is resolved
against the version in force on the day the fee occurred (the latest version whose
``effective_on`` is not after that day).

A hospital's region may be a county (450923) while its province publishes the
catalogue (450000): the catalogue region is the nearest of county → prefecture →
province that has an imported catalogue.
"""

from __future__ import annotations

import datetime as dt
import threading
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
from yidi.catalog.model import CatalogVersion
from yidi.encounter.sql import CatalogVersionRow
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Conflict, InvalidInput, NotFound
from yidi.platform.uow import SqlUnitOfWork


@dataclass(frozen=True, slots=True)
class CatalogImportReport:
    version: CatalogVersionRow
    created: bool  # False: the same content was already stored


def region_chain(region_code: str) -> list[str]:
    """The code itself, its prefecture and its province (``450923`` → 450923, 450900, 450000)."""
    chain = [region_code]
    for code in (region_code[:4] + "00", region_code[:2] + "0000"):
        if code not in chain:
            chain.append(code)
    return chain


def store_catalog(
    uow: SqlUnitOfWork, catalog: CatalogVersion, *, source_name: str, at: dt.datetime
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
    uow_factory: Callable[[], SqlUnitOfWork],
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
    uow_factory: Callable[[], SqlUnitOfWork], clock: Clock
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


class CatalogLookup:
    """Versions by region and day, with parsed versions cached by content hash.

    A stored version never changes (its hash is its identity), so the cache needs no
    invalidation; only the list of versions of a region is read on every call.
    """

    def __init__(self) -> None:
        self._cache: dict[str, CatalogVersion] = {}
        self._lock = threading.Lock()

    def catalog_region(self, uow: SqlUnitOfWork, region_code: str) -> str | None:
        regions = uow.hospital.catalog_regions()
        return next((code for code in region_chain(region_code) if code in regions), None)

    def versions(self, uow: SqlUnitOfWork, catalog_region: str) -> list[CatalogVersionRow]:
        return uow.hospital.catalog_versions(catalog_region)

    def in_force(
        self, uow: SqlUnitOfWork, versions: list[CatalogVersionRow], on_day: dt.date
    ) -> CatalogVersion | None:
        chosen = None
        for version in versions:  # ordered by effective_on
            if version.effective_on <= on_day:
                chosen = version
        return None if chosen is None else self.load(uow, chosen)

    def load(self, uow: SqlUnitOfWork, version: CatalogVersionRow) -> CatalogVersion:
        with self._lock:
            cached = self._cache.get(version.content_hash)
        if cached is not None:
            return cached
        catalog = uow.hospital.load_catalog(version)
        with self._lock:
            self._cache[version.content_hash] = catalog
        return catalog


def no_catalog(region_code: str) -> NotFound:
    return NotFound(
        "CATALOG_NOT_AVAILABLE",
        f"就医地 {region_code} 尚未导入医保目录，无法对照费用明细",
        f"no catalogue has been imported for treatment region {region_code}",
        field="treatment_region",
    )
