"""Recurring transactions: a template transaction and a schedule, posted exactly once per date."""
