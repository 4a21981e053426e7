"""Reference data: agencies (经办机构), designated hospitals (定点医疗机构) and insured persons."""
