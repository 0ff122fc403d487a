"""Who is calling: the token check reads the caller's users row by Core (app.auth.tokens), one
statement, without the password hash; a view that changes the user loads and locks the User,
and a user deleted between the two gets a 401, not a 500."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db


def test_the_profile_is_one_statement_without_the_password_hash(user, statements):
    response = user.get("/users/me/")
    assert response.status_code == 200
    assert response.json["id"] == user.id
    assert response.json["username"] == user.username
    assert set(response.json) == {"id", "username", "email", "created_at", "base_currency"}
    assert len(statements) == 1
    assert "password_hash" not in statements[0]


def test_a_profile_change_is_seen_by_the_next_request(user):
    changed = user.patch("/users/me/", json={"email": "new@example.com", "base_currency": "EUR"})
    assert changed.status_code == 200
    assert changed.json["email"] == "new@example.com"
    me = user.get("/users/me/").json
    assert (me["email"], me["base_currency"]) == ("new@example.com", "EUR")


def test_a_user_deleted_after_the_token_check_is_a_401(app, user, statements):
    """Another request deletes the user between this one's token check and its change."""
    with app.app_context():
        other = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")

    def delete_first(conn, cursor, statement, *args):
        if "FOR UPDATE" in statement and "FROM users" in statement:
            with other.connect() as connection:
                connection.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user.id})

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", delete_first)
    try:
        response = user.patch("/users/me/", json={"email": "late@example.com"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", delete_first)
        other.dispose()
    assert response.status_code == 401
    assert response.json["message"] == "The token's user no longer exists."
    assert any("FOR UPDATE" in statement for statement in statements)
    assert user.get("/users/me/").status_code == 401
