"""The encounter state machine: every pair outside the table is refused with its stable code."""

from __future__ import annotations

import pytest

from yidi.encounter.model import (
    STATE_ZH,
    TRANSITIONS,
    EncounterAction,
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
}


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


@pytest.mark.parametrize("state", list(EncounterState))
@pytest.mark.parametrize("action", list(EncounterAction))
def test_every_step_is_allowed_by_the_table_or_refused_with_its_code(
    state: EncounterState, action: EncounterAction
) -> None:
    if (state, action) in TRANSITIONS:
        assert next_state(state.value, action) is TRANSITIONS[(state, action)]
        return
    with pytest.raises(Conflict) as raised:
        next_state(state.value, action)
    assert raised.value.code in REFUSAL_CODES[action]
    assert raised.value.message_en


def test_a_settled_encounter_is_told_it_is_already_settled() -> None:
    with pytest.raises(Conflict) as raised:
        next_state("settled", EncounterAction.SETTLE)
    assert raised.value.code == "ENCOUNTER_ALREADY_SETTLED"
    assert raised.value.message == "该就诊已结算，不能重复结算"
