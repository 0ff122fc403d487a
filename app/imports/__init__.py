"""Bank files in: CSV and OFX/QFX statements imported into one account, without duplicates and
never in part (POST /users/{user_id}/accounts/{account_id}/import)."""
