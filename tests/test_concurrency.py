"""Money is never lost under concurrency: many threads on the same few accounts at once.

Each thread has its own test client and posts, edits, deletes and transfers on the same three
accounts. Afterwards every balance equals its opening balance plus the signed sum of its
transactions (the conftest checks that after every test) and equals what a single-threaded
model of the successful operations predicts. No 5xx, no deadlock errors.

The original version of this API, with read-modify-write balance updates, lost 64 of 200
parallel expenses here; breaking app.ledger.apply the same way makes these tests fail.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

THREADS = 8
OPS_PER_THREAD = 30
OPENING = Decimal("1000.00")


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def amount(value: int) -> str:
    return str(Decimal(value) / 100)


def effects(txn: dict) -> list[tuple[int, int]]:
    """The model: what a transaction does to balances, in cents."""
    value = cents(txn["amount"])
    if txn["type"] == "income":
        return [(txn["account_id"], value)]
    if txn["type"] == "expense":
        return [(txn["account_id"], -value)]
    return [(txn["account_id"], -value), (txn["transfer_account_id"], value)]


def expected_balances(accounts: list[dict], live: list[dict]) -> dict[int, str]:
    totals = {a["id"]: cents(a["opening_balance"]) for a in accounts}
    for txn in live:
        for account_id, delta in effects(txn):
            totals[account_id] += delta
    return {account_id: amount(total) for account_id, total in totals.items()}


def actual_balances(user, accounts: list[dict]) -> dict[int, str]:
    return {a["id"]: str(Decimal(user.balance(a))) for a in accounts}


def clone(app, user):
    """The same user on a client of its own, for one thread."""
    return dataclasses.replace(user, client=app.test_client())


def run_together(app, user, jobs):
    """Run each job(client_user) on its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        me = clone(app, user)
        barrier.wait()
        return job(me)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.fixture
def accounts(user):
    return [user.account(name=f"Shared {i}", opening_balance=str(OPENING)) for i in range(3)]


def random_body(rng: random.Random, accounts: list[dict]) -> dict:
    type_ = rng.choice(["income", "expense", "transfer", "transfer"])
    source, destination = rng.sample(accounts, 2)
    body = {"account_id": source["id"], "type": type_, "amount": amount(rng.randint(1, 5000))}
    if type_ == "transfer":
        body["transfer_account_id"] = destination["id"]
    return body


def mixed_operations(accounts, seed):
    """One thread's work: create, edit and delete its own transactions on shared accounts.

    Returns (statuses, live transactions as the server answered them).
    """

    def job(me):
        rng = random.Random(seed)
        mine: dict[int, dict] = {}
        statuses = Counter()
        for _ in range(OPS_PER_THREAD):
            roll = rng.random()
            if roll < 0.5 or not mine:
                response = me.post(me.url("transactions"), json=random_body(rng, accounts))
                if response.status_code == 201:
                    mine[response.json["id"]] = response.json
            elif roll < 0.8:
                txn_id = rng.choice(sorted(mine))
                body = random_body(rng, accounts)
                if body["type"] != "transfer":
                    body["transfer_account_id"] = None
                response = me.patch(me.url("transactions", txn_id), json=body)
                if response.status_code == 200:
                    mine[txn_id] = response.json
            else:
                txn_id = rng.choice(sorted(mine))
                response = me.delete(me.url("transactions", txn_id))
                if response.status_code == 204:
                    del mine[txn_id]
            statuses[response.status_code] += 1
        return statuses, list(mine.values())

    return job


def test_mixed_operations_on_shared_accounts_lose_no_money(app, user, accounts):
    jobs = [mixed_operations(accounts, seed) for seed in range(THREADS)]
    results = run_together(app, user, jobs)

    statuses = sum((s for s, _ in results), Counter())
    live = [txn for _, mine in results for txn in mine]
    assert set(statuses) <= {200, 201, 204}, statuses
    assert sum(statuses.values()) == THREADS * OPS_PER_THREAD
    assert actual_balances(user, accounts) == expected_balances(accounts, live)


def test_parallel_expenses_on_one_account_are_all_counted(app, user, accounts):
    account = accounts[0]

    def spend(me):
        body = {"account_id": account["id"], "type": "expense", "amount": "1.00"}
        return [me.post(me.url("transactions"), json=body).status_code for _ in range(25)]

    statuses = Counter(s for batch in run_together(app, user, [spend] * THREADS) for s in batch)
    assert statuses == {201: THREADS * 25}
    # Each lost update leaves one 1.00 expense out of the balance.
    lost = Decimal(user.balance(account)) - (OPENING - THREADS * 25)
    assert lost == 0, f"{lost} lost updates"


def test_concurrent_deletes_of_one_transaction_reverse_it_once(app, user, accounts):
    account = accounts[0]
    txns = [user.transaction(account, amount="10.00") for _ in range(5)]

    def delete(txn):
        return lambda me: me.delete(me.url("transactions", txn["id"])).status_code

    statuses = run_together(app, user, [delete(txn) for txn in txns for _ in range(6)])
    assert Counter(statuses) == {204: 5, 404: 25}
    assert Decimal(user.balance(account)) == OPENING


def test_an_edit_and_a_delete_of_one_transaction_at_once_apply_in_some_order(app, user, accounts):
    account, other = accounts[0], accounts[1]
    txns = [user.transaction(account, amount="10.00") for _ in range(8)]

    def edit(txn):
        body = {"amount": "99.00", "account_id": other["id"]}
        return lambda me: (
            "edit",
            me.patch(me.url("transactions", txn["id"]), json=body).status_code,
        )

    def delete(txn):
        return lambda me: ("delete", me.delete(me.url("transactions", txn["id"])).status_code)

    results = run_together(app, user, [job(txn) for txn in txns for job in (edit, delete)])
    assert Counter(results)[("delete", 204)] == 8
    assert {status for kind, status in results if kind == "edit"} <= {200, 404}
    # Whatever the order, every transaction is gone and took exactly its effect with it.
    assert actual_balances(user, accounts[:2]) == {
        account["id"]: str(OPENING),
        other["id"]: str(OPENING),
    }


def test_concurrent_edits_of_one_transaction_leave_one_writers_amount(app, user, accounts):
    account = accounts[0]
    txn = user.transaction(account, amount="10.00")
    url = user.url("transactions", txn["id"])

    def edit(value):
        return lambda me: me.patch(url, json={"amount": f"{value}.00"}).status_code

    assert set(run_together(app, user, [edit(v) for v in range(1, 17)])) == {200}
    final = Decimal(user.get(url).json["amount"])
    assert Decimal(user.balance(account)) == OPENING - final


def test_transfers_into_an_account_being_deleted_are_all_reversed(app, user, accounts):
    source, doomed = accounts[0], accounts[1]
    body = {
        "account_id": source["id"],
        "transfer_account_id": doomed["id"],
        "type": "transfer",
        "amount": "5.00",
    }

    def send(me):
        return [me.post(me.url("transactions"), json=body).status_code for _ in range(10)]

    def delete(me):
        return [me.delete(me.url("accounts", doomed["id"])).status_code]

    results = run_together(app, user, [send] * 6 + [delete])
    statuses = Counter(s for batch in results for s in batch)
    assert set(statuses) <= {201, 204, 404}, statuses
    assert statuses[204] == 1
    # Every transfer into the deleted account went with it, and its money came back.
    assert Decimal(user.balance(source)) == OPENING
