"""Exchange rates: the rates a user records (never fetched from anywhere), and the conversion
of per-currency amounts into one currency at the rate in force on a date."""
