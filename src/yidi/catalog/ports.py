"""What the catalogue use cases need from storage, as Protocols.

``yidi.encounter.sql.HospitalRepository`` (reached as ``uow.hospital`` of
``yidi.platform.uow.SqlUnitOfWork``) implements them on the database;
``tests/unit/fakes_settlement.py`` implements them in memory.

``CatalogReader`` is the read side every settlement needs (the encounter ports include it);
``CatalogRepository`` adds what an import writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from yidi.catalog.model import CatalogVersion
from yidi.encounter.records import CatalogVersionRow
from yidi.kernel.unit_of_work import Transaction


class CatalogReader(Protocol):
    """The stored catalogue versions (就医地目录) and their items."""

    def catalog_regions(self) -> set[str]: ...
    def catalog_versions(self, treatment_region: str | None = None) -> list[CatalogVersionRow]: ...
    def load_catalog(self, version: CatalogVersionRow) -> CatalogVersion: ...
    # What changes whenever a version is added (versions are never edited or removed).
    def catalog_generation(self) -> tuple[int, int]: ...


class CatalogRepository(CatalogReader, Protocol):
    def catalog_version_by_hash(self, content_hash: str) -> CatalogVersionRow | None: ...
    def add_catalog_version(
        self, catalog: CatalogVersion, *, source_name: str, at: dt.datetime
    ) -> CatalogVersionRow: ...


class CatalogReading(Protocol):
    """A transaction in which catalogues are read (any unit of work whose ``hospital``
    repository reads them)."""

    @property
    def hospital(self) -> CatalogReader: ...


class CatalogUnitOfWork(Transaction, Protocol):
    """One transaction of a catalogue import."""

    @property
    def hospital(self) -> CatalogRepository: ...

    def __enter__(self) -> CatalogUnitOfWork: ...


class CatalogVersions(Protocol):
    """The catalogue of a region in force on a day (``yidi.catalog.queries.CatalogLookup``):
    what building a claim needs, whichever storage holds the catalogues."""

    def catalog_region(self, uow: CatalogReading, region_code: str) -> str | None: ...
    def versions(self, uow: CatalogReading, catalog_region: str) -> list[CatalogVersionRow]: ...
    def in_force(
        self, uow: CatalogReading, versions: list[CatalogVersionRow], on_day: dt.date
    ) -> CatalogVersion | None: ...
