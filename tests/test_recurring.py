"""Recurring transactions: the calendar (the month-end rule), schedules and their bad input,
post-due (API and `flask ledger post-due`) posting each occurrence exactly once, also when two
run at once, and the preview that writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.recurring.models import TYPES
from app.recurring.schedule import occurrences
from app.transactions.models import TRANSACTION_TYPES
from tests.test_concurrency import run_together

TODAY = datetime.now(UTC).date()


def test_a_schedule_posts_the_transaction_types():
    assert TYPES == TRANSACTION_TYPES


def first(n, *args, **kwargs):
    return list(occurrences(*args, **kwargs))[:n]


def test_monthly_keeps_its_day_where_the_month_has_it():
    assert first(4, date(2025, 1, 30), "month", 1) == [
        date(2025, 1, 30),
        date(2025, 2, 28),
        date(2025, 3, 30),
        date(2025, 4, 30),
    ]
    assert first(5, date(2024, 1, 31), "month", 1) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert first(3, date(2025, 8, 31), "month", 3) == [
        date(2025, 8, 31),
        date(2025, 11, 30),
        date(2026, 2, 28),
    ]
    assert first(3, date(2024, 2, 29), "year", 1) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
    ]
    assert first(3, date(2026, 1, 1), "week", 2) == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 29),
    ]


def test_a_schedule_ends_at_its_end_date_or_count():
    start = date(2026, 1, 1)
    assert list(occurrences(start, "day", 10, end=date(2026, 1, 31))) == [
        date(2026, 1, 1),
        date(2026, 1, 11),
        date(2026, 1, 21),
        date(2026, 1, 31),
    ]
    assert len(list(occurrences(start, "month", 1, count=3))) == 3
    assert list(occurrences(start, "month", 1, until=date(2026, 2, 27))) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def schedule(user, account, **fields):
    body = {
        "account_id": account["id"],
        "type": "expense",
        "amount": "12.50",
        "unit": "day",
        "every": 30,
        "start_date": str(TODAY - timedelta(days=100)),
        **fields,
    }
    response = user.post(user.url("recurring"), json=body)
    assert response.status_code == 201, response.json
    return response.json


def transactions(app, recurring_id=None) -> list[tuple]:
    where = "" if recurring_id is None else f" WHERE recurring_id = {int(recurring_id)}"
    with app.app_context():
        return db.session.execute(
            sa.text(f"SELECT id, date, recurring_id FROM transactions{where} ORDER BY date")
        ).all()


def occurrence_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM recurring_occurrences"))


def test_create_and_read_a_schedule(user, account):
    rent = user.category(name="Rent")
    rec = schedule(user, account, category_id=rent["id"], payee="Landlord", count=12)
    assert {
        k: rec[k]
        for k in ("amount", "currency", "unit", "every", "count", "category_id", "end_date")
    } == {
        "amount": "12.50",
        "currency": "USD",
        "unit": "day",
        "every": 30,
        "count": 12,
        "category_id": rent["id"],
        "end_date": None,
    }
    assert user.get(user.url("recurring", rec["id"])).json == rec
    listed = user.get(user.url("recurring"))
    assert listed.json == [rec] and listed.headers["X-Total-Count"] == "1"
    assert user.balance(account) == "100.00"  # nothing is posted until post-due


@pytest.mark.parametrize(
    "fields, status, field",
    [
        ({"every": 0}, 422, "every"),
        ({"every": -1}, 422, "every"),
        ({"unit": "fortnight"}, 422, "unit"),
        ({"end_date": "2000-01-01", "start_date": "2000-01-02"}, 422, "end_date"),
        ({"count": 0}, 422, "count"),
        ({"amount": "1.001"}, 422, "amount"),
        ({"amount": "0"}, 422, "amount"),
        ({"type": "transfer"}, 422, "transfer_account_id"),
        ({"category_id": 999999}, 404, None),
        ({"account_id": 999999}, 404, None),
        ({"start_date": "2026-02-30"}, 422, "start_date"),
    ],
)
def test_bad_schedules_are_refused_and_nothing_is_written(user, account, fields, status, field):
    body = {
        "account_id": account["id"],
        "type": "expense",
        "amount": "5.00",
        "unit": "month",
        "start_date": "2026-01-31",
        **fields,
    }
    response = user.post(user.url("recurring"), json=body)
    assert response.status_code == status, response.json
    if field:
        assert field in response.json["errors"]["json"]
    assert user.get(user.url("recurring")).json == []


def test_another_users_account_or_schedule_is_a_404(user, other_user, account):
    theirs = other_user.account(name="Theirs")
    body = {
        "account_id": theirs["id"],
        "type": "expense",
        "amount": "5.00",
        "unit": "month",
        "start_date": "2026-01-31",
    }
    assert user.post(user.url("recurring"), json=body).status_code == 404
    rec = schedule(user, account)
    other = other_user.url("recurring", rec["id"])
    assert other_user.get(other).status_code == 404
    assert other_user.post(other + "/post-due").status_code == 404
    assert other_user.get(other + "/upcoming").status_code == 404
    assert other_user.delete(other).status_code == 404
    assert other_user.post(user.url("recurring", rec["id"]) + "/post-due").status_code == 403


def test_post_due_posts_each_occurrence_due_once(app, user, account):
    rec = schedule(user, account)
    url = user.url("recurring", rec["id"]) + "/post-due"
    response = user.post(url)
    assert response.status_code == 200, response.json
    posted = response.json["posted"]
    due = [TODAY - timedelta(days=100 - 30 * k) for k in range(4)]
    assert [t["date"] for t in posted] == [str(day) for day in due]
    assert all(t["recurring_id"] == rec["id"] and t["amount"] == "12.50" for t in posted)
    assert user.balance(account) == str(Decimal("100.00") - 4 * Decimal("12.50"))
    # Again: nothing more.
    assert user.post(url).json == {"posted": []}
    # A deleted occurrence is not posted again.
    assert user.delete(user.url("transactions", posted[0]["id"])).status_code == 204
    assert user.post(url).json == {"posted": []}
    assert len(transactions(app, rec["id"])) == 3
    assert occurrence_rows(app) == 4


def test_post_due_stops_at_the_end_date_and_count(app, user, account):
    by_count = schedule(user, account, count=2)
    by_end = schedule(user, account, end_date=str(TODAY - timedelta(days=50)))
    assert len(user.post(user.url("recurring", by_count["id"]) + "/post-due").json["posted"]) == 2
    assert len(user.post(user.url("recurring", by_end["id"]) + "/post-due").json["posted"]) == 2


def test_two_post_due_at_once_post_each_occurrence_once(app, user, account):
    rec = schedule(user, account)
    url = user.url("recurring", rec["id"]) + "/post-due"
    results = run_together(app, user, [lambda me: me.post(url) for _ in range(4)])
    assert [r.status_code for r in results] == [200] * 4, [r.json for r in results]
    assert sorted(len(r.json["posted"]) for r in results) == [0, 0, 0, 4]
    assert len(transactions(app, rec["id"])) == 4
    assert len({row.date for row in transactions(app, rec["id"])}) == 4
    assert user.balance(account) == "50.00"


def test_the_unique_key_refuses_a_second_posting_of_a_date(app, user, account):
    rec = schedule(user, account)
    user.post(user.url("recurring", rec["id"]) + "/post-due")
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text("INSERT INTO recurring_occurrences (recurring_id, date) VALUES (:r, :d)"),
                {"r": rec["id"], "d": TODAY - timedelta(days=100)},
            )
        db.session.rollback()


def test_upcoming_previews_without_writing(app, user, account):
    rec = schedule(user, account, unit="month", every=1, start_date="2199-01-30", count=5)
    url = user.url("recurring", rec["id"]) + "/upcoming"
    response = user.get(url + "?count=3")
    assert response.status_code == 200, response.json
    assert response.json["occurrences"] == [
        {
            "date": day,
            "amount": "12.50",
            "currency": "USD",
            "transfer_amount": None,
            "transfer_currency": None,
            "due": False,
        }
        for day in ("2199-01-30", "2199-02-28", "2199-03-30")
    ]
    assert len(user.get(url + "?count=1000").json["occurrences"]) == 5  # count=5 ends it
    assert user.get(url + "?count=0").status_code == 422
    overdue = schedule(user, account)
    preview = user.get(user.url("recurring", overdue["id"]) + "/upcoming?count=5").json
    assert [o["due"] for o in preview["occurrences"]] == [True] * 4 + [False]
    assert transactions(app) == [] and occurrence_rows(app) == 0
    user.post(user.url("recurring", overdue["id"]) + "/post-due")
    after = user.get(user.url("recurring", overdue["id"]) + "/upcoming?count=1").json
    assert after["occurrences"] == [preview["occurrences"][4]]


def test_changing_and_deleting_a_schedule(app, user, account):
    rec = schedule(user, account)
    url = user.url("recurring", rec["id"])
    assert user.patch(url, json={"amount": "20.00", "every": 60}).json["amount"] == "20.00"
    bad = user.patch(url, json={"end_date": "1999-01-01"})
    assert bad.status_code == 422 and "end_date" in bad.json["errors"]["json"]
    assert user.patch(url, json={"every": 0}).status_code == 422
    posted = user.post(url + "/post-due").json["posted"]
    assert [t["amount"] for t in posted] == ["20.00", "20.00"]
    assert user.delete(url).status_code == 204
    assert user.get(url).status_code == 404
    # What it posted stays, unlinked.
    assert [row.recurring_id for row in transactions(app)] == [None, None]
    assert user.balance(account) == "60.00"


def test_flask_ledger_post_due_posts_every_users_due_once(app, runner, user, other_user, account):
    mine = schedule(user, account)
    theirs = schedule(other_user, other_user.account(name="Theirs"), every=50)
    result = runner.invoke(args=["ledger", "post-due", "--date", str(TODAY)])
    assert result.exit_code == 0, result.output
    assert f"Posted 7 transaction(s) due by {TODAY}." in result.output
    assert len(transactions(app, mine["id"])) == 4 and len(transactions(app, theirs["id"])) == 3
    again = runner.invoke(args=["ledger", "post-due"])
    assert again.exit_code == 0 and "Posted 0 transaction(s)" in again.output
    later = runner.invoke(args=["ledger", "post-due", "--date", str(TODAY + timedelta(days=30))])
    assert "Posted 1 transaction(s)" in later.output


def test_flask_ledger_post_due_reports_a_schedule_that_cannot_post(runner, user, account):
    schedule(user, account)
    user.patch(user.url("accounts", account["id"]), json={"archived": True})
    result = runner.invoke(args=["ledger", "post-due"])
    assert result.exit_code == 1
    assert "archived" in result.output


def post_due(user, rec):
    response = user.post(user.url("recurring", rec["id"]) + "/post-due")
    assert response.status_code == 200, response.json
    return response.json["posted"]


def test_a_transfer_between_currencies_names_what_arrives(app, user, account):
    """As a one-off transfer: transfer_amount in the destination's currency, required when the
    currencies differ; each posted transfer carries it; balances move by both sides."""
    euro = user.account(name="Euro", currency="EUR", opening_balance="0.00")
    url = user.url("recurring")
    base = {
        "account_id": account["id"],
        "type": "transfer",
        "transfer_account_id": euro["id"],
        "amount": "100.00",
        "unit": "month",
        "every": 1,
        "start_date": str(TODAY - timedelta(days=40)),
        "count": 2,
    }
    missing = user.post(url, json=base)
    assert missing.status_code == 422
    assert "transfer_amount" in missing.json["errors"]["json"]
    for bad in ("0", "-5.00", "1.001", "1e30"):
        assert user.post(url, json={**base, "transfer_amount": bad}).status_code == 422, bad
    income = {**base, "type": "income", "transfer_account_id": None, "transfer_amount": "1.00"}
    assert user.post(url, json=income).status_code == 422
    rec = schedule(user, account, **{**base, "transfer_amount": "92.15"})
    assert (rec["transfer_amount"], rec["transfer_currency"]) == ("92.15", "EUR")
    upcoming = user.get(user.url("recurring", rec["id"]) + "/upcoming?count=1").json
    assert upcoming["occurrences"][0]["transfer_amount"] == "92.15"
    posted = post_due(user, rec)
    assert len(posted) == 2
    assert {(t["transfer_amount"], t["transfer_currency"], t["recurring_id"]) for t in posted} == {
        ("92.15", "EUR", rec["id"])
    }
    assert post_due(user, rec) == []
    assert user.balance(euro) == "184.30"
    assert user.balance(account) == str(Decimal(account["opening_balance"]) - 200)
    # A new amount for the destination; the source's stays.
    changed = user.patch(user.url("recurring", rec["id"]), json={"transfer_amount": "90.00"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["amount"], changed.json["transfer_amount"]) == ("100.00", "90.00")
    # To a destination in the source's currency: the side is the amount again.
    usd = user.account(name="Other dollars")
    same = user.patch(user.url("recurring", rec["id"]), json={"transfer_account_id": usd["id"]})
    assert same.status_code == 200, same.json
    assert (same.json["transfer_amount"], same.json["transfer_currency"]) == ("100.00", "USD")
    mismatch = user.patch(user.url("recurring", rec["id"]), json={"transfer_amount": "99.00"})
    assert mismatch.status_code == 422  # one currency moves one amount
    # Back to the euro account: it needs its amount in euros again.
    back = user.patch(user.url("recurring", rec["id"]), json={"transfer_account_id": euro["id"]})
    assert back.status_code == 422
    assert "transfer_amount" in back.json["errors"]["json"]
    # Becoming an expense drops the destination side.
    expense = user.patch(user.url("recurring", rec["id"]), json={"type": "expense"})
    assert expense.status_code == 200, expense.json
    assert (expense.json["transfer_amount"], expense.json["transfer_currency"]) == (None, None)


def test_two_post_dues_of_a_cross_currency_transfer_post_each_occurrence_once(app, user, account):
    euro = user.account(name="Euro", currency="EUR", opening_balance="0.00")
    rec = schedule(
        user,
        account,
        type="transfer",
        transfer_account_id=euro["id"],
        transfer_amount="9.21",
        amount="10.00",
        unit="day",
        every=1,
        start_date=str(TODAY - timedelta(days=9)),
    )
    url = user.url("recurring", rec["id"]) + "/post-due"

    def run(me):
        response = me.post(url)
        return response.status_code, len(response.json["posted"])

    results = run_together(app, user, [run, run])
    assert sorted(count for _, count in results) == [0, 10]
    assert {status for status, _ in results} == {200}
    assert user.balance(euro) == "92.10"


def test_a_cross_currency_schedule_survives_a_backup(user, account, make_user):
    from tests.test_backup import restore

    euro = user.account(name="Euro", currency="EUR", opening_balance="0.00")
    schedule(
        user,
        account,
        type="transfer",
        transfer_account_id=euro["id"],
        transfer_amount="46.08",
        amount="50.00",
    )
    backup = user.get("/users/me/export")
    assert backup.status_code == 200
    fresh = make_user()
    assert restore(fresh, backup.data).status_code == 201
    (restored,) = fresh.get(fresh.url("recurring")).json
    assert (restored["amount"], restored["transfer_amount"], restored["transfer_currency"]) == (
        "50.00",
        "46.08",
        "EUR",
    )
