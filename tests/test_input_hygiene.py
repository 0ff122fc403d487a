"""Usernames, free text, emails and passwords as an attacker would send them (issue 14, points
5-7): PRECIS usernames (RFC 8265) checked after normalisation, look-alikes of taken names
refused (UTS #39 skeletons), no control, bidi-reordering or invisible-only text in any free-text
field, and no password from the common lists or containing the username (NIST SP 800-63B).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import PASSWORD


def register(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/users/", json={"username": username, "password": password, **extra})


def assert_field_error(response, field: str, text: str = "") -> None:
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422
    messages = response.json["errors"]["json"][field]
    assert text in " ".join(messages), messages


def user_count(app) -> int:
    with app.app_context():
        return db.session.execute(sa.text("SELECT count(*) FROM users")).scalar()


# -- point 5: length after normalisation -------------------------------------------------------


def test_a_username_that_expands_under_nfkc_is_422_not_500(app, client):
    name = "pt" + "\ufdfa" * 15  # 17 characters; 272 once NFKC-normalised
    response = register(client, name)
    assert_field_error(response, "username", "once normalised (NFKC)")
    assert user_count(app) == 0


def test_a_username_of_64_characters_after_normalisation_is_accepted(client):
    assert register(client, "ａ" * 64).status_code == 201  # full-width a: 64 either way


# -- point 6: PRECIS usernames -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("ali\u200bce", "invisible"),
        ("alice\u200b", "invisible"),
        ("ali\u202ece", "invisible"),  # RIGHT-TO-LEFT OVERRIDE (default-ignorable)
        ("\x1b[31malice", "control"),
        ("ali\tce", "control"),
        ("ali ce", "spaces"),
        ("\u0627\u0644\u0639abc", "bidi"),  # Arabic then Latin: the bidi rule
    ],
    ids=["zwsp-inside", "zwsp-end", "rlo", "ansi-escape", "tab", "space", "mixed-direction"],
)
def test_usernames_follow_precis_username_case_mapped(app, client, name, reason):
    response = register(client, name)
    assert_field_error(response, "username", "PRECIS username")
    assert reason in response.json["errors"]["json"]["username"][0]
    assert user_count(app) == 0


def test_a_full_width_username_is_kept_in_its_usual_width(client):
    response = register(client, "Ａｌｉｃｅ")
    assert response.status_code == 201
    assert response.json["username"] == "Alice"
    assert register(client, "alice").status_code == 409


@pytest.mark.parametrize("name", ["Éva", "用户名", "Ελένη", "o'brien", "user_12.test"])
def test_usernames_of_any_script_are_accepted(client, name):
    assert register(client, name).status_code == 201, name


@pytest.mark.parametrize(
    "taken, lookalike",
    [
        ("ptenyccb", "\u0440tenyccb"),  # Cyrillic р
        ("paypal", "p\u0430yp\u0430l"),  # Cyrillic а
        ("alice", "ALICE"),  # case only: the plain 409 still
        ("modern", "rnodern"),
    ],
    ids=["cyrillic-er", "cyrillic-a", "case", "rn-m"],
)
def test_look_alikes_of_a_taken_username_are_409(app, client, taken, lookalike):
    assert register(client, taken).status_code == 201
    response = register(client, lookalike)
    assert response.status_code == 409, response.json
    assert response.json["code"] == 409
    assert "taken" in response.json["message"]
    assert user_count(app) == 1


def test_the_look_alike_registered_first_keeps_the_name(client):
    assert register(client, "\u0440tenyccb").status_code == 201
    response = register(client, "ptenyccb")
    assert response.status_code == 409
    assert "looks like" in response.json["message"]


# -- point 6: free text ------------------------------------------------------------------------


BAD_TEXT = {
    "ansi-escape": ("Groceries \x1b[31m", "control"),
    "tab": ("Rent\tMarch", "control"),
    "newline": ("Rent\nMarch", "control"),
    "del": ("Rent\x7f", "control"),
    "c1": ("Rent\x9b31m", "control"),
    "rlo": ("Invoice \u202egnp.exe", "bidi reordering"),
    "isolate": ("Invoice \u2067x\u2069", "bidi reordering"),
}
INVISIBLE_ONLY = ["\u200b", " \u200b ", "\ufeff", "\u2060\u200d", "\u3164"]


@pytest.mark.parametrize("value, kind", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_names_refuse_control_and_bidi_characters(user, value, kind):
    response = user.post(user.url("accounts"), json={"name": value, "currency": "USD"})
    assert_field_error(response, "name", f"Must not contain {kind} characters")
    response = user.post("/categories/", json={"name": value})
    assert_field_error(response, "name", f"Must not contain {kind} characters")
    assert user.get(user.url("accounts")).json == []


@pytest.mark.parametrize("value", INVISIBLE_ONLY)
def test_names_of_invisible_characters_only_are_422(user, value):
    response = user.post(user.url("accounts"), json={"name": value, "currency": "USD"})
    assert_field_error(response, "name", "visible character")
    response = user.post("/categories/", json={"name": value})
    assert_field_error(response, "name", "visible character")


def test_renaming_to_invisible_characters_is_422(user, account):
    response = user.patch(user.url("accounts", account["id"]), json={"name": "\u200b"})
    assert_field_error(response, "name", "visible character")
    assert user.get(user.url("accounts", account["id"])).json["name"] == "Checking"


@pytest.mark.parametrize("field", ["description", "payee"])
@pytest.mark.parametrize("value, kind", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_descriptions_and_payees_refuse_control_and_bidi_characters(
    user, account, field, value, kind
):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00", field: value}
    response = user.post(user.url("transactions"), json=body)
    assert_field_error(response, field, f"Must not contain {kind} characters")
    assert user.get(user.url("transactions")).json == []


@pytest.mark.parametrize("field", ["description", "payee"])
def test_descriptions_and_payees_of_invisible_characters_only_are_422(user, account, field):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00", field: "\u200b"}
    assert_field_error(user.post(user.url("transactions"), json=body), field, "visible")


def test_visible_text_with_joiners_and_marks_is_kept(user, account):
    """Invisible characters inside visible text are real text: emoji sequences, Persian."""
    family = "Family \U0001f468\u200d\U0001f469\u200d\U0001f467"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    assert user.account(name=family)["name"] == family
    created = user.transaction(account, description=persian, payee="\u05e9\u05dc\u05d5\u05dd")
    assert created["description"] == persian
    assert user.transaction(account, description="")["description"] == ""


# -- point 6: emails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ['"\x01\x02\x03"@example.com', '"\x1b[31m"@example.com', "al\u200bice@example.com"],
    ids=["c0", "ansi", "zwsp"],
)
def test_emails_with_control_or_invisible_characters_are_422(app, client, user, email):
    assert_field_error(register(client, "newcomer", email=email), "email", "email")
    assert_field_error(user.patch("/users/me/", json={"email": email}), "email", "email")
    assert user.get("/users/me/").json["email"] is None


def test_a_plain_email_is_still_accepted(client):
    response = register(client, "newcomer", email="new.comer+finance@example.com")
    assert response.status_code == 201
    assert response.json["email"] == "new.comer+finance@example.com"


# -- point 7: passwords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["12345678", "password", "aaaaaaaa", "qwertyuiop", "iloveyou1", "Password1!", "p" * 128],
)
def test_common_and_trivial_passwords_are_422(app, client, password):
    response = register(client, "newcomer", password=password)
    assert_field_error(response, "password", "Too common or too easy to guess")
    assert user_count(app) == 0


@pytest.mark.parametrize(
    "username, password",
    [
        ("newcomer", "newcomer"),
        ("newcomer", "NEWCOMER"),
        ("newcomer", "my newcomer passphrase"),
        ("Éva-Marie", "zebras éva-marie gallop"),
    ],
)
def test_passwords_equal_to_or_containing_the_username_are_422(client, username, password):
    response = register(client, username, password=password)
    assert_field_error(response, "password", "Must not be or contain the username")


def test_password_change_applies_the_same_rules(client, user):
    for new, text in [("password", "Too common"), ("alice's passphrase", "the username")]:
        response = user.post(
            "/users/me/password", json={"current_password": PASSWORD, "new_password": new}
        )
        assert_field_error(response, "new_password", text)
    token = client.post("/token", data={"username": "alice", "password": PASSWORD})
    assert token.status_code == 200


def test_the_suites_passphrases_pass(client):
    for n, password in enumerate([PASSWORD, "long enough pw", "a long password", "n3w pass"]):
        assert register(client, f"user-{n}", password=password).status_code == 201
