"""Filings (异地就医备案): the record, its lifecycle, the agency's use cases and the provincial database."""
