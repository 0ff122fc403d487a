"""Accounts: where money is held, one currency each."""
