"""The catalogue in force by region and day (就医地目录), read through ``yidi.catalog.ports``.

A hospital's region may be a county (450923) while its province publishes the
catalogue (450000): the catalogue region is the nearest of county → prefecture →
province that has an imported catalogue. Each fee line is resolved against the version
in force on the day the fee occurred (the latest version whose ``effective_on`` is not
after that day).
"""

from __future__ import annotations

import datetime as dt
import threading

from yidi.catalog.model import CatalogVersion, region_chain
from yidi.catalog.ports import CatalogReading
from yidi.encounter.records import CatalogVersionRow


class CatalogLookup:
    """Versions by region and day, with parsed versions cached by content hash.

    A stored version never changes (its hash is its identity), so that cache needs no
    invalidation. The list of versions is cached per process under the catalogue
    generation (how many versions there are and the newest id): importing a version
    changes it, and every worker reads it with the transaction's first read of the stay
    (``HospitalRepository.encounter_context``), so a new version is seen by the next
    transaction of every worker without a statement of its own.
    """

    def __init__(self) -> None:
        self._cache: dict[str, CatalogVersion] = {}
        self._listed: tuple[tuple[int, int], dict[str, list[CatalogVersionRow]]] | None = None
        self._lock = threading.Lock()

    def _versions_by_region(self, uow: CatalogReading) -> dict[str, list[CatalogVersionRow]]:
        generation = uow.hospital.catalog_generation()
        listed = self._listed
        if listed is not None and listed[0] == generation:
            return listed[1]
        by_region: dict[str, list[CatalogVersionRow]] = {}
        for row in uow.hospital.catalog_versions():  # ordered by region, effective_on
            by_region.setdefault(row.treatment_region, []).append(row)
        self._listed = (generation, by_region)
        return by_region

    def catalog_region(self, uow: CatalogReading, region_code: str) -> str | None:
        regions = self._versions_by_region(uow)
        return next((code for code in region_chain(region_code) if code in regions), None)

    def versions(self, uow: CatalogReading, catalog_region: str) -> list[CatalogVersionRow]:
        return list(self._versions_by_region(uow).get(catalog_region, ()))

    def in_force(
        self, uow: CatalogReading, versions: list[CatalogVersionRow], on_day: dt.date
    ) -> CatalogVersion | None:
        chosen = None
        for version in versions:  # ordered by effective_on
            if version.effective_on <= on_day:
                chosen = version
        return None if chosen is None else self.load(uow, chosen)

    def load(self, uow: CatalogReading, version: CatalogVersionRow) -> CatalogVersion:
        with self._lock:
            cached = self._cache.get(version.content_hash)
        if cached is not None:
            return cached
        catalog = uow.hospital.load_catalog(version)
        with self._lock:
            self._cache[version.content_hash] = catalog
        return catalog
