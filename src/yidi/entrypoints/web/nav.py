"""Navigation entries keyed by the action they need: a feature appears once it is built.

A feature adds one :class:`NavEntry` here; the header and every role's desk show
the entries the signed-in role may use (``ACCESS_MATRIX``), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from yidi.kernel.access import Action, Principal, Role


@dataclass(frozen=True, slots=True)
class NavEntry:
    action: Action
    path: str
    label_key: str  # key in yidi.entrypoints.web.i18n.CATALOGUE
    public: bool = False  # shown to everyone, anonymous included
    # Narrower than the action when one action serves several roles on different pages
    # (an agency's filing list, an insured person's own filings); None: every allowed role.
    roles: frozenset[Role] | None = None
    in_header: bool = True  # False: only a card on the desk (keeps the header short)
    # A cashier's page for a hospital (False) or a retail pharmacy (True) only; None: both.
    # The national institution code tells them apart (H…, P…); the page checks the record.
    pharmacy: bool | None = None

    def shown_to(self, principal: Principal) -> bool:
        if not principal.may(self.action):
            return False
        code = principal.hospital_code
        if self.pharmacy is not None and code:
            return code.startswith(PHARMACY_CODE_PREFIX) is self.pharmacy and (
                self.roles is None or principal.role in self.roles
            )
        return self.roles is None or principal.role in self.roles


#: National codes of designated retail pharmacies begin with P (hospitals with H).
PHARMACY_CODE_PREFIX: Final = "P"
_OFFICES: Final = frozenset({Role.AGENCY_HANDLER, Role.PROVINCE_OFFICER})
_AGENCY: Final = frozenset({Role.AGENCY_HANDLER})
_PROVINCE: Final = frozenset({Role.PROVINCE_OFFICER})
_INSURED: Final = frozenset({Role.INSURED_PERSON})


def _card(
    action: Action, path: str, label_key: str, *, roles: frozenset[Role] | None = None
) -> NavEntry:
    """An entry shown only as a card on the desk, not in the header."""
    return NavEntry(action, path, label_key, roles=roles, in_header=False)


NAV_ENTRIES: Final[tuple[NavEntry, ...]] = (
    NavEntry(Action.PUBLIC_DIRECTORY, "/check", "nav.check", public=True),
    NavEntry(Action.PUBLIC_DIRECTORY, "/hospitals", "nav.hospitals", public=True),
    NavEntry(Action.PUBLIC_DIRECTORY, "/agencies", "nav.agencies", public=True),
    NavEntry(Action.FILING_LIST, "/filings", "nav.filings", roles=_OFFICES),
    _card(Action.FILING_LIST, "/filings/emergency", "nav.filings_emergency", roles=_OFFICES),
    _card(Action.FILING_LIST, "/filings/incomplete", "nav.filings_incomplete", roles=_OFFICES),
    _card(Action.FILING_LIST, "/change-requests", "nav.change_requests", roles=_OFFICES),
    _card(Action.FILING_CREATE, "/filings/new", "nav.new_filing", roles=_AGENCY),
    NavEntry(
        Action.FILING_EXPORT, "/province/submissions", "nav.province_submissions", roles=_PROVINCE
    ),
    _card(Action.FILING_EXPORT, "/province/submissions", "nav.province_submissions", roles=_AGENCY),
    _card(Action.FILING_EXPORT, "/province/imports", "nav.import_batches", roles=_OFFICES),
    _card(Action.FILING_EXPORT, "/filings/annex2", "nav.filings_annex2"),
    _card(Action.FILING_EXPORT, "/filings/quarterly", "nav.filings_quarterly"),
    _card(Action.FILING_IMPORT, "/filings/import", "nav.filings_import"),
    # A desk card, not a header link: one more header link wraps the agency's menu at 1366 px.
    _card(Action.CHRONIC_READ, "/chronic", "nav.chronic", roles=_OFFICES),
    NavEntry(Action.FILING_LIST, "/me/filings", "nav.my_filings", roles=_INSURED),
    _card(Action.CHRONIC_READ, "/me/chronic", "nav.my_chronic", roles=_INSURED),
    NavEntry(Action.FILING_CREATE, "/me/filings/wizard", "nav.my_new_filing", roles=_INSURED),
    NavEntry(Action.PUBLIC_DIRECTORY, "/me/estimate", "nav.estimate", roles=_INSURED),
    _card(Action.MANUAL_CLAIM, "/claims", "nav.claims_list"),
    _card(Action.MANUAL_CLAIM, "/claims/new", "nav.claims"),
    NavEntry(Action.ADMISSION_CHECK, "/hospital/check", "nav.cashier_check", pharmacy=False),
    NavEntry(Action.ADMISSION_CHECK, "/hospital/visits/new", "nav.visit_new", pharmacy=False),
    NavEntry(Action.ENCOUNTER_WRITE, "/pharmacy/sale", "nav.pharmacy_sale", pharmacy=True),
    NavEntry(Action.ENCOUNTER_READ, "/hospital/encounters", "nav.encounters"),
    NavEntry(Action.STATISTICS_READ, "/funds/statistics", "nav.statistics"),
    NavEntry(Action.CLEARING_READ, "/funds/clearing", "nav.clearing"),
    _card(Action.RECONCILIATION_DISPUTE, "/reconciliation/disputes", "nav.disputes"),
    NavEntry(Action.PREPAYMENT_ESTIMATE, "/funds/prepayment", "nav.prepayment"),
    _card(Action.PREPAYMENT_APPROVE, "/funds/prepayment/top-ups", "nav.top_ups"),
    NavEntry(Action.POLICY_WHATIF, "/funds/whatif", "nav.whatif", roles=_OFFICES),
    NavEntry(Action.USER_ADMIN, "/admin/users", "nav.users"),
)

# Each role's desk (工作台). Insured persons have theirs even before their features land.
HOME_BY_ROLE: Final[dict[Role, str]] = {
    Role.INSURED_PERSON: "/me",
    Role.AGENCY_HANDLER: "/agency",
    Role.PROVINCE_OFFICER: "/province",
    Role.HOSPITAL_CASHIER: "/hospital",
    Role.CLEARING_OFFICER: "/clearing",
    Role.ADMINISTRATOR: "/admin",
}


def nav_for(principal: Principal) -> list[NavEntry]:
    """The header's entries for this principal."""
    return [entry for entry in NAV_ENTRIES if entry.in_header and entry.shown_to(principal)]


def work_entries(principal: Principal) -> list[NavEntry]:
    """The role's own features (not the public pages): the cards on its desk."""
    return [entry for entry in NAV_ENTRIES if not entry.public and entry.shown_to(principal)]


def public_entries() -> list[NavEntry]:
    return [entry for entry in NAV_ENTRIES if entry.public]
