"""Two devices, one record: ETag on GET of an account or a transaction, If-Match on writes.

A stale If-Match is a 412 and changes nothing; without If-Match a write behaves as before.
"""

from __future__ import annotations


def with_if_match(user, etag: str) -> dict:
    return {**user.headers, "If-Match": etag}


def test_getting_a_transaction_returns_an_etag(user, account):
    txn = user.transaction(account)
    assert user.get(user.url("transactions", txn["id"])).headers.get("ETag")


def test_getting_an_account_returns_an_etag(user, account):
    assert user.get(user.url("accounts", account["id"])).headers.get("ETag")


def test_update_with_the_current_etag_applies(user, account):
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])
    etag = user.get(url).headers["ETag"]
    response = user.client.patch(url, json={"amount": "30.00"}, headers=with_if_match(user, etag))
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert user.balance(account) == "70.00"


def test_update_with_a_stale_etag_is_a_412_and_changes_nothing(user, account):
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])
    stale = user.get(url).headers["ETag"]
    user.patch(url, json={"amount": "20.00"})  # the other device
    response = user.client.put(url, json={"amount": "30.00"}, headers=with_if_match(user, stale))
    assert response.status_code == 412
    assert response.json["code"] == 412
    assert user.get(url).json["amount"] == "20.00"
    assert user.balance(account) == "80.00"


def test_delete_with_a_stale_etag_is_a_412_and_keeps_the_transaction(user, account):
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])
    stale = user.get(url).headers["ETag"]
    user.patch(url, json={"description": "edited elsewhere"})
    response = user.client.delete(url, headers=with_if_match(user, stale))
    assert response.status_code == 412
    assert user.get(url).status_code == 200
    assert user.balance(account) == "90.00"


def test_delete_with_the_current_etag_deletes(user, account):
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])
    etag = user.get(url).headers["ETag"]
    assert user.client.delete(url, headers=with_if_match(user, etag)).status_code == 204
    assert user.balance(account) == "100.00"


def test_writes_without_if_match_behave_as_before(user, account):
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])
    assert user.patch(url, json={"amount": "15.00"}).status_code == 200
    assert user.delete(url).status_code == 204
    assert user.balance(account) == "100.00"


def test_account_update_with_a_stale_etag_is_a_412_and_changes_nothing(user, account):
    url = user.url("accounts", account["id"])
    stale = user.get(url).headers["ETag"]
    user.patch(url, json={"name": "Renamed elsewhere"})
    response = user.client.patch(url, json={"name": "Mine"}, headers=with_if_match(user, stale))
    assert response.status_code == 412
    assert user.get(url).json["name"] == "Renamed elsewhere"


def test_account_update_with_the_current_etag_applies(user, account):
    url = user.url("accounts", account["id"])
    etag = user.get(url).headers["ETag"]
    response = user.client.patch(url, json={"name": "Mine"}, headers=with_if_match(user, etag))
    assert response.status_code == 200
    assert response.json["name"] == "Mine"


def test_a_new_transaction_makes_the_accounts_etag_stale(user, account):
    url = user.url("accounts", account["id"])
    stale = user.get(url).headers["ETag"]
    user.transaction(account)  # the balance, part of the account, changed
    response = user.client.delete(url, headers=with_if_match(user, stale))
    assert response.status_code == 412
    assert user.get(url).status_code == 200


def test_account_delete_with_the_current_etag_deletes(user, account):
    url = user.url("accounts", account["id"])
    etag = user.get(url).headers["ETag"]
    assert user.client.delete(url, headers=with_if_match(user, etag)).status_code == 204
    assert user.get(url).status_code == 404


def test_get_with_a_matching_if_none_match_is_a_304(user, account):
    url = user.url("accounts", account["id"])
    etag = user.get(url).headers["ETag"]
    response = user.client.get(url, headers={**user.headers, "If-None-Match": etag})
    assert response.status_code == 304


def test_if_match_and_412_are_documented_and_if_match_is_optional(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in (
        "/users/{user_id}/transactions/{transaction_id}",
        "/users/{user_id}/accounts/{account_id}",
    ):
        for method in ("put", "patch", "delete"):
            operation = paths[path][method]
            assert "412" in operation["responses"], (path, method)
            assert "428" not in operation["responses"], (path, method)
            if_match = [p for p in operation["parameters"] if p.get("name") == "If-Match"]
            assert if_match and if_match[0]["required"] is False, (path, method)
