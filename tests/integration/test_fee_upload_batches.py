"""A fee upload inserts its whole batch first and looks at serials the stay already has only
afterwards: a serial reused with other content must still refuse the batch with nothing of it
stored, a line sent again must be a no-op, and a cancelled line sent again must be stored again."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from hospital_support import BOBAI, XIE_CARD, XIE_LINES, at, build_world, fee_inputs
from yidi.bootstrap import Container
from yidi.encounter.commands import AdmissionRequest, Credential, FeeLineInput, HospitalService
from yidi.kernel.errors import Conflict
from yidi.kernel.money import Money


def _with_quantity(line: FeeLineInput, quantity: Decimal) -> FeeLineInput:
    """The line with another quantity (and the amount that goes with it)."""
    return dataclasses.replace(
        line, quantity=quantity, amount=Money.rounded(quantity * line.unit_price)
    )


def _stay(container: Container) -> tuple[HospitalService, str]:
    build_world(container)
    service = HospitalService(container.uow, container.clock)
    encounter = service.admit(
        BOBAI,
        AdmissionRequest(
            credential=Credential("03", XIE_CARD),
            med_type="21",
            admitted_at=at(20, 8),
            department_code="A03",
            diagnosis_codes=("K80.101",),
        ),
    )
    return service, encounter.id


def test_a_reused_serial_refuses_the_batch_and_stores_none_of_it(container: Container) -> None:
    service, encounter_id = _stay(container)
    first = fee_inputs(XIE_LINES[:3], at(21))
    service.upload_fees(BOBAI, encounter_id, first)
    changed = _with_quantity(first[1], first[1].quantity + 1)
    new = fee_inputs(XIE_LINES[3:6], at(21), prefix="n")
    with pytest.raises(Conflict) as refused:
        service.upload_fees(BOBAI, encounter_id, [*new, changed])
    assert refused.value.code == "FEE_LINE_SERIAL_REUSED"
    assert refused.value.details == {"serials": [first[1].serial]}
    stored = service.encounter_detail(BOBAI, encounter_id).lines
    assert [line.serial for line in stored] == [line.serial for line in first]


def test_the_same_lines_again_change_nothing_and_answer_as_stored(container: Container) -> None:
    service, encounter_id = _stay(container)
    lines = fee_inputs(XIE_LINES[:4], at(21))
    answered = service.upload_fees(BOBAI, encounter_id, lines)
    again = service.upload_fees(BOBAI, encounter_id, [*lines[2:], *lines[:2], lines[0]])
    assert [line.serial for line in again] == ["3", "4", "1", "2"]
    assert {line.serial: line for line in again} == {line.serial: line for line in answered}
    stored = service.encounter_detail(BOBAI, encounter_id).lines
    assert stored == answered  # the reply built from the rows written equals them read back


def test_a_cancelled_line_sent_again_is_stored_again_with_its_new_content(
    container: Container,
) -> None:
    service, encounter_id = _stay(container)
    lines = fee_inputs(XIE_LINES[:2], at(21))
    service.upload_fees(BOBAI, encounter_id, lines)
    service.cancel_fees(BOBAI, encounter_id, [lines[0].serial])
    corrected = _with_quantity(lines[0], lines[0].quantity * 2)
    answered = service.upload_fees(BOBAI, encounter_id, [corrected])
    assert [(line.serial, line.amount, line.cancelled) for line in answered] == [
        (corrected.serial, corrected.amount, False)
    ]
    stored = {line.serial: line for line in service.encounter_detail(BOBAI, encounter_id).lines}
    assert stored[corrected.serial] == answered[0]
    assert len(stored) == 2
