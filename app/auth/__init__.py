"""Authentication: passwords, tokens, the token blocklist and login rate limits."""
