"""Transactions: create, read, update and delete, and what each does to account balances.

Balances are read back through the API after every change; the autouse fixture in conftest
also checks the ledger invariant (balance == opening balance + signed transactions) after
every test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def savings(user):
    return user.account(name="Savings", opening_balance="50.00")


def url(user, txn=None):
    return user.url("transactions", None if txn is None else txn["id"])


def field_error(response, field):
    """The messages a 422 gives for a body field (flask-smorest's error layout)."""
    assert response.status_code == 422, response.json
    return response.json["errors"]["json"][field]


# --- creating -------------------------------------------------------------------------------


def test_income_adds_to_the_account_balance(user, account):
    user.transaction(account, amount="25.50", type="income")
    assert user.balance(account) == "125.50"


def test_expense_subtracts_from_the_account_balance(user, account):
    user.transaction(account, amount="25.50", type="expense")
    assert user.balance(account) == "74.50"


def test_transfer_moves_money_between_own_accounts(user, account, savings):
    txn = user.transaction(
        account, amount="30.00", type="transfer", transfer_account_id=savings["id"]
    )
    assert txn["transfer_account_id"] == savings["id"]
    assert user.balance(account) == "70.00"
    assert user.balance(savings) == "80.00"


def test_ten_cents_and_twenty_cents_make_exactly_thirty(user):
    wallet = user.account(opening_balance="0")
    user.transaction(wallet, amount="0.10")
    user.transaction(wallet, amount=0.20)  # a JSON number is read as a decimal, not a float
    assert user.balance(wallet) == "-0.30"


def test_create_answers_201_with_the_whole_transaction(user, account):
    category = user.category(name="Books")
    response = user.post(
        url(user),
        json={
            "account_id": account["id"],
            "type": "expense",
            "amount": "12.5",
            "date": "2026-01-15",
            "description": "A novel",
            "payee": "Bookshop",
            "category_id": category["id"],
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["id"] > 0
    assert {key: body[key] for key in body if key not in ("id", "created_at", "updated_at")} == {
        "user_id": user.id,
        "account_id": account["id"],
        "category_id": category["id"],
        "type": "expense",
        "amount": "12.50",
        "currency": "USD",
        "date": "2026-01-15",
        "description": "A novel",
        "payee": "Bookshop",
        "transfer_account_id": None,
        "transfer_amount": None,
        "transfer_currency": None,
        "exchange_rate": None,
        "status": "pending",
        "transfer_status": None,
    }
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_a_created_transaction_can_be_read_back(user, account):
    txn = user.transaction(account, amount="3.00", description="Coffee")
    response = user.get(url(user, txn))
    assert response.status_code == 200
    assert response.json == txn


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("USD", "12.5", "12.50"),
        ("USD", 7, "7.00"),
        ("JPY", "1200", "1200"),
        ("JPY", "10.0", "10"),
        ("BHD", "1.5", "1.500"),
    ],
)
def test_amounts_show_the_currency_decimals(user, currency, amount, shown):
    wallet = user.account(currency=currency)
    txn = user.transaction(wallet, amount=amount, type="income")
    assert (txn["amount"], txn["currency"]) == (shown, currency)
    assert user.balance(wallet) == shown


@pytest.mark.parametrize(
    ("currency", "amount"), [("JPY", "1.5"), ("USD", "1.005"), ("BHD", "0.0001")]
)
def test_more_decimals_than_the_currency_has_is_422(user, currency, amount):
    wallet = user.account(currency=currency)
    body = {"account_id": wallet["id"], "type": "expense", "amount": amount}
    assert field_error(user.post(url(user), json=body), "amount")
    assert user.get(url(user)).headers["X-Total-Count"] == "0"


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", -1, "abc", "NaN", True])
def test_an_amount_that_is_not_positive_is_422(user, account, amount):
    body = {"account_id": account["id"], "type": "expense", "amount": amount}
    assert field_error(user.post(url(user), json=body), "amount")
    assert user.balance(account) == "100.00"


def test_date_defaults_to_today_in_utc(user, account):
    before = datetime.now(UTC).date().isoformat()
    txn = user.transaction(account)
    after = datetime.now(UTC).date().isoformat()
    assert txn["date"] in {before, after}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2026-01-31T23:30:00-05:00", "2026-01-31"),  # already Feb 1 in UTC
        ("2026-02-01T00:30:00+09:00", "2026-02-01"),  # still Jan 31 in UTC
        ("2026-01-31T12:00:00Z", "2026-01-31"),
        ("2026-01-31T12:00:00", "2026-01-31"),
    ],
)
def test_a_datetime_keeps_the_calendar_date_written_in_its_own_offset(user, account, sent, kept):
    assert user.transaction(account, date=sent)["date"] == kept


@pytest.mark.parametrize(
    "date",
    [
        "2025-02-30",
        "2025-13-01",
        "2025-00-10",
        "2025-01-31T25:00:00",
        "yesterday",
        "",
        20250101,
        "20250101",  # ISO basic format: not YYYY-MM-DD
        "2025-W05-6",  # ISO week date
        "2025-1-5",
    ],
)
def test_an_impossible_or_malformed_date_is_422(user, account, date):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00", "date": date}
    assert field_error(user.post(url(user), json=body), "date")


def test_unknown_type_is_422(user, account):
    body = {"account_id": account["id"], "type": "refund", "amount": "1.00"}
    assert field_error(user.post(url(user), json=body), "type")


@pytest.mark.parametrize("field", ["id", "user_id", "currency", "created_at", "balance"])
def test_read_only_and_unknown_fields_are_422(user, account, field):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00", field: 1}
    assert field_error(user.post(url(user), json=body), field)


def test_a_transfer_without_a_destination_is_422(user, account):
    body = {"account_id": account["id"], "type": "transfer", "amount": "1.00"}
    assert field_error(user.post(url(user), json=body), "transfer_account_id")


def test_income_with_a_transfer_account_is_422(user, account, savings):
    body = {
        "account_id": account["id"],
        "type": "income",
        "amount": "1.00",
        "transfer_account_id": savings["id"],
    }
    assert field_error(user.post(url(user), json=body), "transfer_account_id")


def test_a_transfer_to_the_same_account_is_422(user, account):
    body = {
        "account_id": account["id"],
        "type": "transfer",
        "amount": "1.00",
        "transfer_account_id": account["id"],
    }
    assert field_error(user.post(url(user), json=body), "transfer_account_id")
    assert user.balance(account) == "100.00"


def test_a_transfer_between_currencies_without_transfer_amount_is_422(user, account):
    yen = user.account(currency="JPY")
    body = {
        "account_id": account["id"],
        "type": "transfer",
        "amount": "1.00",
        "transfer_account_id": yen["id"],
    }
    assert field_error(user.post(url(user), json=body), "transfer_amount") == [
        f"A transfer from USD to JPY needs transfer_amount: what arrives at account {yen['id']}, "
        "in JPY."
    ]
    assert (user.balance(account), user.balance(yen)) == ("100.00", "0")


def test_an_archived_account_takes_no_new_transaction(user, account):
    assert (
        user.patch(user.url("accounts", account["id"]), json={"archived": True}).status_code == 200
    )
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00"}
    assert field_error(user.post(url(user), json=body), "account_id")
    assert user.balance(account) == "100.00"


def test_an_archived_account_takes_no_transfer_in(user, account, savings):
    user.patch(user.url("accounts", savings["id"]), json={"archived": True})
    body = {
        "account_id": account["id"],
        "type": "transfer",
        "amount": "1.00",
        "transfer_account_id": savings["id"],
    }
    assert field_error(user.post(url(user), json=body), "transfer_account_id")
    assert (user.balance(account), user.balance(savings)) == ("100.00", "50.00")


# --- other users ----------------------------------------------------------------------------


def test_another_users_account_is_404_and_their_balance_is_unchanged(user, other_user):
    theirs = other_user.account(opening_balance="10.00")
    body = {"account_id": theirs["id"], "type": "expense", "amount": "1.00"}
    assert user.post(url(user), json=body).status_code == 404
    assert other_user.balance(theirs) == "10.00"


def test_another_users_account_as_transfer_destination_is_404(user, other_user, account):
    theirs = other_user.account(opening_balance="10.00")
    body = {
        "account_id": account["id"],
        "type": "transfer",
        "amount": "1.00",
        "transfer_account_id": theirs["id"],
    }
    assert user.post(url(user), json=body).status_code == 404
    assert (user.balance(account), other_user.balance(theirs)) == ("100.00", "10.00")


def test_another_users_category_is_404(user, other_user, account):
    theirs = other_user.category()
    body = {
        "account_id": account["id"],
        "type": "expense",
        "amount": "1.00",
        "category_id": theirs["id"],
    }
    assert user.post(url(user), json=body).status_code == 404
    assert user.balance(account) == "100.00"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_path_user_id_that_is_not_the_callers_is_403_on_the_list(
    user, other_user, account, method
):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00"}
    kwargs = {"json": body} if method == "post" else {}
    response = getattr(user, method)(other_user.url("transactions"), **kwargs)
    assert response.status_code == 403
    assert response.json["code"] == 403


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_path_user_id_that_is_not_the_callers_is_403_on_one_transaction(
    user, other_user, account, method
):
    txn = user.transaction(account)
    kwargs = {"json": {"description": "x"}} if method in ("put", "patch") else {}
    response = getattr(user, method)(f"{other_user.url('transactions')}{txn['id']}", **kwargs)
    assert response.status_code == 403


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_transaction_is_404(user, other_user, account, method):
    txn = user.transaction(account, description="mine")
    kwargs = {"json": {"description": "stolen"}} if method in ("put", "patch") else {}
    response = getattr(other_user, method)(f"{other_user.url('transactions')}{txn['id']}", **kwargs)
    assert response.status_code == 404
    assert user.get(url(user, txn)).json == txn
    assert user.balance(account) == "90.00"


def test_a_missing_transaction_is_404(user):
    assert user.get(f"{url(user)}999999").status_code == 404


# --- updating -------------------------------------------------------------------------------


def test_changing_the_amount_moves_the_balance_by_the_difference(user, account):
    txn = user.transaction(account, amount="10.00")
    response = user.patch(url(user, txn), json={"amount": "25.00"})
    assert response.status_code == 200
    assert response.json["amount"] == "25.00"
    assert user.balance(account) == "75.00"


def test_changing_expense_to_income_flips_its_effect(user, account):
    txn = user.transaction(account, amount="10.00", type="expense")
    assert user.patch(url(user, txn), json={"type": "income"}).status_code == 200
    assert user.balance(account) == "110.00"


def test_changing_income_to_expense_flips_its_effect(user, account):
    txn = user.transaction(account, amount="10.00", type="income")
    assert user.patch(url(user, txn), json={"type": "expense"}).status_code == 200
    assert user.balance(account) == "90.00"


def test_changing_type_and_amount_together(user, account):
    txn = user.transaction(account, amount="10.00", type="income")
    user.patch(url(user, txn), json={"type": "expense", "amount": "4.00"})
    assert user.balance(account) == "96.00"


def test_changing_an_expense_into_a_transfer_credits_the_destination(user, account, savings):
    txn = user.transaction(account, amount="10.00", type="expense")
    response = user.patch(
        url(user, txn), json={"type": "transfer", "transfer_account_id": savings["id"]}
    )
    assert response.status_code == 200
    assert response.json["transfer_account_id"] == savings["id"]
    assert (user.balance(account), user.balance(savings)) == ("90.00", "60.00")


def test_changing_income_into_a_transfer_moves_money_out(user, account, savings):
    txn = user.transaction(account, amount="10.00", type="income")
    user.patch(url(user, txn), json={"type": "transfer", "transfer_account_id": savings["id"]})
    assert (user.balance(account), user.balance(savings)) == ("90.00", "60.00")


@pytest.mark.parametrize(("new_type", "balance"), [("expense", "90.00"), ("income", "110.00")])
def test_changing_a_transfer_away_clears_its_destination(user, account, savings, new_type, balance):
    txn = user.transaction(
        account, amount="10.00", type="transfer", transfer_account_id=savings["id"]
    )
    response = user.patch(url(user, txn), json={"type": new_type})
    assert response.status_code == 200
    assert response.json["transfer_account_id"] is None
    assert user.get(url(user, txn)).json["transfer_account_id"] is None
    assert (user.balance(account), user.balance(savings)) == (balance, "50.00")


def test_changing_to_a_transfer_without_a_destination_is_422(user, account):
    txn = user.transaction(account, amount="10.00")
    response = user.patch(url(user, txn), json={"type": "transfer"})
    assert field_error(response, "transfer_account_id")
    assert user.get(url(user, txn)).json == txn
    assert user.balance(account) == "90.00"


def test_removing_a_transfers_destination_is_422(user, account, savings):
    txn = user.transaction(account, type="transfer", transfer_account_id=savings["id"])
    response = user.patch(url(user, txn), json={"transfer_account_id": None})
    assert field_error(response, "transfer_account_id")


def test_giving_income_a_transfer_account_is_422(user, account, savings):
    txn = user.transaction(account, type="income")
    response = user.patch(url(user, txn), json={"transfer_account_id": savings["id"]})
    assert field_error(response, "transfer_account_id")
    assert user.balance(savings) == "50.00"


def test_moving_an_expense_to_another_account(user, account, savings):
    txn = user.transaction(account, amount="10.00")
    response = user.patch(url(user, txn), json={"account_id": savings["id"]})
    assert response.json["account_id"] == savings["id"]
    assert (user.balance(account), user.balance(savings)) == ("100.00", "40.00")


def test_moving_and_changing_the_amount_at_once(user, account, savings):
    txn = user.transaction(account, amount="10.00", type="income")
    user.put(url(user, txn), json={"account_id": savings["id"], "amount": "1.25"})
    assert (user.balance(account), user.balance(savings)) == ("100.00", "51.25")


def test_changing_a_transfers_destination(user, account, savings):
    third = user.account(opening_balance="0.00")
    txn = user.transaction(
        account, amount="10.00", type="transfer", transfer_account_id=savings["id"]
    )
    response = user.patch(url(user, txn), json={"transfer_account_id": third["id"]})
    assert response.json["transfer_account_id"] == third["id"]
    assert [user.balance(a) for a in (account, savings, third)] == ["90.00", "50.00", "10.00"]


def test_changing_a_transfers_source(user, account, savings):
    third = user.account(opening_balance="0.00")
    txn = user.transaction(
        account, amount="10.00", type="transfer", transfer_account_id=savings["id"]
    )
    user.patch(url(user, txn), json={"account_id": third["id"]})
    assert [user.balance(a) for a in (account, savings, third)] == ["100.00", "60.00", "-10.00"]


def test_reversing_a_transfers_direction(user, account, savings):
    txn = user.transaction(
        account, amount="10.00", type="transfer", transfer_account_id=savings["id"]
    )
    response = user.patch(
        url(user, txn), json={"account_id": savings["id"], "transfer_account_id": account["id"]}
    )
    assert response.status_code == 200
    assert (user.balance(account), user.balance(savings)) == ("110.00", "40.00")


def test_making_a_transfers_source_its_destination_is_422(user, account, savings):
    txn = user.transaction(account, type="transfer", transfer_account_id=savings["id"])
    response = user.patch(url(user, txn), json={"account_id": savings["id"]})
    assert field_error(response, "transfer_account_id")
    assert (user.balance(account), user.balance(savings)) == ("90.00", "60.00")


def test_changing_a_transfers_destination_to_another_currency_needs_transfer_amount(
    user, account, savings
):
    yen = user.account(currency="JPY")
    txn = user.transaction(account, type="transfer", transfer_account_id=savings["id"])
    response = user.patch(url(user, txn), json={"transfer_account_id": yen["id"]})
    assert field_error(response, "transfer_amount") == [
        f"Account {yen['id']} holds JPY and this transfer's destination side is 10.00 USD: "
        "give its transfer_amount in JPY too."
    ]
    assert user.balance(yen) == "0"


def test_moving_to_another_currency_without_an_amount_is_422_asking_for_it(user, account):
    euros = user.account(currency="EUR", opening_balance="5000.00")
    txn = user.transaction(euros, amount="2400.00")
    response = user.patch(url(user, txn), json={"account_id": account["id"]})
    assert field_error(response, "amount")
    assert response.json["message"] == (
        f"amount: Account {account['id']} holds USD and this transaction is 2400.00 EUR: "
        "give its amount in USD too."
    )
    assert (user.balance(account), user.balance(euros)) == ("100.00", "2600.00")
    assert user.get(url(user, txn)).json["currency"] == "EUR"


def test_moving_to_another_currency_with_its_amount_there(user, account):
    yen = user.account(currency="JPY", opening_balance="1000")
    txn = user.transaction(account, amount="12.00")
    response = user.patch(url(user, txn), json={"account_id": yen["id"], "amount": "1800"})
    assert (response.json["amount"], response.json["currency"]) == ("1800", "JPY")
    assert (user.balance(account), user.balance(yen)) == ("100.00", "-800")


def test_moving_to_a_currency_that_cannot_hold_the_amount_is_422(user, account):
    yen = user.account(currency="JPY")
    txn = user.transaction(account, amount="12.50")
    response = user.patch(url(user, txn), json={"account_id": yen["id"], "amount": "12.5"})
    assert field_error(response, "amount")
    assert response.json["message"] == "amount: JPY amounts have at most 0 decimal places."
    assert (user.balance(account), user.balance(yen)) == ("87.50", "0")


def test_an_update_amount_with_too_many_decimals_is_422(user):
    yen = user.account(currency="JPY")
    txn = user.transaction(yen, amount="100")
    assert field_error(user.patch(url(user, txn), json={"amount": "1.5"}), "amount")
    assert user.balance(yen) == "-100"


def test_moving_to_an_archived_account_is_422(user, account, savings):
    txn = user.transaction(account)
    user.patch(user.url("accounts", savings["id"]), json={"archived": True})
    assert field_error(user.patch(url(user, txn), json={"account_id": savings["id"]}), "account_id")
    assert (user.balance(account), user.balance(savings)) == ("90.00", "50.00")


def test_a_transaction_on_an_archived_account_can_still_be_corrected(user, account):
    txn = user.transaction(account, amount="10.00")
    user.patch(user.url("accounts", account["id"]), json={"archived": True})
    response = user.patch(url(user, txn), json={"amount": "12.00", "description": "fixed"})
    assert response.status_code == 200
    assert user.balance(account) == "88.00"


def test_moving_to_another_users_account_is_404_and_their_balance_is_unchanged(
    user, other_user, account
):
    theirs = other_user.account(opening_balance="10.00")
    txn = user.transaction(account)
    assert user.patch(url(user, txn), json={"account_id": theirs["id"]}).status_code == 404
    assert other_user.balance(theirs) == "10.00"
    assert user.get(url(user, txn)).json["account_id"] == account["id"]


def test_transferring_to_another_users_account_by_update_is_404(user, other_user, account):
    theirs = other_user.account(opening_balance="10.00")
    txn = user.transaction(account)
    body = {"type": "transfer", "transfer_account_id": theirs["id"]}
    assert user.patch(url(user, txn), json=body).status_code == 404
    assert (user.balance(account), other_user.balance(theirs)) == ("90.00", "10.00")


def test_setting_another_users_category_is_404(user, other_user, account):
    txn = user.transaction(account)
    theirs = other_user.category()
    assert user.patch(url(user, txn), json={"category_id": theirs["id"]}).status_code == 404
    assert user.get(url(user, txn)).json["category_id"] is None


def test_changing_date_description_payee_and_category_leaves_balances_alone(user, account):
    category = user.category()
    txn = user.transaction(account, amount="10.00", date="2026-01-01")
    changes = {
        "date": "2026-02-03",
        "description": "Groceries",
        "payee": "Market",
        "category_id": category["id"],
    }
    response = user.patch(url(user, txn), json=changes)
    assert response.status_code == 200
    assert {key: response.json[key] for key in changes} == changes
    assert user.balance(account) == "90.00"


def test_a_category_can_be_removed(user, account):
    category = user.category()
    txn = user.transaction(account, category_id=category["id"])
    assert user.patch(url(user, txn), json={"category_id": None}).json["category_id"] is None


def test_put_changes_only_the_fields_given(user, account):
    txn = user.transaction(account, amount="10.00", description="Lunch", payee="Cafe")
    response = user.put(url(user, txn), json={"description": "Dinner"})
    assert response.status_code == 200
    unchanged = {key: txn[key] for key in txn if key not in ("description", "updated_at")}
    assert {key: response.json[key] for key in unchanged} == unchanged
    assert response.json["description"] == "Dinner"


@pytest.mark.parametrize("field", ["id", "user_id", "currency", "created_at"])
def test_updating_a_read_only_field_is_422(user, account, field):
    txn = user.transaction(account)
    assert field_error(user.patch(url(user, txn), json={field: 1}), field)


# --- deleting -------------------------------------------------------------------------------


def test_deleting_an_expense_gives_the_money_back(user, account):
    txn = user.transaction(account, amount="10.00")
    response = user.delete(url(user, txn))
    assert response.status_code == 204
    assert response.data == b""
    assert user.balance(account) == "100.00"
    assert user.get(url(user, txn)).status_code == 404


def test_deleting_income_takes_the_money_away(user, account):
    txn = user.transaction(account, amount="10.00", type="income")
    user.delete(url(user, txn))
    assert user.balance(account) == "100.00"


def test_deleting_a_transfer_restores_both_accounts(user, account, savings):
    txn = user.transaction(
        account, amount="10.00", type="transfer", transfer_account_id=savings["id"]
    )
    assert user.delete(url(user, txn)).status_code == 204
    assert (user.balance(account), user.balance(savings)) == ("100.00", "50.00")


def test_deleting_twice_is_404_and_reverses_only_once(user, account):
    txn = user.transaction(account, amount="10.00")
    user.delete(url(user, txn))
    assert user.delete(url(user, txn)).status_code == 404
    assert user.balance(account) == "100.00"


def test_deleting_an_account_deletes_its_transactions(user, account, savings):
    user.transaction(account)
    user.transaction(account, type="income")
    kept = user.transaction(savings)
    assert user.delete(user.url("accounts", account["id"])).status_code == 204
    remaining = user.get(url(user)).json
    assert [txn["id"] for txn in remaining] == [kept["id"]]


def test_deleting_an_account_reverses_its_transfers_on_the_other_account(user, account, savings):
    user.transaction(account, amount="10.00", type="transfer", transfer_account_id=savings["id"])
    user.transaction(account, amount="7.00", type="transfer", transfer_account_id=savings["id"])
    user.transaction(savings, amount="2.50", type="transfer", transfer_account_id=account["id"])
    assert user.balance(savings) == "64.50"
    assert user.delete(user.url("accounts", account["id"])).status_code == 204
    assert user.balance(savings) == "50.00"
    assert user.get(url(user)).json == []


def test_deleting_an_account_leaves_other_transfers_alone(user, account, savings):
    third = user.account(opening_balance="0.00")
    user.transaction(account, amount="10.00", type="transfer", transfer_account_id=savings["id"])
    user.transaction(savings, amount="4.00", type="transfer", transfer_account_id=third["id"])
    user.delete(user.url("accounts", account["id"]))
    assert (user.balance(savings), user.balance(third)) == ("46.00", "4.00")
