"""The filing's pure model: record, lifecycle, rules, evidence, eligibility, annex, change requests."""
