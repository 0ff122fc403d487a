"""Users: registration and the caller's own profile."""
