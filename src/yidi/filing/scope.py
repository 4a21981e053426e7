"""Who may act on which filings: region scope, the system operator, masking, audit entries.

Shared by every filing use case (:mod:`yidi.filing.commands`, :mod:`yidi.filing.queries`,
:mod:`yidi.filing.imports`, :mod:`yidi.filing.reports`). A region code covers the codes
that begin with its prefix (省 41, 市 4101, 县 410102), like ``Principal.covers_region``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from yidi.filing.model.lifecycle import Actor, FilingState
from yidi.filing.ports import FilingUnitOfWork
from yidi.kernel.access import Principal, Role
from yidi.kernel.audit import audit_entry_by
from yidi.kernel.clock import Clock
from yidi.kernel.errors import Forbidden, InvalidInput
from yidi.kernel.privacy import mask_phone
from yidi.kernel.regions import DivisionRegistry, default_registry
from yidi.kernel.workdays import WorkingDayCalendar

# States in which a filing still counts (for duplicates and conflicts).
LIVE_STATES: Final = (
    FilingState.DRAFT,
    FilingState.SUBMITTED,
    FilingState.REJECTED,
    FilingState.APPROVED,
)
SYSTEM_REGION: Final = "000000"  # the system operator's pseudo-region: it covers every region


def mask_optional_phone(text: str | None) -> str | None:
    return mask_phone(text) if text else None


def system_principal() -> Principal:
    """The operator for unattended batch work (报盘 from the command line, expiry runs)."""
    return Principal(
        user_id="system",
        role=Role.PROVINCE_OFFICER,
        region_code=SYSTEM_REGION,
        display_name="系统批处理",
    )


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, principal.role.value, principal.display_name or None)


class FilingUseCases:
    """What every filing service holds: its unit of work, the clock, the region registry;
    and how it writes an audit entry. Each call of a use case is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], FilingUnitOfWork],
        clock: Clock,
        *,
        regions: DivisionRegistry | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._regions = regions or default_registry()
        # Working days for emergency deadlines: the composition root passes the one it
        # built from the settings; alone, the shipped holiday files on this clock.
        self._calendar = calendar or WorkingDayCalendar(today=clock.today)

    def _audit(
        self,
        uow: FilingUnitOfWork,
        principal: Principal,
        action: str,
        subject: str,
        reason: str = "",
    ) -> None:
        """One step by ``principal`` (the request's address comes with ``audit_entry``)."""
        uow.audit.append(
            audit_entry_by(
                principal, self._clock.now(), action=action, subject=subject, reason=reason
            )
        )


def require_region(
    regions: DivisionRegistry, principal: Principal, region: str, *, importing: bool = False
) -> None:
    """A known region within the caller's scope; the system's 000000 ("all") only for
    reading, since a batch must be submitted for a real division."""
    if not (region.isascii() and region.isdigit() and len(region) == 6) or not (
        regions.exists(region) or (region == SYSTEM_REGION and not importing)
    ):
        raise InvalidInput(
            "REGION_UNKNOWN",
            f"行政区划代码“{region}”不存在",
            f"unknown region {region!r}",
            field="region",
        )
    if not principal.covers_region(region):
        raise Forbidden(
            *(
                (
                    "IMPORT_REGION_FORBIDDEN",
                    "不能为本机构管辖范围以外的地区报盘",
                    "you may not import for a region outside your scope",
                )
                if importing
                else (
                    "FILING_REGION_OUT_OF_SCOPE",
                    "无权查看或导出其他地区的备案信息",
                    "this region is outside your scope",
                )
            ),
            field="region",
        )
