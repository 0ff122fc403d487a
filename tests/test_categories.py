"""Categories: /categories/ — each user's own, unique by name, optionally nested.

Read-only and unknown fields of every resource are covered in test_http_conventions.py.
"""

from __future__ import annotations

import pytest

from app.categories.models import DEFAULT_CATEGORIES


def names(user) -> list[str]:
    return [c["name"] for c in user.get("/categories/", query_string={"limit": 1000}).json]


# --- the default set ------------------------------------------------------------------------


def test_a_new_user_starts_with_the_default_categories(user):
    response = user.get("/categories/")

    assert response.status_code == 200
    assert {(c["name"], c["kind"]) for c in response.json} == set(DEFAULT_CATEGORIES)
    assert response.headers["X-Total-Count"] == str(len(DEFAULT_CATEGORIES))


def test_the_default_set_has_income_and_expense_categories(user):
    kinds = {c["kind"] for c in user.get("/categories/").json}

    assert kinds == {"income", "expense"}


def test_each_user_gets_their_own_copy_of_the_defaults(user, other_user):
    mine = {c["id"] for c in user.get("/categories/").json}
    theirs = {c["id"] for c in other_user.get("/categories/").json}

    assert mine and theirs
    assert mine.isdisjoint(theirs)


# --- create ---------------------------------------------------------------------------------


def test_create_answers_201_with_id_name_kind_and_parent(user):
    response = user.post("/categories/", json={"name": "Books", "kind": "expense"})

    assert response.status_code == 201
    assert set(response.json) == {"id", "name", "kind", "parent_id"}
    assert response.json["name"] == "Books"
    assert response.json["parent_id"] is None


def test_create_with_only_a_name_is_an_expense_category(user):
    response = user.post("/categories/", json={"name": "Books"})

    assert response.status_code == 201
    assert response.json["kind"] == "expense"


def test_create_an_income_category(user):
    assert user.category(kind="income")["kind"] == "income"


def test_unknown_kind_is_422(user):
    response = user.post("/categories/", json={"name": "Books", "kind": "transfer"})

    assert response.status_code == 422
    assert "kind" in response.json["errors"]["json"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}])
def test_name_is_required_and_1_to_100_characters(user, body):
    response = user.post("/categories/", json=body)

    assert response.status_code == 422
    assert "name" in response.json["errors"]["json"]


def test_category_name_is_trimmed(user):
    assert user.category(name=" Books ")["name"] == "Books"


def test_blank_category_name_is_422(user):
    response = user.post("/categories/", json={"name": " \n "})

    assert response.status_code == 422
    assert "name" in response.json["errors"]["json"]


def test_duplicate_name_for_the_same_user_is_409(user):
    user.category(name="Books")

    response = user.post("/categories/", json={"name": "Books"})

    assert response.status_code == 409
    assert response.json["code"] == 409


def test_a_default_category_name_is_taken_too(user):
    assert user.post("/categories/", json={"name": "Groceries"}).status_code == 409


def test_two_users_may_share_a_category_name(user, other_user):
    user.category(name="Books")

    assert other_user.post("/categories/", json={"name": "Books"}).status_code == 201


def test_renaming_to_a_taken_name_is_409(user):
    books = user.category(name="Books")

    response = user.patch(f"/categories/{books['id']}", json={"name": "Groceries"})

    assert response.status_code == 409
    assert user.get(f"/categories/{books['id']}").json["name"] == "Books"


def test_renaming_a_category_to_its_own_name_is_fine(user):
    books = user.category(name="Books")

    assert user.put(f"/categories/{books['id']}", json={"name": "Books"}).status_code == 200


# --- nesting --------------------------------------------------------------------------------


def test_create_a_subcategory_of_my_own_category(user):
    parent = user.category(name="Food")

    child = user.category(name="Bakery", parent_id=parent["id"])

    assert child["parent_id"] == parent["id"]


def test_parent_of_another_user_is_404(user, other_user):
    theirs = other_user.category(name="Theirs")

    response = user.post("/categories/", json={"name": "Mine", "parent_id": theirs["id"]})

    assert response.status_code == 404
    assert "Mine" not in names(user)


def test_unknown_parent_is_404(user):
    response = user.post("/categories/", json={"name": "Orphan", "parent_id": 999999})

    assert response.status_code == 404


def test_moving_under_another_users_category_is_404(user, other_user):
    mine = user.category()
    theirs = other_user.category()

    response = user.patch(f"/categories/{mine['id']}", json={"parent_id": theirs["id"]})

    assert response.status_code == 404
    assert user.get(f"/categories/{mine['id']}").json["parent_id"] is None


def test_a_category_cannot_be_its_own_parent(user):
    category = user.category()

    response = user.patch(f"/categories/{category['id']}", json={"parent_id": category["id"]})

    assert response.status_code == 422
    assert "parent_id" in response.json["errors"]["json"]


def test_a_category_cannot_move_under_its_own_descendant(user):
    top = user.category()
    middle = user.category(parent_id=top["id"])
    bottom = user.category(parent_id=middle["id"])

    response = user.put(f"/categories/{top['id']}", json={"parent_id": bottom["id"]})

    assert response.status_code == 422
    assert user.get(f"/categories/{top['id']}").json["parent_id"] is None


def test_a_subcategory_can_become_top_level_again(user):
    parent = user.category()
    child = user.category(parent_id=parent["id"])

    response = user.patch(f"/categories/{child['id']}", json={"parent_id": None})

    assert response.status_code == 200
    assert response.json["parent_id"] is None


# --- read, change -------------------------------------------------------------------------


def test_get_returns_the_category(user):
    category = user.category(name="Books")

    response = user.get(f"/categories/{category['id']}")

    assert response.status_code == 200
    assert response.json == category


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_changes_only_the_fields_given(user, method):
    category = user.category(name="Books", kind="expense")

    response = getattr(user, method)(f"/categories/{category['id']}", json={"kind": "income"})

    assert response.status_code == 200
    assert response.json == {**category, "kind": "income"}


def test_list_pages_with_skip_and_limit(user):
    everything = user.get("/categories/").json

    response = user.get("/categories/", query_string={"skip": 2, "limit": 3})

    assert response.json == everything[2:5]
    assert response.headers["X-Total-Count"] == str(len(everything))


def test_list_limit_over_1000_is_422(user):
    assert user.get("/categories/", query_string={"limit": 1001}).status_code == 422


# --- delete ---------------------------------------------------------------------------------


def test_delete_answers_204_and_the_category_is_gone(user):
    category = user.category()

    response = user.delete(f"/categories/{category['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert user.get(f"/categories/{category['id']}").status_code == 404


def test_delete_leaves_its_transactions_uncategorised(user, account):
    category = user.category()
    spent = user.transaction(account, amount="12.00", category_id=category["id"])

    user.delete(f"/categories/{category['id']}")

    transaction = user.get(user.url("transactions", spent["id"]))
    assert transaction.status_code == 200
    assert transaction.json["category_id"] is None
    assert transaction.json["amount"] == "12.00"
    assert user.balance(account) == "88.00"


def test_delete_makes_its_children_top_level(user):
    parent = user.category()
    child = user.category(parent_id=parent["id"])

    user.delete(f"/categories/{parent['id']}")

    response = user.get(f"/categories/{child['id']}")
    assert response.status_code == 200
    assert response.json["parent_id"] is None


# --- other users ----------------------------------------------------------------------------


def test_another_users_categories_are_not_listed(user, other_user):
    theirs = other_user.category(name="Private")

    listed = user.get("/categories/", query_string={"limit": 1000}).json

    assert theirs["id"] not in {c["id"] for c in listed}
    assert "Private" not in {c["name"] for c in listed}


@pytest.mark.parametrize(
    "method, body",
    [
        ("get", None),
        ("put", {"name": "Hijacked"}),
        ("patch", {"name": "Hijacked"}),
        ("delete", None),
    ],
)
def test_another_users_category_is_404(user, other_user, method, body):
    theirs = other_user.category(name="Private")
    kwargs = {} if body is None else {"json": body}

    response = getattr(user, method)(f"/categories/{theirs['id']}", **kwargs)

    assert response.status_code == 404
    assert other_user.get(f"/categories/{theirs['id']}").json == theirs


def test_categories_need_a_token(client):
    assert client.get("/categories/").status_code == 401
