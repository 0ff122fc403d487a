"""Transactions: income, expenses and transfers that move money between accounts."""
