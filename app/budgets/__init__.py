"""Budgets: a monthly amount for an expense category, and how each month is going."""
