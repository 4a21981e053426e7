"""yidi: cross-region medical insurance filing (备案) and direct settlement (直接结算)."""

__version__ = "0.1.0"
