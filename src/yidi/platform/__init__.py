"""Database, unit of work, idempotency, audit log, migrations and other technical plumbing."""
