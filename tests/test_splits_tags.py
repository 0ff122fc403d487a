"""Split transactions (parts in categories, adding up exactly to the amount, moving no balance
of their own) and tags (free-form, a filter that takes any of several)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db


def rows(app, table: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def split_body(account, amount="30.00", parts=(), **fields):
    return {
        "account_id": account["id"],
        "type": "expense",
        "amount": amount,
        "splits": list(parts),
        **fields,
    }


def test_a_split_expense_moves_the_balance_once_by_its_amount(user, account):
    food, home = user.category(name="Food"), user.category(name="Home")
    response = user.post(
        user.url("transactions"),
        json=split_body(
            account,
            "30.00",
            [
                {"category_id": food["id"], "amount": "20.01", "note": "Bread"},
                {"category_id": home["id"], "amount": 9.99},
            ],
        ),
    )
    assert response.status_code == 201, response.json
    assert response.json["category_id"] is None
    assert response.json["splits"] == [
        {"category_id": food["id"], "amount": "20.01", "note": "Bread"},
        {"category_id": home["id"], "amount": "9.99", "note": ""},
    ]
    assert user.balance(account) == "70.00"  # 100.00 - 30.00, not minus each part again
    again = user.get(user.url("transactions", response.json["id"])).json
    assert again["splits"] == response.json["splits"]


def test_parts_that_do_not_add_up_are_a_422_and_nothing_is_written(app, user, account):
    food = user.category(name="Food")
    before = rows(app, "transactions"), rows(app, "transaction_splits")
    for parts, message in [
        ([{"category_id": food["id"], "amount": "20.00"}, {"amount": "9.99"}], "29.99 USD"),
        ([{"amount": "20.00"}, {"amount": "10.01"}], "30.01 USD"),
        ([{"amount": "30.001"}], "decimal place"),
        ([{"amount": "0"}], "greater than zero"),
    ]:
        response = user.post(user.url("transactions"), json=split_body(account, "30.00", parts))
        assert response.status_code == 422, response.json
        assert message in str(response.json), response.json
    assert (rows(app, "transactions"), rows(app, "transaction_splits")) == before
    assert user.balance(account) == "100.00"


def test_parts_are_in_the_accounts_minor_units(user):
    yen = user.account(name="Yen", currency="JPY", opening_balance="5000")
    ok = user.post(
        user.url("transactions"),
        json=split_body(yen, "1200", [{"amount": "700"}, {"amount": "500"}]),
    )
    assert ok.status_code == 201, ok.json
    assert [part["amount"] for part in ok.json["splits"]] == ["700", "500"]
    bad = user.post(
        user.url("transactions"),
        json=split_body(yen, "1200", [{"amount": "699.5"}, {"amount": "500.5"}]),
    )
    assert bad.status_code == 422 and "JPY" in bad.json["message"]


def test_what_cannot_be_split(user, other_user, account):
    food = user.category(name="Food")
    savings = user.account(name="Savings")
    theirs = other_user.category(name="Theirs")
    transfer = split_body(
        account, "5.00", [{"amount": "5.00"}], type="transfer", transfer_account_id=savings["id"]
    )
    assert user.post(user.url("transactions"), json=transfer).status_code == 422
    both = split_body(account, "5.00", [{"amount": "5.00"}], category_id=food["id"])
    response = user.post(user.url("transactions"), json=both)
    assert response.status_code == 422 and "category_id" in response.json["errors"]["json"]
    foreign = split_body(account, "5.00", [{"category_id": theirs["id"], "amount": "5.00"}])
    assert user.post(user.url("transactions"), json=foreign).status_code == 404
    assert user.balance(account) == "100.00"


def test_changing_a_split_transaction(app, user, account):
    food, home = user.category(name="Food"), user.category(name="Home")
    txn = user.transaction(
        account,
        amount="30.00",
        splits=[
            {"category_id": food["id"], "amount": "10.00"},
            {"category_id": home["id"], "amount": "20.00"},
        ],
    )
    url = user.url("transactions", txn["id"])
    # A new amount alone no longer fits the parts.
    response = user.patch(url, json={"amount": "31.00"})
    assert response.status_code == 422 and "splits" in response.json["errors"]["json"]
    assert user.balance(account) == "70.00"
    # With new parts it does; the balance follows the whole.
    response = user.patch(
        url, json={"amount": "31.00", "splits": [{"category_id": food["id"], "amount": "31.00"}]}
    )
    assert response.status_code == 200, response.json
    assert user.balance(account) == "69.00"
    assert user.patch(url, json={"category_id": home["id"]}).status_code == 422
    assert (
        user.patch(
            url, json={"type": "transfer", "transfer_account_id": user.account()["id"]}
        ).status_code
        == 422
    )
    # [] takes the parts away; then it may have a category of its own.
    response = user.patch(url, json={"splits": [], "category_id": home["id"]})
    assert response.status_code == 200, response.json
    assert response.json["splits"] == [] and response.json["category_id"] == home["id"]
    # A categorised transaction given parts leaves its category for them.
    response = user.patch(url, json={"splits": [{"category_id": food["id"], "amount": "31"}]})
    assert response.status_code == 200 and response.json["category_id"] is None
    user.delete(url)
    assert rows(app, "transaction_splits") == 0


def test_closing_an_account_takes_its_parts_and_tags(app, user, account):
    user.transaction(account, amount="3.00", splits=[{"amount": "3.00"}], tags=["x"])
    assert user.delete(user.url("accounts", account["id"])).status_code == 204
    assert rows(app, "transaction_splits") == rows(app, "transaction_tags") == 0


def test_the_category_filter_finds_each_part_in_its_category(user, account):
    food, home = user.category(name="Food"), user.category(name="Home")
    whole = user.transaction(account, amount="5.00", category_id=food["id"])
    split = user.transaction(
        account,
        amount="9.00",
        splits=[
            {"category_id": food["id"], "amount": "4.00"},
            {"category_id": home["id"], "amount": "5.00"},
        ],
    )
    partly = user.transaction(
        account,
        amount="2.00",
        splits=[{"category_id": home["id"], "amount": "1.00"}, {"amount": "1.00"}],
    )
    plain = user.transaction(account, amount="1.00")

    def ids(query):
        response = user.get(user.url("transactions") + query)
        assert response.status_code == 200, response.json
        assert int(response.headers["X-Total-Count"]) == len(response.json)
        return {t["id"] for t in response.json}

    assert ids(f"?category_id={food['id']}") == {whole["id"], split["id"]}
    assert ids(f"?category_id={home['id']}") == {split["id"], partly["id"]}
    # Uncategorised: no category and no parts, or a part without one.
    assert ids("?uncategorized=true") == {partly["id"], plain["id"]}


def test_tags_are_kept_trimmed_once_each_and_in_order(user, account):
    txn = user.transaction(account, tags=["vacation", "tax-2025", " vacation "])
    assert txn["tags"] == ["tax-2025", "vacation"]
    url = user.url("transactions", txn["id"])
    assert user.patch(url, json={"tags": ["vacation", "work"]}).json["tags"] == ["vacation", "work"]
    assert user.get(url).json["tags"] == ["vacation", "work"]
    assert user.patch(url, json={"description": "kept"}).json["tags"] == ["vacation", "work"]
    assert user.patch(url, json={"tags": []}).json["tags"] == []


def test_a_change_of_tags_answers_them_in_alphabetical_order_as_a_get_does(user, account):
    txn = user.transaction(account, tags=["middle"])
    url = user.url("transactions", txn["id"])
    changed = user.patch(url, json={"tags": ["zebra", "middle", "alpha"]}).json["tags"]
    assert changed == ["alpha", "middle", "zebra"] == user.get(url).json["tags"]


def test_bad_tags_are_a_422(user, account):
    body = {"account_id": account["id"], "type": "expense", "amount": "1.00"}
    for tags in (["x" * 51], [""], ["   "], [f"t{i}" for i in range(21)], "vacation", [1]):
        response = user.post(user.url("transactions"), json={**body, "tags": tags})
        assert response.status_code == 422, (tags, response.json)
    assert user.balance(account) == "100.00"


def test_the_tag_filter_takes_any_of_several(user, other_user, account):
    a = user.transaction(account, tags=["vacation"])
    b = user.transaction(account, tags=["tax-2025", "work"])
    user.transaction(account, tags=["other"])
    user.transaction(account)
    theirs = other_user.account()
    other_user.transaction(theirs, tags=["vacation"])

    def ids(query):
        response = user.get(user.url("transactions") + query)
        assert response.status_code == 200, response.json
        assert int(response.headers["X-Total-Count"]) == len(response.json)
        return {t["id"] for t in response.json}

    assert ids("?tag=vacation") == {a["id"]}
    assert ids("?tag=vacation&tag=tax-2025") == {a["id"], b["id"]}
    assert ids("?tag=nothing") == set()
    assert user.get(user.url("transactions") + "?tag=" + "x" * 51).status_code == 422
