"""Accounts: /users/{user_id}/accounts/ — create, list, read, change, delete, and who may.

Read-only and unknown fields of every resource are covered in test_http_conventions.py.
"""

from __future__ import annotations

import pytest

# --- create ---------------------------------------------------------------------------------


def test_create_answers_201_with_every_field(user):
    response = user.post(user.url("accounts"), json={"name": "Checking"})

    assert response.status_code == 201
    assert set(response.json) == {
        "id",
        "owner_id",
        "name",
        "type",
        "currency",
        "opening_balance",
        "balance",
        "cleared_balance",
        "reconciled_balance",
        "archived",
        "created_at",
        "updated_at",
    }
    assert response.json["owner_id"] == user.id
    assert response.json["name"] == "Checking"


def test_create_defaults_to_a_checking_account_in_usd_with_zero_balance(user):
    body = user.post(user.url("accounts"), json={"name": "Checking"}).json

    assert body["type"] == "checking"
    assert body["currency"] == "USD"
    assert body["opening_balance"] == "0.00"
    assert body["balance"] == "0.00"
    assert body["archived"] is False


def test_opening_balance_is_the_starting_balance(user):
    body = user.account(opening_balance="250.75")

    assert body["opening_balance"] == "250.75"
    assert body["balance"] == "250.75"


def test_legacy_balance_field_is_taken_as_the_opening_balance(user):
    response = user.post(user.url("accounts"), json={"name": "Old client", "balance": "42.10"})

    assert response.status_code == 201
    assert response.json["opening_balance"] == "42.10"
    assert response.json["balance"] == "42.10"


def test_sending_both_balance_and_opening_balance_is_422(user):
    response = user.post(
        user.url("accounts"),
        json={"name": "Both", "balance": "1.00", "opening_balance": "1.00"},
    )

    assert response.status_code == 422
    assert user.get(user.url("accounts")).headers["X-Total-Count"] == "0"


def test_credit_card_may_open_with_a_negative_balance(user):
    body = user.account(type="credit_card", opening_balance="-1500.00")

    assert body["opening_balance"] == "-1500.00"
    assert body["balance"] == "-1500.00"


@pytest.mark.parametrize(
    "kind", ["checking", "savings", "credit_card", "cash", "investment", "loan", "other"]
)
def test_every_account_type_is_accepted(user, kind):
    assert user.account(type=kind)["type"] == kind


def test_unknown_account_type_is_422(user):
    response = user.post(user.url("accounts"), json={"name": "X", "type": "piggy_bank"})

    assert response.status_code == 422
    assert "type" in response.json["errors"]["json"]


def test_currency_is_upper_cased(user):
    assert user.account(currency="eur")["currency"] == "EUR"


def test_unknown_currency_is_422(user):
    response = user.post(user.url("accounts"), json={"name": "X", "currency": "ABC"})

    assert response.status_code == 422
    assert "currency" in response.json["errors"]["json"]


@pytest.mark.parametrize("amount", ["999999999999.99", "-999999999999.99"])
def test_opening_balance_just_below_10_to_the_14_minor_units_is_accepted(user, amount):
    assert user.account(opening_balance=amount)["opening_balance"] == amount


@pytest.mark.parametrize("amount", ["1000000000000.00", "-1000000000000", "1e20"])
def test_opening_balance_of_10_to_the_14_minor_units_or_more_is_422(user, amount):
    response = user.post(user.url("accounts"), json={"name": "Huge", "opening_balance": amount})

    assert response.status_code == 422
    assert "opening_balance" in response.json["errors"]["json"]


def test_opening_balance_limit_counts_minor_units_of_the_currency(user):
    # 10^14 JPY minor units is 100,000,000,000,000 yen; one yen less is fine.
    assert user.account(currency="JPY", opening_balance="99999999999999")["balance"] == (
        "99999999999999"
    )


def test_opening_balance_with_too_many_decimals_is_422(user):
    response = user.post(user.url("accounts"), json={"name": "X", "opening_balance": "1.005"})

    assert response.status_code == 422
    assert "opening_balance" in response.json["errors"]["json"]


def test_duplicate_account_name_is_409(user):
    user.account(name="Savings")

    response = user.post(user.url("accounts"), json={"name": "Savings"})

    assert response.status_code == 409
    assert response.json["code"] == 409


def test_two_users_may_use_the_same_account_name(user, other_user):
    user.account(name="Savings")

    assert other_user.account(name="Savings")["name"] == "Savings"


@pytest.mark.parametrize("name", ["", "x" * 101])
def test_account_name_must_be_1_to_100_characters(user, name):
    response = user.post(user.url("accounts"), json={"name": name})

    assert response.status_code == 422
    assert "name" in response.json["errors"]["json"]


def test_account_name_is_trimmed(user):
    assert user.account(name="  Savings \t")["name"] == "Savings"


def test_blank_account_name_is_422(user):
    response = user.post(user.url("accounts"), json={"name": "   "})

    assert response.status_code == 422
    assert "name" in response.json["errors"]["json"]


def test_name_differing_only_by_surrounding_spaces_is_a_duplicate(user):
    user.account(name="Savings")

    assert user.post(user.url("accounts"), json={"name": " Savings "}).status_code == 409


def test_name_is_required(user):
    response = user.post(user.url("accounts"), json={"currency": "USD"})

    assert response.status_code == 422
    assert "name" in response.json["errors"]["json"]


# --- list -----------------------------------------------------------------------------------


def test_list_returns_the_callers_accounts_with_the_total_in_a_header(user):
    first, second = user.account(), user.account()

    response = user.get(user.url("accounts"))

    assert response.status_code == 200
    assert [a["id"] for a in response.json] == [first["id"], second["id"]]
    assert response.headers["X-Total-Count"] == "2"


def test_list_pages_with_skip_and_limit(user):
    ids = [user.account()["id"] for _ in range(5)]

    response = user.get(user.url("accounts"), query_string={"skip": 1, "limit": 2})

    assert [a["id"] for a in response.json] == ids[1:3]
    assert response.headers["X-Total-Count"] == "5"


def test_list_skip_past_the_end_is_an_empty_page_with_the_total(user):
    user.account()

    response = user.get(user.url("accounts"), query_string={"skip": 10})

    assert response.status_code == 200
    assert response.json == []
    assert response.headers["X-Total-Count"] == "1"


def test_list_limit_of_1000_is_accepted(user):
    assert user.get(user.url("accounts"), query_string={"limit": 1000}).status_code == 200


def test_list_limit_over_1000_is_422(user):
    response = user.get(user.url("accounts"), query_string={"limit": 1001})

    assert response.status_code == 422
    assert "limit" in response.json["errors"]["query"]


@pytest.mark.parametrize("args", [{"skip": -1}, {"limit": -1}, {"limit": "many"}])
def test_list_rejects_negative_or_non_numeric_paging(user, args):
    assert user.get(user.url("accounts"), query_string=args).status_code == 422


def test_list_does_not_show_other_users_accounts(user, other_user):
    other_user.account()

    response = user.get(user.url("accounts"))

    assert response.json == []
    assert response.headers["X-Total-Count"] == "0"


# --- read -----------------------------------------------------------------------------------


def test_get_returns_the_account(user, account):
    response = user.get(user.url("accounts", account["id"]))

    assert response.status_code == 200
    assert response.json == account


def test_get_unknown_account_is_404(user):
    response = user.get(user.url("accounts", 999999))

    assert response.status_code == 404
    assert response.json["code"] == 404


def test_get_account_id_beyond_32_bits_is_404(user):
    assert user.get(user.url("accounts", 2**40)).status_code == 404


# --- change ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_changes_only_the_fields_given(user, account, method):
    response = getattr(user, method)(user.url("accounts", account["id"]), json={"name": "Main"})

    assert response.status_code == 200
    assert response.json["name"] == "Main"
    unchanged = {k: v for k, v in account.items() if k not in {"name", "updated_at"}}
    assert {k: response.json[k] for k in unchanged} == unchanged


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_can_change_type_and_archive(user, account, method):
    response = getattr(user, method)(
        user.url("accounts", account["id"]), json={"type": "savings", "archived": True}
    )

    assert response.json["type"] == "savings"
    assert response.json["archived"] is True


@pytest.mark.parametrize("method", ["put", "patch"])
def test_balance_cannot_be_set(user, account, method):
    response = getattr(user, method)(
        user.url("accounts", account["id"]), json={"balance": "1000000.00"}
    )

    assert response.status_code == 422
    assert "balance" in response.json["errors"]["json"]
    assert user.balance(account) == "100.00"


def test_changing_opening_balance_moves_the_balance_by_the_difference(user, account):
    user.transaction(account, amount="30.00")  # balance 100.00 - 30.00 = 70.00

    response = user.patch(user.url("accounts", account["id"]), json={"opening_balance": "150.00"})

    assert response.json["opening_balance"] == "150.00"
    assert response.json["balance"] == "120.00"


def test_lowering_opening_balance_may_make_the_balance_negative(user, account):
    response = user.put(user.url("accounts", account["id"]), json={"opening_balance": "-20.50"})

    assert response.json["balance"] == "-20.50"


def test_currency_of_an_account_without_transactions_can_change(user, account):
    response = user.patch(user.url("accounts", account["id"]), json={"currency": "EUR"})

    assert response.status_code == 200
    assert response.json["currency"] == "EUR"
    assert response.json["balance"] == "100.00"


def test_currency_change_that_cannot_hold_the_opening_balance_is_422(user):
    account = user.account(opening_balance="10.50")

    response = user.patch(user.url("accounts", account["id"]), json={"currency": "JPY"})

    assert response.status_code == 422
    assert user.get(user.url("accounts", account["id"])).json["currency"] == "USD"


def test_currency_change_with_a_new_opening_balance_is_checked_in_the_new_currency(user):
    account = user.account(opening_balance="10.50")

    response = user.patch(
        user.url("accounts", account["id"]),
        json={"currency": "JPY", "opening_balance": "1500"},
    )

    assert response.status_code == 200
    assert response.json["balance"] == "1500"


def test_currency_of_an_account_with_transactions_cannot_change(user, account):
    user.transaction(account)

    response = user.patch(user.url("accounts", account["id"]), json={"currency": "EUR"})

    assert response.status_code == 409
    assert user.get(user.url("accounts", account["id"])).json["currency"] == "USD"


def test_currency_of_an_account_receiving_transfers_cannot_change(user, account):
    savings = user.account()
    user.transaction(account, type="transfer", transfer_account_id=savings["id"])

    response = user.patch(user.url("accounts", savings["id"]), json={"currency": "EUR"})

    assert response.status_code == 409


def test_sending_the_same_currency_to_an_account_with_transactions_is_fine(user, account):
    user.transaction(account)

    response = user.patch(user.url("accounts", account["id"]), json={"currency": "usd"})

    assert response.status_code == 200


def test_renaming_to_another_accounts_name_is_409(user, account):
    other = user.account(name="Savings")

    response = user.put(user.url("accounts", other["id"]), json={"name": "Checking"})

    assert response.status_code == 409
    assert user.get(user.url("accounts", other["id"])).json["name"] == "Savings"


def test_renaming_an_account_to_its_own_name_is_fine(user, account):
    response = user.put(user.url("accounts", account["id"]), json={"name": account["name"]})

    assert response.status_code == 200


def test_update_unknown_account_is_404(user):
    assert user.patch(user.url("accounts", 999999), json={"name": "X"}).status_code == 404


def test_empty_update_changes_nothing(user, account):
    response = user.patch(user.url("accounts", account["id"]), json={})

    assert response.status_code == 200
    assert response.json["balance"] == account["balance"]


# --- delete ---------------------------------------------------------------------------------


def test_delete_answers_204_and_the_account_is_gone(user, account):
    response = user.delete(user.url("accounts", account["id"]))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert user.get(user.url("accounts", account["id"])).status_code == 404


def test_delete_removes_the_accounts_transactions(user, account):
    kept = user.account()
    user.transaction(account)
    user.transaction(account, type="income")
    survivor = user.transaction(kept)

    user.delete(user.url("accounts", account["id"]))

    listed = user.get(user.url("transactions"))
    assert [t["id"] for t in listed.json] == [survivor["id"]]
    assert listed.headers["X-Total-Count"] == "1"


def test_delete_reverses_transfers_on_the_other_account(user, account):
    savings = user.account(opening_balance="5.00")
    user.transaction(account, amount="40.00", type="transfer", transfer_account_id=savings["id"])
    user.transaction(savings, amount="2.00", type="transfer", transfer_account_id=account["id"])
    assert user.balance(savings) == "43.00"

    user.delete(user.url("accounts", account["id"]))

    assert user.balance(savings) == "5.00"


def test_delete_twice_is_404(user, account):
    user.delete(user.url("accounts", account["id"]))

    assert user.delete(user.url("accounts", account["id"])).status_code == 404


# --- other users ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, body",
    [("get", None), ("post", {"name": "Sneaky"})],
)
def test_another_users_account_collection_is_403(user, other_user, method, body):
    kwargs = {} if body is None else {"json": body}

    response = getattr(user, method)(other_user.url("accounts"), **kwargs)

    assert response.status_code == 403
    assert response.json["code"] == 403


@pytest.mark.parametrize(
    "method, body",
    [("get", None), ("put", {"name": "Mine"}), ("patch", {"name": "Mine"}), ("delete", None)],
)
def test_another_users_account_path_user_id_is_403(user, other_user, method, body):
    theirs = other_user.account()
    kwargs = {} if body is None else {"json": body}

    response = getattr(user, method)(other_user.url("accounts", theirs["id"]), **kwargs)

    assert response.status_code == 403
    assert other_user.get(other_user.url("accounts", theirs["id"])).json == theirs


@pytest.mark.parametrize(
    "method, body",
    [
        ("get", None),
        ("put", {"name": "Mine"}),
        ("patch", {"opening_balance": "0.00"}),
        ("delete", None),
    ],
)
def test_another_users_account_id_under_my_path_is_404(user, other_user, method, body):
    theirs = other_user.account(opening_balance="10.00")
    kwargs = {} if body is None else {"json": body}

    response = getattr(user, method)(user.url("accounts", theirs["id"]), **kwargs)

    assert response.status_code == 404
    assert other_user.get(other_user.url("accounts", theirs["id"])).json == theirs


def test_another_users_account_looks_exactly_like_a_missing_one(user, other_user):
    theirs = other_user.account()

    hidden = user.get(user.url("accounts", theirs["id"]))
    missing = user.get(user.url("accounts", theirs["id"] + 1000))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["message"].replace(str(theirs["id"]), "N") == missing.json[
        "message"
    ].replace(str(theirs["id"] + 1000), "N")


def test_accounts_need_a_token(client, user):
    assert client.get(user.url("accounts")).status_code == 401


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None])
def test_archived_takes_only_json_booleans(user, value):
    response = user.post(user.url("accounts"), json={"name": "Strict", "archived": value})
    assert response.status_code == 422
    assert "archived" in response.json["errors"]["json"]
