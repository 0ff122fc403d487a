"""GET /: the API's index (name, version, and where its docs and health check are)."""
