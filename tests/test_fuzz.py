"""Schemathesis, in-process against our own /openapi.json (RELIABILITY.md, "Bad input gets a
clear answer and changes nothing").

Every operation is called with generated valid and invalid data as a logged-in user who has an
account, a category and a transaction, with schemathesis' default checks: no 5xx, responses
match their documented schema, status codes, content types and headers, invalid data is
refused, valid data is accepted, auth is not ignored. Logging out, changing the password and
deleting the user are left out: they would end the session the rest of the run needs (their
bad input is covered in test_token_lifecycle.py).

`FUZZ_EXAMPLES` sets the examples per operation (default 100); on CI the run is derandomized so
that it is reproducible, elsewhere every run explores new inputs.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import create_app
from app.extensions import db
from tests.conftest import Config, database_url, register

pytestmark = pytest.mark.slow  # schemathesis fuzzes every operation: `make test-fast` leaves it out

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SESSION_ENDING = ["POST /token/revoke", "POST /users/me/password", "DELETE /users/me/"]


@pytest.fixture
def fuzz_user(client):
    """A user with one of everything, so that generated ids sometimes name real rows."""
    user = register(client, "fuzzer")
    account = user.account(name="Fuzz checking", opening_balance="1000.00")
    savings = user.account(name="Fuzz savings")
    category = user.category(name="Fuzz category")
    transaction = user.transaction(account, amount="12.50", category_id=category["id"])
    user.extra = {
        "user_id": user.id,
        "account_id": account["id"],
        "category_id": category["id"],
        "transaction_id": transaction["id"],
        "savings_id": savings["id"],
    }
    return user


# Its own app object on the suite's database (the `app` fixture, through `client`, migrates and
# cleans it). schemathesis' lazy `from_fixture` does not work with pytest 9 (it sets the removed
# `Function._nodeid`), so the schema is loaded when the module is.
#: 422s that a schema-valid request may still get: rules JSON Schema cannot state (they depend
#: on another field, on the currency, or on stored data). Any other 422 to generated valid data
#: fails the run, as schemathesis' own positive_data_acceptance would.
SEMANTIC_RULES = (
    "decimal place",  # USD 2, JPY 0, BHD 3
    "10^14 minor units",  # an amount's range, named in its currency when known
    "Must be greater than zero; the type gives the direction",
    "beyond ±9×10^17 minor units",  # a balance's range
    "is not an ISO 4217 currency code",  # "^[A-Za-z]{3}$" names codes that do not exist
    "Must not be or contain the username",
    "Too common or too easy to guess",  # zxcvbn's estimate (NIST SP 800-63B blocklists)
    "Must be a PRECIS username",  # RFC 8265's IdentifierClass and bidi rule: no JSON Schema
    "once normalised (NFKC)",
    "Must contain a visible character",  # Unicode's Default_Ignorable_Code_Point set
    "Send opening_balance or balance, not both",
    "A category cannot be its own ancestor",
    "Use category_id or uncategorized=true, not both",
    "Must not be before",  # start_date <= end_date, min_amount <= max_amount
    "transfer_account_id",  # transfers need one, other types must not have one
    "A transfer",  # ...between two different accounts of one currency
    "archived",  # an archived account takes no new transactions
    "Must not contain NUL characters",
    "is not a calendar date",  # "format: date" does not say 2026-02-30 is none
    "Must be a date from 1900-01-01 to 2199-12-31",
    "give its amount in",  # moving a transaction to another currency needs its amount there
    "Too long once its Unicode form is normalised",
    "Idempotency-Key was already used",  # the same generated key with another body
    "No column named",  # an import's column names an absent CSV header
    "Not a valid regular expression",  # a rule's regex pattern
    "Must not be below min_amount",  # a rule's amount range
    "A rule gives a category, tags, or both",  # a rule of neither (null category, no tags)
    "transfer_amount",  # needed between currencies, equal to amount within one, transfers only
    "Only transfers have a transfer_status",
    "Only a reconcile of the account marks",
    "A rate",  # positive, at most 30 digits and 18 places, below 10^12, two currencies
    "splits add up to",  # a split transaction's parts add up exactly to its amount
    "A split transaction keeps its categories in its splits",  # splits or category_id
    "Too many periods",  # a report answers at most 1,000 periods
    "Budgets are for expense categories",  # a category's kind is not in the schema
)


def error_messages(body) -> list[str]:
    if isinstance(body, dict):
        return [m for value in body.values() for m in error_messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in error_messages(value)]
    return [str(body)]


def valid_data_is_accepted(ctx, response, case):
    """schemathesis' positive_data_acceptance, with the 422s of SEMANTIC_RULES let through."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code == 412 and "If-Match" in (case.headers or {}):
        return None  # a generated ETag that is not the row's current one
    if response.status_code == 422:
        body = response.json()
        errors = body.get("errors") or {}
        if "rows" in errors or "file" in errors or "file" in errors.get("json", {}):
            return None  # an uploaded file's content: nothing JSON Schema can say of it
        messages = error_messages(body.get("errors")) or [body["message"]]
        unexplained = [m for m in messages if not any(rule in m for rule in SEMANTIC_RULES)]
        if unexplained:
            raise AssertionError(f"Schema-valid request refused with 422: {unexplained}")
        return None
    return positive_data_acceptance(ctx, response, case)


schema = schemathesis.openapi.from_wsgi(
    "/openapi.json", create_app(Config(database_url()))
).exclude(name=SESSION_ENDING)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(case, fuzz_user):
    # A path's user_id is the caller's (any other is a plain 403); object ids, when generated
    # as integers, point at the fuzz user's rows half of the time.
    for name, value in list((case.path_parameters or {}).items()):
        if name == "user_id":
            case.path_parameters[name] = fuzz_user.id
        elif isinstance(value, int) and value % 2 == 0 and name in fuzz_user.extra:
            case.path_parameters[name] = fuzz_user.extra[name]
    # Unknown query parameters are ignored, as the original API's clients expect; schemathesis
    # would count one as invalid data that should have been refused.
    documented = {p.name for p in case.operation.query}
    for name in set(case.query or {}) - documented:
        del case.query[name]
    case.call_and_validate(
        headers=fuzz_user.headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_data_is_accepted],
    )


# -- the hand-written bad-input table (RELIABILITY.md) ------------------------------------------

TXN = "/users/{user}/transactions/"
#: A whole transaction body, raw, with the amount left to fill in (ACCOUNT: the user's account).
FULL = b'{"account_id": ACCOUNT, "type": "expense", "amount": %s}'
ACC = "/users/{user}/accounts/"

#: (what, method, path, body or raw (content type, bytes), expected status)
BAD_INPUT = [
    ("amount as a list", "POST", TXN, {"amount": ["1"]}, 422),
    ("amount as a bool", "POST", TXN, {"amount": True}, 422),
    ("amount as an object", "POST", TXN, {"amount": {"v": 1}}, 422),
    ("huge amount", "POST", TXN, {"amount": "1" + "0" * 30}, 422),
    (
        "huge amount as a number",
        "POST",
        TXN,
        ("application/json", FULL % (b"1" + b"0" * 40)),
        422,
    ),
    (
        "huge account id",
        "POST",
        TXN,
        ("application/json", b'{"account_id": 1%s}' % (b"0" * 40)),
        422,
    ),
    (
        "huge email",
        "PATCH",
        "/users/me/",
        ("application/json", b'{"email": 1%s}' % (b"0" * 40)),
        422,
    ),
    ("three decimals in USD", "POST", TXN, {"amount": "1.005"}, 422),
    ("exponent in a string", "POST", TXN, {"amount": "1e3"}, 422),
    ("NaN", "POST", TXN, ("application/json", FULL % b"NaN"), (400, 422)),
    ("Infinity", "POST", TXN, ("application/json", FULL % b"Infinity"), (400, 422)),
    ("NaN as a string", "POST", TXN, {"amount": "NaN"}, 422),
    ("negative amount", "POST", TXN, {"amount": "-5.00"}, 422),
    ("zero amount", "POST", TXN, {"amount": "0.00"}, 422),
    ("Arabic-Indic digits", "POST", TXN, {"amount": "١٢.٥٠"}, 422),
    ("amount with a trailing newline", "POST", TXN, {"amount": "12.50\n"}, 422),
    ("2025-02-30", "POST", TXN, {"date": "2025-02-30"}, 422),
    ("a week date", "POST", TXN, {"date": "2026-W05-6"}, 422),
    ("unknown type", "POST", TXN, {"type": "gift"}, 422),
    ("account id as a string", "POST", TXN, {"account_id": "1"}, 422),
    ("account id beyond 32 bits", "POST", TXN, {"account_id": 2**63}, 422),
    ("description of 501 characters", "POST", TXN, {"description": "x" * 501}, 422),
    ("NUL in a description", "POST", TXN, {"description": "a\u0000b"}, 422),
    ("lone surrogate", "POST", TXN, ("application/json", b'{"description": "\\ud800"}'), 422),
    ("unknown field", "POST", TXN, {"memo": "x"}, 422),
    ("not JSON", "POST", TXN, ("application/json", b"{not json"), 400),
    ("not UTF-8", "POST", TXN, ("application/json", b'{"description": "\xff"}'), 400),
    ("a JSON list", "POST", TXN, ("application/json", b"[1, 2]"), (400, 422)),
    ("form body", "POST", TXN, ("application/x-www-form-urlencoded", b"amount=1"), 415),
    ("text body", "POST", TXN, ("text/plain", b"amount=1"), 415),
    ("empty name", "POST", ACC, {"name": ""}, 422),
    ("blank name", "POST", ACC, {"name": "   "}, 422),
    ("name of tab and ideographic space", "POST", ACC, {"name": "\t\u3000"}, 422),
    (
        "username with a trailing newline",
        "POST",
        "/users/",
        {"username": "abc\n", "password": "x" * 10},
        422,
    ),
    (
        "username ending in a separator",
        "POST",
        "/users/",
        {"username": "abc\x1e", "password": "x" * 10},
        422,
    ),
    ("name of 101 characters", "POST", ACC, {"name": "x" * 101}, 422),
    ("unknown currency", "POST", ACC, {"name": "A", "currency": "XYZ"}, 422),
    ("currency without minor unit", "POST", ACC, {"name": "A", "currency": "XXX"}, 422),
    ("unknown account type", "POST", ACC, {"name": "A", "type": "piggy"}, 422),
    ("balance after creation", "PATCH", ACC + "{account}", {"balance": "5.00"}, 422),
    ("deleted account", "GET", ACC + "{deleted}", None, 404),
    ("transaction on a deleted account", "POST", TXN, {"account_id": "{deleted}"}, 404),
    ("id beyond 32 bits in a path", "GET", ACC + "99999999999999999999", None, 404),
    ("limit above 1000", "GET", TXN + "?limit=1001", None, 422),
    ("skip of 30 digits", "GET", TXN + "?skip=" + "9" * 30, None, 422),
    ("unknown sort", "GET", TXN + "?sort_by=payee", None, 422),
    ("inverted date range", "GET", TXN + "?start_date=2026-02-01&end_date=2026-01-01", None, 422),
    (
        "username of two characters",
        "POST",
        "/users/",
        {"username": "ab", "password": "x" * 10},
        422,
    ),
    (
        "password of 129 characters",
        "POST",
        "/users/",
        {"username": "abc", "password": "x" * 129},
        422,
    ),
]


def everything(app) -> list:
    with app.app_context():
        return [
            db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
            for table in ("users", "accounts", "categories", "transactions")
        ]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in BAD_INPUT],
)
def test_bad_input_gets_a_4xx_in_the_error_shape_and_changes_nothing(
    app, client, user, method, path, body, expected
):
    account = user.account(name="Main", opening_balance="10.00")
    deleted = user.account(name="Gone")
    assert user.delete(user.url("accounts", deleted["id"])).status_code == 204
    ids = {"user": user.id, "account": account["id"], "deleted": deleted["id"]}
    valid = {"account_id": account["id"], "type": "expense", "amount": "1.00"}
    before = everything(app)

    kwargs = {"headers": user.headers}
    if isinstance(body, tuple):
        kwargs["content_type"], raw = body
        kwargs["data"] = raw.replace(b"ACCOUNT", str(account["id"]).encode())
    elif body is not None:
        body = {k: ids[v[1:-1]] if v in ("{deleted}",) else v for k, v in body.items()}
        kwargs["json"] = {**valid, **body} if path == TXN and method == "POST" else body
    response = client.open(path.format(**ids), method=method, **kwargs)

    expected = expected if isinstance(expected, tuple) else (expected,)
    assert response.status_code in expected, response.get_data(as_text=True)
    assert response.json["code"] == response.status_code
    assert response.json["message"]
    assert everything(app) == before
    assert user.balance(account) == "10.00"
