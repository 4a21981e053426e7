"""个人账户: balance and movements, for the agency and the insured person."""

from __future__ import annotations

from fastapi import APIRouter

from yidi.accounts import commands as service
from yidi.entrypoints.api.deps import ContainerDep, PrincipalDep
from yidi.entrypoints.api.schemas.money import AccountOut
from yidi.kernel.privacy import mask_id_number

router = APIRouter(prefix="/api/accounts", tags=["个人账户 personal accounts"])


@router.get(
    "/{psn_no}/{year}",
    response_model=AccountOut,
    summary="个人账户余额与变动 personal account balance and movements",
)
def account(psn_no: str, year: int, principal: PrincipalDep, container: ContainerDep) -> AccountOut:
    view = service.read_scoped(container.uow(), container.clock, principal, psn_no, year)
    return AccountOut.model_validate(
        {
            "psn_no": view.person.psn_no,
            "name": view.person.name,
            "id_number_masked": mask_id_number(view.person.id_number),
            "insurance_type": view.person.insurance_type.value,
            "year": view.year,
            "balance": str(view.balance),
            "movements": [
                {
                    "kind": m.kind.value,
                    "kind_zh": m.kind.label_zh,
                    "amount": str(m.amount),
                    "balance_after": str(m.balance_after),
                    "source": m.source,
                    "reference": m.reference,
                    "settlement_id": m.settlement_id,
                    "occurred_at": m.occurred_at.isoformat(),
                }
                for m in view.movements
            ],
        }
    )
