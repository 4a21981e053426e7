"""The settlement engine: 参保地政策、就医地目录 (pure, no I/O, no clock)."""

from yidi.settlement.amounts import AMOUNT_NAMES, SETTLEMENT_AMOUNTS, AmountName
from yidi.settlement.engine import reverse, settle, split_line
from yidi.settlement.result import ExplanationStep, LineBreakdown, SettlementResult

__all__ = [
    "AMOUNT_NAMES",
    "SETTLEMENT_AMOUNTS",
    "AmountName",
    "ExplanationStep",
    "LineBreakdown",
    "SettlementResult",
    "reverse",
    "settle",
    "split_line",
]
