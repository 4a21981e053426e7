"""The encounter state machine: every pair outside the table is refused with its stable code."""

from __future__ import annotations

import pytest

from yidi.encounter.model import (
    OUTPATIENT_TRANSITIONS,
    STATE_ZH,
    TRANSITIONS,
    TRANSITIONS_BY_KIND,
    EncounterAction,
    EncounterKind,
    EncounterState,
    next_state,
)
from yidi.kernel.errors import Conflict

REFUSAL_CODES = {
    EncounterAction.DISCHARGE: {"ENCOUNTER_NOT_ADMITTED"},
    EncounterAction.CANCEL_DISCHARGE: {"ENCOUNTER_NOT_DISCHARGED"},
    EncounterAction.CANCEL_ADMISSION: {"ENCOUNTER_CANNOT_CANCEL"},
    EncounterAction.SETTLE: {"ENCOUNTER_NOT_DISCHARGED", "ENCOUNTER_ALREADY_SETTLED"},
    EncounterAction.REVERSE: {"ENCOUNTER_NOT_SETTLED"},
    EncounterAction.RESTORE: {"REVERSAL_CANNOT_RESTORE"},
    EncounterAction.CANCEL_REGISTRATION: {"VISIT_NOT_OUTPATIENT"},
}
OUTPATIENT_REFUSAL_CODES = {
    EncounterAction.DISCHARGE: {"VISIT_NOT_INPATIENT"},
    EncounterAction.CANCEL_DISCHARGE: {"VISIT_NOT_INPATIENT"},
    EncounterAction.CANCEL_ADMISSION: {"VISIT_NOT_INPATIENT"},
    EncounterAction.SETTLE: {"VISIT_NOT_REGISTERED", "ENCOUNTER_ALREADY_SETTLED"},
    EncounterAction.REVERSE: {"ENCOUNTER_NOT_SETTLED"},
    EncounterAction.RESTORE: {"REVERSAL_CANNOT_RESTORE"},
    EncounterAction.CANCEL_REGISTRATION: {"VISIT_CANNOT_CANCEL"},
}
#: A stay's action on a visit's state (and back) is told the kinds do not mix.
MIXED = {"VISIT_NOT_INPATIENT", "VISIT_NOT_OUTPATIENT"}


def test_the_table_is_the_diagram() -> None:
    assert TRANSITIONS == {
        (EncounterState.ADMITTED, EncounterAction.DISCHARGE): EncounterState.DISCHARGED,
        (EncounterState.ADMITTED, EncounterAction.CANCEL_ADMISSION): EncounterState.CANCELLED,
        (EncounterState.DISCHARGED, EncounterAction.CANCEL_DISCHARGE): EncounterState.ADMITTED,
        (EncounterState.DISCHARGED, EncounterAction.SETTLE): EncounterState.SETTLED,
        (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.DISCHARGED,
        (EncounterState.DISCHARGED, EncounterAction.RESTORE): EncounterState.SETTLED,
    }
    assert set(STATE_ZH) == set(EncounterState)


def test_the_outpatient_table_is_its_diagram() -> None:
    assert OUTPATIENT_TRANSITIONS == {
        (EncounterState.REGISTERED, EncounterAction.SETTLE): EncounterState.SETTLED,
        (EncounterState.REGISTERED, EncounterAction.CANCEL_REGISTRATION): EncounterState.CANCELLED,
        (EncounterState.SETTLED, EncounterAction.REVERSE): EncounterState.REGISTERED,
        (EncounterState.REGISTERED, EncounterAction.RESTORE): EncounterState.SETTLED,
    }
    assert EncounterKind.of("11") is EncounterKind.OUTPATIENT
    assert {EncounterKind.of(t) for t in ("21", "22", "24")} == {EncounterKind.INPATIENT}


@pytest.mark.parametrize("kind", list(EncounterKind))
@pytest.mark.parametrize("state", list(EncounterState))
@pytest.mark.parametrize("action", list(EncounterAction))
def test_every_step_is_allowed_by_the_table_or_refused_with_its_code(
    kind: EncounterKind, state: EncounterState, action: EncounterAction
) -> None:
    table = TRANSITIONS_BY_KIND[kind]
    if (state, action) in table:
        assert next_state(state.value, action, kind) is table[(state, action)]
        return
    with pytest.raises(Conflict) as raised:
        next_state(state.value, action, kind)
    codes = REFUSAL_CODES if kind is EncounterKind.INPATIENT else OUTPATIENT_REFUSAL_CODES
    assert raised.value.code in codes[action] | MIXED
    assert raised.value.message_en


def test_a_settled_encounter_is_told_it_is_already_settled() -> None:
    with pytest.raises(Conflict) as raised:
        next_state("settled", EncounterAction.SETTLE)
    assert raised.value.code == "ENCOUNTER_ALREADY_SETTLED"
    assert raised.value.message == "该就诊已结算，不能重复结算"
