"""Categories: how a user classifies income and expenses; each user has their own."""
