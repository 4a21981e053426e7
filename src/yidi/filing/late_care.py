"""补办备案 for manual reimbursement: the late filing that covers a person's past care.

The agency's manual-claim use case asks this with the care's dates; the filing's category
then sets the claim's rates (filed instead of unfiled), and its number is kept on the claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from yidi.filing.model.lifecycle import FilingState, late_filing_for_care
from yidi.filing.ports import FilingUnitOfWork
from yidi.kernel.insurance import FilingCategory
from yidi.kernel.regions import DivisionRegistry, default_registry


class LateFilingLookup:
    """``(id_number, treatment_region, care_from, care_until)`` → (filing number, category)
    of the 补办 filing covering that care, or None."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        *,
        regions: DivisionRegistry | None = None,
    ) -> None:
        self._uow = uow_factory
        self._regions = regions or default_registry()

    def __call__(
        self, id_number: str, treatment_region: str, care_from: dt.date, care_until: dt.date
    ) -> tuple[str, FilingCategory] | None:
        with self._uow() as uow:
            candidates = uow.filings.current_for_person(
                id_number, (FilingState.APPROVED, FilingState.EXPIRED)
            )
        filing = late_filing_for_care(
            candidates, treatment_region, care_from, care_until, self._regions
        )
        if filing is None or filing.record.category is None:
            return None
        return filing.record.filing_number or "", filing.record.category
