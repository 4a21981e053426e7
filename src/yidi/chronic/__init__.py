"""门诊慢特病: the dated disease lists, the agency's recognitions (认定) and their queries."""
