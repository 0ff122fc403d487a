"""The transaction list: every filter, both sort keys in both orders, and paging.

Most tests read one small book of transactions (the `book` fixture) and compare the ids
they get back, in order, with the ids they expect.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def book(user):
    """Accounts, categories and six transactions chosen so that each filter tells them apart."""
    checking = user.account(name="Checking", opening_balance="100.00")
    savings = user.account(name="Savings", opening_balance="0.00")
    yen = user.account(name="Yen", currency="JPY", opening_balance="0")
    food = user.category(name="Food")
    fees = user.category(name="Fees")
    salary = user.category(name="Pay", kind="income")

    def add(name, account, **fields):
        txns[name] = user.transaction(account, **fields)["id"]

    txns: dict[str, int] = {}
    add(
        "lunch",
        checking,
        amount="12.50",
        date="2026-01-05",
        category_id=food["id"],
        description="Lunch at 50% off",
        payee="Cafe",
    )
    add(
        "salary",
        checking,
        amount="1000.00",
        type="income",
        date="2026-01-01",
        category_id=salary["id"],
        description="Salary January",
        payee="ACME Corp",
    )
    add(
        "saving",
        checking,
        amount="200.00",
        type="transfer",
        transfer_account_id=savings["id"],
        date="2026-01-10",
        description="Monthly saving",
    )
    add("ramen", yen, amount="1200", date="2026-01-07", description="Ramen", payee="Ichiran")
    add(
        "fee",
        savings,
        amount="12.49",
        date="2026-01-31",
        category_id=fees["id"],
        description="Account fee",
    )
    add(
        "coffee",
        checking,
        amount="5.00",
        date="2026-02-01",
        description="COFFEE",
        payee="Star_Bucks",
    )
    return {
        "accounts": {"checking": checking, "savings": savings, "yen": yen},
        "categories": {"food": food, "fees": fees, "salary": salary},
        "ids": txns,
    }


def listed(user, **params):
    response = user.get(user.url("transactions"), query_string=params)
    assert response.status_code == 200, response.json
    return response


def names(book, response):
    """The book's names of the listed transactions, in the order listed."""
    by_id = {txn_id: name for name, txn_id in book["ids"].items()}
    return [by_id[txn["id"]] for txn in response.json]


# The book by date, newest first (the default order).
BY_DATE_DESC = ["coffee", "fee", "saving", "ramen", "lunch", "salary"]


# --- filters --------------------------------------------------------------------------------


def test_the_default_order_is_newest_first(user, book):
    response = listed(user)
    assert names(book, response) == BY_DATE_DESC
    assert response.headers["X-Total-Count"] == "6"


def test_start_date_is_inclusive(user, book):
    assert names(book, listed(user, start_date="2026-01-07")) == [
        "coffee",
        "fee",
        "saving",
        "ramen",
    ]


def test_end_date_is_inclusive(user, book):
    assert names(book, listed(user, end_date="2026-01-07")) == ["ramen", "lunch", "salary"]


def test_start_and_end_date_together(user, book):
    response = listed(user, start_date="2026-01-05", end_date="2026-01-10")
    assert names(book, response) == ["saving", "ramen", "lunch"]
    assert response.headers["X-Total-Count"] == "3"


def test_a_single_day_range(user, book):
    assert names(book, listed(user, start_date="2026-01-31", end_date="2026-01-31")) == ["fee"]


def test_category_id(user, book):
    assert names(book, listed(user, category_id=book["categories"]["food"]["id"])) == ["lunch"]


def test_uncategorized(user, book):
    assert names(book, listed(user, uncategorized="true")) == ["coffee", "saving", "ramen"]


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("income", ["salary"]),
        ("expense", ["coffee", "fee", "ramen", "lunch"]),
        ("transfer", ["saving"]),
    ],
)
def test_transaction_type(user, book, type_, expected):
    assert names(book, listed(user, transaction_type=type_)) == expected


def test_account_id_includes_transfers_into_the_account(user, book):
    savings = book["accounts"]["savings"]["id"]
    assert names(book, listed(user, account_id=savings)) == ["fee", "saving"]


def test_account_id_includes_transfers_out_of_the_account(user, book):
    checking = book["accounts"]["checking"]["id"]
    assert names(book, listed(user, account_id=checking)) == ["coffee", "saving", "lunch", "salary"]


def test_min_amount_is_inclusive_and_compares_values_across_currencies(user, book):
    # JPY 1200 is above USD 12.50 as written; USD 12.49 and 5.00 are below.
    assert names(book, listed(user, min_amount="12.50")) == ["saving", "ramen", "lunch", "salary"]


def test_max_amount_is_inclusive_and_compares_values_across_currencies(user, book):
    assert names(book, listed(user, max_amount="12.50")) == ["coffee", "fee", "lunch"]


def test_min_and_max_amount_select_the_yen_amount_above_every_dollar_amount(user, book):
    assert names(book, listed(user, min_amount="1000.01", max_amount="1200")) == ["ramen"]


def test_an_amount_range_between_two_cents(user, book):
    assert names(book, listed(user, min_amount="12.491", max_amount="12.499")) == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lunch", ["lunch"]),  # description, other case
        ("coffee", ["coffee"]),  # description written in capitals
        ("acme", ["salary"]),  # payee
        ("CAFE", ["lunch"]),  # payee, other case
        ("bucks", ["coffee"]),
        ("%", ["lunch"]),  # taken literally, not as a LIKE wildcard
        ("_", ["coffee"]),
        ("50%", ["lunch"]),
        ("nothing like it", []),
    ],
)
def test_q_searches_description_and_payee_ignoring_case(user, book, q, expected):
    assert names(book, listed(user, q=q)) == expected


def test_q_takes_a_backslash_literally(user, account):
    wanted = user.transaction(account, description="Backup to C:\\new")["id"]
    user.transaction(account, description="new shoes")
    assert [txn["id"] for txn in listed(user, q="\\n").json] == [wanted]


def test_filters_combine(user, book):
    checking = book["accounts"]["checking"]["id"]
    response = listed(
        user, account_id=checking, transaction_type="expense", start_date="2026-01-02"
    )
    assert names(book, response) == ["coffee", "lunch"]
    assert response.headers["X-Total-Count"] == "2"


def test_another_users_transactions_are_never_listed(user, other_user, book):
    theirs = other_user.account()
    other_user.transaction(theirs, description="Lunch")
    assert names(book, listed(user, q="lunch")) == ["lunch"]
    assert listed(other_user).headers["X-Total-Count"] == "1"


# --- sorting --------------------------------------------------------------------------------


def test_sort_by_date_ascending(user, book):
    assert names(book, listed(user, sort_by="date", order="asc")) == BY_DATE_DESC[::-1]


def test_sort_by_date_descending(user, book):
    assert names(book, listed(user, sort_by="date", order="desc")) == BY_DATE_DESC


def test_sort_by_amount_ascending_compares_decimal_values(user, book):
    assert names(book, listed(user, sort_by="amount", order="asc")) == [
        "coffee",
        "fee",
        "lunch",
        "saving",
        "salary",
        "ramen",
    ]


def test_sort_by_amount_defaults_to_descending(user, book):
    assert names(book, listed(user, sort_by="amount")) == [
        "ramen",
        "salary",
        "saving",
        "lunch",
        "fee",
        "coffee",
    ]


@pytest.mark.parametrize("sort_by", ["date", "amount"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_of_equal_values_never_overlap_or_skip(user, account, sort_by, order):
    created = [user.transaction(account, amount="1.00", date="2026-03-01")["id"] for _ in range(17)]
    seen = []
    for skip in range(0, 21, 5):
        page = listed(user, sort_by=sort_by, order=order, skip=skip, limit=5)
        assert page.headers["X-Total-Count"] == "17"
        seen += [txn["id"] for txn in page.json]
    # Ties break by id in the same direction as the sort.
    assert seen == sorted(created, reverse=order == "desc")


# --- paging ---------------------------------------------------------------------------------


def test_limit_gives_one_page_and_the_total_count(user, book):
    response = listed(user, limit=2)
    assert names(book, response) == BY_DATE_DESC[:2]
    assert response.headers["X-Total-Count"] == "6"


def test_the_last_page_is_short(user, book):
    response = listed(user, skip=4, limit=4)
    assert names(book, response) == BY_DATE_DESC[4:]
    assert response.headers["X-Total-Count"] == "6"


def test_skip_beyond_the_end_is_an_empty_page(user, book):
    response = listed(user, skip=50)
    assert response.json == []
    assert response.headers["X-Total-Count"] == "6"


def test_an_empty_list_counts_zero(user):
    response = listed(user)
    assert (response.json, response.headers["X-Total-Count"]) == ([], "0")


def test_limit_of_1000_is_allowed(user, book):
    assert len(listed(user, limit=1000).json) == 6


# --- bad queries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": -1}, "limit"),
        ({"skip": -1}, "skip"),
        ({"transaction_type": "refund"}, "transaction_type"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-31"}, "end_date"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"sort_by": "payee"}, "sort_by"),
        ({"order": "up"}, "order"),
        ({"min_amount": "abc"}, "min_amount"),
        ({"min_amount": "10", "max_amount": "5"}, "max_amount"),
        ({"category_id": "x"}, "category_id"),
        ({"account_id": "0"}, "account_id"),
        ({"account_id": "99999999999999999999"}, "account_id"),
    ],
)
def test_an_invalid_query_is_422(user, params, field):
    response = user.get(user.url("transactions"), query_string=params)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["query"]


def test_unfiltered_total_follows_creates_and_deletes(user, account):
    """The unfiltered total is a maintained count: it must follow every write."""
    savings = user.account(name="Count savings")
    kept = user.transaction(account, amount="1.00")
    gone = user.transaction(account, amount="2.00")
    user.transaction(savings, amount="3.00", type="income")
    user.transaction(account, amount="4.00", type="transfer", transfer_account_id=savings["id"])
    assert user.delete(user.url("transactions", gone["id"])).status_code == 204
    assert user.get(user.url("transactions")).headers["X-Total-Count"] == "3"
    assert user.delete(user.url("accounts", savings["id"])).status_code == 204
    response = user.get(user.url("transactions"))
    assert response.headers["X-Total-Count"] == "1"
    assert [t["id"] for t in response.json] == [kept["id"]]


def test_uncategorized_false_is_no_filter(user, account):
    user.transaction(account, category_id=user.category()["id"])
    user.transaction(account)
    response = user.get(user.url("transactions") + "?uncategorized=false")
    assert response.headers["X-Total-Count"] == "2"


def test_a_zero_bound_is_still_a_filter(user, account):
    user.transaction(account, amount="5.00")
    response = user.get(user.url("transactions") + "?max_amount=0")
    assert response.headers["X-Total-Count"] == "0"
    assert response.json == []
