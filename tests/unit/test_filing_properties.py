from __future__ import annotations

import dataclasses
from datetime import timedelta

from filing_helpers import CLERK, PERSON, REGIONS, at, evidence_for, valid_record
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.filing.model.lifecycle import (
    TRANSITIONS,
    Filing,
    FilingAction,
    FilingState,
    approve,
    cancel,
    change,
    create_draft,
    expire,
    reject,
    revise,
    submit,
)
from yidi.kernel.errors import Conflict
from yidi.kernel.insurance import FilingCategory

# The 承诺制 actions need a promise-based filing: tests/unit/test_filing_promise.py covers them.
ACTIONS = [
    a
    for a in FilingAction
    if a
    not in (
        FilingAction.CREATE,
        FilingAction.SUPPLY,
        FilingAction.LAPSE,
        FilingAction.FALSE_PROMISE,
    )
]
START = at(2024, 9, 2)
EVIDENCE = evidence_for(FilingCategory.RETIREE_RESETTLED)


def apply(filing: Filing, action: FilingAction, step: int) -> Filing:
    when = START + timedelta(days=step)
    if action is FilingAction.REVISE:
        return revise(filing, PERSON, when, evidence=EVIDENCE)
    if action is FilingAction.SUBMIT:
        return submit(filing, PERSON, when, REGIONS)
    if action is FilingAction.APPROVE:
        return approve(
            filing,
            CLERK,
            when,
            REGIONS,
            filing_number="BA430421-2024-000001",
            handling_agency="衡阳县医保中心",
            valid_until=when.date() + timedelta(days=3),
        )
    if action is FilingAction.REJECT:
        return reject(filing, CLERK, when, "材料不全")
    if action is FilingAction.CANCEL:
        return cancel(filing, CLERK, when, "本人申请")
    if action is FilingAction.EXPIRE:
        return expire(filing, START + timedelta(days=30 + step))
    _, new_version = change(
        filing,
        CLERK,
        when,
        REGIONS,
        new_filing_id=f"{filing.filing_id}+",
        record=dataclasses.replace(filing.record, contact_address=f"新址{step}"),
    )
    return new_version


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), max_size=25))
def test_random_transitions_never_reach_an_illegal_state_or_lose_an_event(
    actions: list[FilingAction],
) -> None:
    filing = create_draft("f-1", valid_record(), PERSON, START, evidence=EVIDENCE)
    for step, action in enumerate(actions, start=1):
        before = filing
        allowed_from, _ = TRANSITIONS[action]
        try:
            filing = apply(filing, action, step)
        except Conflict as error:
            # refused transitions leave the filing untouched
            assert before.state not in allowed_from or error.code == "FILING_NOT_DUE"
            assert filing == before
            continue
        assert before.state in allowed_from
        if action is FilingAction.CHANGE:
            # the new version starts its own history; the lineage is kept
            assert filing.lineage_id == before.lineage_id and filing.supersedes == before.filing_id
            assert filing.record.version == before.record.version + 1
        else:
            assert filing.events[: len(before.events)] == before.events
            assert len(filing.events) == len(before.events) + 1
        # the last event always describes the current state, and events chain
        assert filing.events[-1].to_state is filing.state
        for earlier, later in zip(filing.events, filing.events[1:], strict=False):
            assert later.from_state is earlier.to_state
            assert later.at >= earlier.at
        if filing.state is FilingState.APPROVED:
            assert filing.record.filing_number and filing.record.valid_from is not None
        if filing.state in (FilingState.REJECTED, FilingState.CANCELLED):
            assert filing.state_reason
