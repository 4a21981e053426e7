"""对账差异: reconciliation differences and the dispute workflow that resolves them."""
