"""The settlement engine: 参保地政策、就医地目录 (pure, no I/O, no clock)."""

from yidi.settlement.engine import reverse, settle, split_line
from yidi.settlement.result import NHSA_FIELDS, ExplanationStep, LineBreakdown, SettlementResult

__all__ = [
    "NHSA_FIELDS",
    "ExplanationStep",
    "LineBreakdown",
    "SettlementResult",
    "reverse",
    "settle",
    "split_line",
]
