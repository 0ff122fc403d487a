"""The contract's edges that a careful client trips on (API.md conventions): unknown query
parameters, empty bodies, currency moves, the currency filter, 422 messages in words, date
ranges, category names ignoring case, stale ETags, and simultaneous closes of one account."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import register

pytestmark = pytest.mark.usefixtures("app")


def txn_url(user, txn=None):
    return user.url("transactions", txn["id"] if txn else None)


# -- unknown query parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("transactions", "type=expense", "type"),
        ("transactions", "categoryid=3", "categoryid"),
        ("accounts", "archived=false", "archived"),
    ],
)
def test_an_unknown_query_parameter_on_a_list_is_a_422_naming_it(user, account, path, query, name):
    user.transaction(account, type="income")
    response = user.get(f"{user.url(path)}?{query}")
    assert response.status_code == 422
    assert response.json["message"] == f"Unknown query parameter '{name}'."
    assert response.json["errors"] == {"query": {name: ["Unknown field."]}}


@pytest.mark.parametrize(
    "path", ["/users/me/?verbose=1", "/healthz?x=1", "/categories/1?expand=parent"]
)
def test_a_query_parameter_on_an_operation_that_reads_none_is_a_422(user, path):
    response = user.get(path)
    assert response.status_code == 422
    assert response.json["message"].startswith("Unknown query parameter")


def test_the_known_query_parameters_still_work(user, account):
    user.transaction(account, type="income")
    user.transaction(account, type="expense")
    response = user.get(f"{txn_url(user)}?transaction_type=expense&limit=10&skip=0")
    assert response.status_code == 200
    assert [t["type"] for t in response.json] == ["expense"]


# -- empty bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_empty_json_body_is_a_400_and_changes_nothing(user, account, method):
    txn = user.transaction(account, amount="10.00")
    response = getattr(user.client, method)(
        txn_url(user, txn), data=b"", headers={**user.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["message"] == "The body is not valid JSON."
    assert user.get(txn_url(user, txn)).json == txn


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_empty_object_is_a_valid_change_of_nothing(user, account, method):
    txn = user.transaction(account, amount="10.00")
    response = getattr(user, method)(txn_url(user, txn), json={})
    assert response.status_code == 200
    assert response.json["amount"] == "10.00"
    assert user.balance(account) == "90.00"


def test_an_empty_json_body_on_an_account_is_a_400(user, account):
    response = user.client.patch(
        user.url("accounts", account["id"]),
        data=b"  ",
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


# -- the currency filter ------------------------------------------------------------------------


def test_the_currency_filter_lists_only_that_currency(user, account):
    yen = user.account(currency="JPY")
    user.transaction(account, amount="12.50")
    yen_txn = user.transaction(yen, amount="1200")
    response = user.get(f"{txn_url(user)}?currency=jpy")
    assert response.status_code == 200
    assert [t["id"] for t in response.json] == [yen_txn["id"]]
    assert response.headers["X-Total-Count"] == "1"


def test_an_unknown_currency_filter_is_a_422(user):
    response = user.get(f"{txn_url(user)}?currency=XYZ")
    assert response.status_code == 422
    assert response.json["message"].startswith("Query parameter currency:")


def test_sorting_by_amount_compares_decimal_values_across_currencies(user, account):
    yen = user.account(currency="JPY")
    usd = user.transaction(account, amount="12.50")
    jpy = user.transaction(yen, amount="1200")
    response = user.get(f"{txn_url(user)}?sort_by=amount&order=asc")
    assert [t["id"] for t in response.json] == [usd["id"], jpy["id"]]


# -- 422 messages in words ----------------------------------------------------------------------


def test_a_422_message_names_the_first_problem(user, account):
    response = user.post(txn_url(user), json={"account_id": account["id"], "type": "expense"})
    assert response.status_code == 422
    assert response.json["message"] == "amount: Missing data for required field."


def test_an_amount_too_large_for_the_account_names_its_currency(user):
    dinars = user.account(currency="BHD")
    body = {"account_id": dinars["id"], "type": "expense", "amount": "100000000000.000"}
    response = user.post(txn_url(user), json=body)
    assert response.status_code == 422
    assert "BHD amounts are at most 99999999999.999" in response.json["message"]


def test_an_amount_too_large_for_any_currency_names_none(user):
    yen = user.account(currency="JPY")
    body = {"account_id": yen["id"], "type": "expense", "amount": "100000000000000"}
    response = user.post(txn_url(user), json=body)
    assert response.status_code == 422
    assert response.json["message"] == (
        "amount: Too large: amounts are below 10^14 minor units of their currency."
    )


def test_an_opening_balance_too_large_names_its_currency(user):
    body = {"name": "Rich", "currency": "USD", "opening_balance": "1000000000000.00"}
    response = user.post(user.url("accounts"), json=body)
    assert response.status_code == 422
    assert "USD amounts are at most 999999999999.99" in response.json["message"]


def test_a_date_that_names_no_day_says_so(user, account):
    body = {"account_id": account["id"], "type": "expense", "amount": "1", "date": "2026-02-30"}
    response = user.post(txn_url(user), json=body)
    assert response.status_code == 422
    assert response.json["message"] == "date: 2026-02-30 is not a calendar date."


def test_a_stale_etag_is_a_412_that_says_what_to_do(user, account):
    txn = user.transaction(account)
    etag = user.get(txn_url(user, txn)).headers["ETag"]
    user.patch(txn_url(user, txn), json={"description": "changed"})
    response = user.client.patch(
        txn_url(user, txn), json={"amount": "99.00"}, headers={**user.headers, "If-Match": etag}
    )
    assert response.status_code == 412
    assert "changed since you read it" in response.json["message"]
    assert "GET it again" in response.json["message"]
    assert user.balance(account) == "90.00"


def test_a_stale_etag_on_an_account_delete_changes_nothing(user, account):
    etag = user.get(user.url("accounts", account["id"])).headers["ETag"]
    user.patch(user.url("accounts", account["id"]), json={"name": "Renamed"})
    response = user.client.delete(
        user.url("accounts", account["id"]), headers={**user.headers, "If-Match": etag}
    )
    assert response.status_code == 412
    assert user.get(user.url("accounts", account["id"])).status_code == 200


# -- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["1899-12-31", "2200-01-01", "0001-01-01", "9999-12-31"])
def test_a_transaction_date_outside_1900_to_2199_is_a_422(user, account, day):
    body = {"account_id": account["id"], "type": "expense", "amount": "1", "date": day}
    response = user.post(txn_url(user), json=body)
    assert response.status_code == 422
    assert response.json["message"] == "date: Must be a date from 1900-01-01 to 2199-12-31."
    assert user.balance(account) == "100.00"


@pytest.mark.parametrize("day", ["1900-01-01", "2199-12-31"])
def test_the_first_and_last_dates_are_accepted(user, account, day):
    assert user.transaction(account, date=day)["date"] == day


@pytest.mark.parametrize("param", ["start_date", "end_date"])
def test_a_list_date_outside_the_range_is_a_422(user, param):
    response = user.get(f"{txn_url(user)}?{param}=2200-01-01")
    assert response.status_code == 422
    assert param in response.json["message"]


def test_a_list_date_with_a_time_is_a_422(user):
    assert user.get(f"{txn_url(user)}?start_date=2026-01-01T00:00").status_code == 422


# -- category names ignoring case ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["groceries", "GROCERIES", " Groceries "])
def test_a_category_name_is_unique_ignoring_case(user, name):
    response = user.post("/categories/", json={"name": name})
    assert response.status_code == 409
    assert response.json["message"] == "You already have a category with that name."


def test_renaming_a_category_onto_another_ignoring_case_is_a_409(user):
    mine = user.category(name="Books")
    response = user.patch(f"/categories/{mine['id']}", json={"name": "HOUSING"})
    assert response.status_code == 409
    assert user.get(f"/categories/{mine['id']}").json["name"] == "Books"


def test_a_category_may_change_the_case_of_its_own_name(user):
    mine = user.category(name="Books")
    response = user.patch(f"/categories/{mine['id']}", json={"name": "BOOKS"})
    assert (response.status_code, response.json["name"]) == (200, "BOOKS")


def test_two_users_may_have_the_same_category_name(user, other_user):
    assert user.category(name="Vinyl")["name"] == other_user.category(name="vinyl")["name"].title()


# -- simultaneous closes of one account ---------------------------------------------------------


def close_concurrently(app, user, account_id, copies, if_match=None):
    headers = {**user.headers, **({"If-Match": if_match} if if_match else {})}
    barrier = threading.Barrier(copies)
    statuses = []

    def close():
        client = app.test_client()
        barrier.wait()
        statuses.append(
            client.delete(user.url("accounts", account_id), headers=headers).status_code
        )

    threads = [threading.Thread(target=close) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.mark.parametrize("with_if_match", [False, True])
def test_simultaneous_closes_of_one_account_tell_one_caller_it_closed_it(
    app, client, with_if_match
):
    user = register(client, "closer")
    checking = user.account(name="Checking", opening_balance="100.00")
    savings = user.account(name="Savings", opening_balance="50.00")
    for _ in range(3):
        user.transaction(checking, type="transfer", transfer_account_id=savings["id"])
    etag = user.get(user.url("accounts", checking["id"])).headers["ETag"]
    statuses = close_concurrently(app, user, checking["id"], 8, etag if with_if_match else None)
    assert statuses == [204] + [404] * 7
    # The transfers were undone on the other side exactly once.
    assert user.balance(savings) == "50.00"
