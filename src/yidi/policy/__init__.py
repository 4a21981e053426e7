"""Load and validate dated, cited region policies into domain objects (pure)."""
