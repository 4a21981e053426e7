"""2101 药店预结算, 2102 药店结算, 2103 药店结算撤销: the designated retail pharmacy's
transactions (national field names, pydantic v2, as lenient as the other transactions).

Fields as a real pharmacy client sends them: the C# models ``T2102`` (region "【2101】药店预结算":
input ``druginfo`` + ``drugdetail[]``, output ``setlinfo`` + ``setldetail[]`` +
``detlcutinfo[]``) and ``T2103`` (input ``data``: ``setl_id``, ``mdtrt_id``, ``psn_no``;
output ``setlinfo`` + ``setldetail[]``) of the HIS client ``OnlineBusHos244_GJYB`` (code-index
file ids 19590226871 and 20039233177); docs/nhsa-gateway.md §6.20 tabulates them. A purchase has
no registration: 2102 opens the visit (``mdtrt_id``) and settles it in one step.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from yidi.integrations.nhsa.transactions import (
    Dispensing,
    FeeLineResult,
    Id30,
    LineCharge,
    NhsaModel,
    OptDateTime,
    OptText,
    Output2303,
    Output2304,
    SettlementRef,
    SettlementRequest,
)

#: rx_circ_flag of a line dispensed on a prescription from elsewhere (外购处方 / 外配处方).
EXTERNAL_PRESCRIPTION_FLAG = "1"


def _rows(value: Any) -> Any:
    """A node the spec calls 多行 may arrive as one object; treat it as one row."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return value


def _druginfo_from_data(value: Any) -> Any:
    """Some clients name the purchase's object ``data`` rather than ``druginfo``."""
    if isinstance(value, dict) and "druginfo" not in value and "data" in value:
        return {**value, "druginfo": value["data"]}
    return value


class DrugInfo(SettlementRequest):
    """input.druginfo of 2101 / 2102: who buys, with which credential, for how much (the
    settlement request's fields, without a visit: the purchase opens it)."""

    psn_no: Id30
    begntime: OptDateTime = None
    dise_codg: OptText = None
    dise_name: OptText = None
    med_type: OptText = None


class DrugDetail(LineCharge, Dispensing):
    """input.drugdetail[] row of 2101 / 2102: one drug as dispensed."""

    feedetl_sn: Id30
    rxno: Annotated[str | None, Field(max_length=30)] = None
    medins_list_codg: OptText = None


DrugDetails = Annotated[list[DrugDetail], BeforeValidator(_rows), Field(min_length=1)]


class _Purchase(NhsaModel):
    """The purchase of 2101 and 2102: input.druginfo and input.drugdetail[]."""

    druginfo: DrugInfo
    drugdetail: DrugDetails

    _either = model_validator(mode="before")(_druginfo_from_data)


class Input2101(_Purchase):
    """2101 药店预结算: the full result, nothing committed."""


class Input2102(_Purchase):
    """2102 药店结算: the purchase stored and settled; returns mdtrt_id and setl_id."""


class Input2103(NhsaModel):
    """2103 药店结算撤销: input.data (setl_id, mdtrt_id, psn_no)."""

    data: SettlementRef


class Output2101(Output2303):
    """setlinfo as 2303 (its mdtrt_id is null: nothing was opened), the funds, each line's
    split (``detlcutinfo``)."""

    detlcutinfo: list[FeeLineResult]


class Output2102(Output2304):
    """setlinfo as 2304 (with the new mdtrt_id and setl_id), the funds, each line's split."""

    detlcutinfo: list[FeeLineResult]
