from __future__ import annotations

import datetime as dt

import pytest
from funds_helpers import make_fact
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.funds.model import (
    ClearingLevel,
    Fund,
    MismatchKind,
    SettlementFact,
    Side,
    account_balances,
    clear_month,
    ledger_entries_for,
    ledger_is_balanced,
    reconcile,
)
from yidi.kernel.errors import InvalidInput
from yidi.kernel.money import Money

REGIONS = ["430400", "430499", "450923", "110101", "440100", "410100", "410181"]


def test_a_settlement_debits_the_insured_region_and_credits_the_treatment_region() -> None:
    fact = make_fact("S1", pooled="600.00", large="150.50")
    entries = ledger_entries_for(fact)
    assert [(e.account.name, e.side, e.amount) for e in entries] == [
        ("insured:430400:pooled", Side.DEBIT, Money.of("600.00")),
        ("treatment:450923:pooled", Side.CREDIT, Money.of("600.00")),
        ("insured:430400:large_expense", Side.DEBIT, Money.of("150.50")),
        ("treatment:450923:large_expense", Side.CREDIT, Money.of("150.50")),
    ]


def test_a_reversal_posts_opposite_entries_and_leaves_every_account_at_zero() -> None:
    fact = make_fact("S1", pooled="600.00", serious="20.00")
    reversal = fact.reversed("R1", dt.date(2017, 10, 2))
    assert reversal.person_times == -1 and reversal.clearing_month == "2017-10"
    entries = ledger_entries_for(fact) + ledger_entries_for(reversal)
    assert len(entries) == 8  # nothing edited: four new lines
    assert set(account_balances(entries).values()) == {0}


def test_a_fact_with_a_reversal_sign_on_a_settlement_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_fact("S1", pooled="-1.00")
    assert caught.value.code == "FACT_AMOUNT_SIGN"


amounts = st.integers(min_value=0, max_value=5_000_000).map(Money.from_fen)


@st.composite
def settle_and_reverse_histories(draw: st.DrawFn) -> list[SettlementFact]:
    facts: list[SettlementFact] = []
    open_settlements: list[SettlementFact] = []
    for n in range(draw(st.integers(min_value=0, max_value=30))):
        if open_settlements and draw(st.booleans()):
            original = open_settlements.pop(draw(st.integers(0, len(open_settlements) - 1)))
            facts.append(original.reversed(f"R{n}", dt.date(2017, 10, 1)))
            continue
        fact = make_fact(
            f"S{n}",
            insured=draw(st.sampled_from(REGIONS)),
            treatment=draw(st.sampled_from(REGIONS)),
            pooled=str(draw(amounts)),
            serious=str(draw(amounts)),
            large=str(draw(amounts)),
            assistance=str(draw(amounts)),
        )
        facts.append(fact)
        open_settlements.append(fact)
    return facts


@settings(max_examples=150, deadline=None)
@given(settle_and_reverse_histories())
def test_the_ledger_nets_to_zero_after_any_sequence_of_settlements_and_reversals(
    facts: list[SettlementFact],
) -> None:
    entries = [e for fact in facts for e in ledger_entries_for(fact)]
    assert ledger_is_balanced(entries)
    assert sum(account_balances(entries).values()) == 0
    # What the insured accounts owe is exactly what the facts' fund totals say.
    insured_owed = sum(v for k, v in account_balances(entries).items() if k.startswith("insured:"))
    assert insured_owed == sum(f.fund_total.fen for f in facts)
    # Reversing everything still open brings every account back to zero.
    reversed_ids = {f.reverses_setl_id for f in facts if f.reverses_setl_id}
    closing = [
        f.reversed(f"X{f.setl_id}", dt.date(2017, 12, 1))
        for f in facts
        if not f.is_reversal and f.setl_id not in reversed_ids
    ]
    everything = entries + [e for f in closing for e in ledger_entries_for(f)]
    assert set(account_balances(everything).values()) <= {0}


def test_clearing_sums_per_province_pair_and_nets_the_prepayment_held() -> None:
    facts = [
        make_fact("S1", pooled="600.00", serious="100.00"),
        make_fact("S2", treatment="450100", pooled="400.00"),
        make_fact("S3", treatment="110101", pooled="50.00"),
        make_fact("S4", on=dt.date(2017, 8, 31), pooled="999.00"),  # another month
    ]
    statement = clear_month(
        facts,
        "2017-09",
        ClearingLevel.PROVINCE,
        prepayments={("430000", "450000"): Money.of("300.00")},
    )
    assert [(line.insured_region_code, line.treatment_region_code) for line in statement.lines] == [
        ("430000", "110000"),
        ("430000", "450000"),
    ]
    guangxi = statement.lines[1]
    assert guangxi.person_times == 2
    assert guangxi.due_by_fund[Fund.POOLED] == Money.of("1000.00")
    assert guangxi.due_total == Money.of("1100.00")
    assert guangxi.prepayment_applied == Money.of("300.00")
    assert guangxi.balance_to_pay == Money.of("800.00")
    assert statement.lines[0].balance_to_pay == Money.of("50.00")


def test_clearing_at_prefecture_level_keeps_pools_and_direct_counties_apart() -> None:
    facts = [
        make_fact("S1", insured="430499", treatment="450923"),
        make_fact("S2", insured="410181", treatment="410100"),  # 巩义市 is its own pool
        make_fact("S3", insured="430400", treatment="110101"),
    ]
    statement = clear_month(facts, "2017-09", ClearingLevel.PREFECTURE)
    assert [(line.insured_region_code, line.treatment_region_code) for line in statement.lines] == [
        ("410181", "410100"),
        ("430400", "110000"),
        ("430400", "450900"),
    ]


def test_clearing_is_repeatable_whatever_the_order_of_the_facts() -> None:
    facts = [make_fact(f"S{n}", treatment=REGIONS[n % len(REGIONS)]) for n in range(20)]
    first = clear_month(facts, "2017-09", ClearingLevel.PREFECTURE)
    second = clear_month(list(reversed(facts)), "2017-09", ClearingLevel.PREFECTURE)
    assert first == second and first.content_hash == second.content_hash
    assert first.to_json() == second.to_json()


def test_reconciliation_lists_every_mismatch_down_to_the_encounter() -> None:
    ours = [make_fact("S1", pooled="600.00"), make_fact("S2", pooled="100.00"), make_fact("S3")]
    reported = [
        ("S1", Money.of("600.00")),
        ("S2", Money.of("110.00")),
        ("S9", Money.of("5.00")),
        ("S1", Money.of("600.00")),
    ]
    found = [(m.setl_id, m.kind) for m in reconcile(reported, ours)]
    assert found == [
        ("S1", MismatchKind.DUPLICATE_REPORTED),
        ("S2", MismatchKind.AMOUNT_DIFFERS),
        ("S3", MismatchKind.MISSING_AT_HOSPITAL),
        ("S9", MismatchKind.MISSING_HERE),
    ]
    assert reconcile(reported, ours)[1].difference == Money.of("10.00")
