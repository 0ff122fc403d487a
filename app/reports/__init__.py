"""Reports: where the money went (summary, cashflow, net worth, top payees), per currency."""
