"""Use cases: each a function taking a command and a unit of work."""
