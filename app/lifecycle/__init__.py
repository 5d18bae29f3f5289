"""Lifecycle logic: Civil Code periods, penalty formulas F1–F8, contract events, idle land."""
