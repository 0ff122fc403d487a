def test_flow(user, account):
    t = user.transaction(account, amount="12.34")
    assert t["amount"] == "12.34"
    assert user.balance(account) == "87.66"
    r = user.get(user.url("transactions"))
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "1"
