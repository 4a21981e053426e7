"""The money side (资金): settlement facts, clearing ledger, prepayment, statistics."""
