"""Categorisation rules, /users/{user_id}/rules/: when a transaction's description or payee
contains (or matches) a pattern, and its amount is in a range, give it a category and tags.
Applied to imports and to created transactions that ask for it (through the `categorise`
signal, so that neither imports nor transactions import this package), and on demand to the
uncategorised transactions of a date range."""
