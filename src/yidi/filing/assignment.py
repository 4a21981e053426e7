"""分配审核人: which reviewer of the agency takes a filing awaiting review.

An agency reviewer assigns a submitted filing of their region to themselves or to a
colleague of the same agency (an active agency handler of the same region), or releases it.
Each step is audited (``filing.assign``); the filing itself does not change.
"""

from __future__ import annotations

from yidi.filing.model.lifecycle import FilingState
from yidi.filing.queries import FilingQueries
from yidi.kernel.access import Action, Principal
from yidi.kernel.errors import Conflict, InvalidInput


class ReviewAssignments(FilingQueries):
    """Assign filings awaiting review; each call is one transaction."""

    def reviewers(self, principal: Principal) -> list[tuple[str, str]]:
        """(user name, display name) of the caller's agency colleagues who may review."""
        principal.require(Action.FILING_REVIEW)
        with self._uow() as uow:
            return uow.filings.reviewers(principal.region_code or "")

    def assign(self, principal: Principal, filing_ref: str, assignee: str) -> str:
        """Assign the filing to ``assignee`` (a user name; "" releases it); its lineage id."""
        principal.require(Action.FILING_REVIEW)
        assignee = assignee.strip()
        with self._uow() as uow:
            stored = self._load(uow, principal, filing_ref, for_update=True)
            if stored.filing.state is not FilingState.SUBMITTED:
                raise Conflict(
                    "FILING_NOT_AWAITING_REVIEW",
                    "只有待审核的备案可以分配审核人",
                    "only a filing awaiting review can be assigned",
                )
            lineage = stored.filing.lineage_id
            if assignee:
                colleagues = dict(uow.filings.reviewers(principal.region_code or ""))
                if assignee not in colleagues:
                    raise InvalidInput(
                        "FILING_ASSIGNEE_UNKNOWN",
                        "只能分配给本经办机构的审核人员",
                        "assign only to a reviewer of your own agency",
                        field="assignee",
                    )
                uow.filings.assign(lineage, assignee, principal.user_id, self._clock.now())
            else:
                uow.filings.unassign(lineage)
            self._audit(uow, principal, "filing.assign", f"filing:{lineage}", assignee or "-")
            uow.commit()
        return lineage
