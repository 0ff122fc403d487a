"""The portable backup: everything of the caller's as one JSON document (GET /users/me/export),
restored into a user who has no data of their own (POST /users/me/import)."""
