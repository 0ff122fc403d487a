"""Import a bank file into one account: read it (app.imports.csvfile / ofxfile), refuse it whole
if a row is bad (unless told to skip bad rows), leave out the rows already imported, and post
the rest through the ledger in the request's one transaction. The lines are read, checked and
posted a batch at a time; a bad row found after some batches went in is still a 422 that
leaves nothing, the request's rollback taking them back.

No duplicates, even under concurrency: the account is locked (FOR UPDATE) before its existing
import ids are read, so a second import of the same file waits for the first to commit, then
finds every row there. The unique (account_id, import_id) constraint backs this up.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from app import ledger
from app.accounts.models import Account
from app.common import money
from app.common.auth import get_owned
from app.common.db import analyse
from app.common.errors import PayloadTooLarge, Unprocessable
from app.common.events import categorise
from app.extensions import db
from app.imports import csvfile, files, ofxfile
from app.imports.statement import Line, Statement, assign_import_ids
from app.transactions.models import Transaction

#: Bad rows listed in an answer (the first ones): a file of garbage answers in kilobytes.
MAX_LISTED_ERRORS = 1000
#: How many import ids one SELECT looks up (bind parameters per statement stay modest).
LOOKUP_CHUNK = 5000
#: The account's rows among some import ids. Built once, the ids bound when it runs: a
#: statement built with its values holds them in reference cycles (SQLAlchemy's), which only
#: the garbage collector frees, later (a 100,000-row reimport's ids, 24 MB of a worker).
IMPORTED_WHERE = (
    Transaction.account_id == bindparam("account_id"),
    Transaction.import_id.in_(bindparam("import_ids", expanding=True)),
)
IMPORTED = select(Transaction.import_id).where(*IMPORTED_WHERE)
IMPORTED_IDS = select(Transaction.id, Transaction.import_id).where(*IMPORTED_WHERE)
#: How many new rows are built and posted at a time.
POST_BATCH = 10_000


def too_many_rows(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file has more than {limit} rows, the most one import takes (IMPORT_MAX_ROWS): "
        "split it.",
        field="file",
    )


def read_statement(
    data: bytes,
    *,
    filename: str | None,
    file_format: str | None,
    encoding: str | None,
    csv_options: csvfile.CSVOptions,
) -> Statement:
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
    kind = file_format or files.sniff_format(data, filename)
    if not data.strip():
        raise files.refuse("The file is empty.")
    if kind == "ofx":
        statement = ofxfile.read(data, max_rows, too_many_rows)
        statement.detected = {"format": "ofx", **statement.detected}
        return statement
    decoded = files.decode(data, encoding)
    statement = csvfile.read(decoded.text, csv_options, max_rows, too_many_rows)
    statement.detected = {"format": "csv", "encoding": decoded.encoding, **statement.detected}
    return statement


def import_file(
    user_id: int,
    account_id: int,
    data: bytes,
    *,
    filename: str | None = None,
    file_format: str | None = None,
    encoding: str | None = None,
    csv_options: csvfile.CSVOptions | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """`{added, duplicates, errors, detected}`; a 422 holding every bad row's problem, and
    nothing written, when a row is bad and `skip_invalid` is false."""
    account = get_owned(Account, account_id, user_id)
    check_open(account)
    statement = read_statement(
        data,
        filename=filename,
        file_format=file_format,
        encoding=encoding,
        csv_options=csv_options or csvfile.CSVOptions(),
    )
    if statement.currency and statement.currency != account.currency:
        raise files.refuse(
            f"The statement is in {statement.currency} and account {account.id} holds "
            f"{account.currency}."
        )
    # Lock, then look: a concurrent import of the same file waits here for the first to commit.
    account = ledger.lock_accounts(user_id, [account_id])[account_id]
    check_open(account)
    posting = None if dry_run else ledger.RowPosting(user_id, [account_id])
    occurrences: Counter[bytes] = Counter()
    # The ids kept so far, for a dry run; a real one finds the earlier batches' rows in the
    # database (its own transaction's), so only each batch's need holding (90,000 ids: 12 MB).
    taken: set[str] = set()
    added = duplicates = tagged = 0
    # The file's lines a batch at a time, as they are read: each checked, given its import
    # id, looked up and posted, all in the request's one transaction. A bad row anywhere
    # stops the posting (unless it is skipped) and the file is read on for the others'
    # problems: the 422 then rolls back the batches before it. Lines, rows and ids of
    # 100,000 rows held at once were most of an import's memory.
    for batch in batches(checked_lines(statement, account.currency), POST_BATCH):
        if statement.errors and not skip_invalid:
            continue
        assign_import_ids(batch, occurrences)
        new = leave_out_imported(account_id, batch, taken if dry_run else set())
        duplicates += len(batch) - len(new)
        rows = [
            {
                "type": "income" if line.amount > 0 else "expense",
                "account_id": account_id,
                "transfer_account_id": None,
                "category_id": None,
                "amount": abs(line.amount),
                "date": line.date,
                "description": line.description,
                "payee": line.payee,
                "import_id": line.import_id,
                # The bank has it: an imported transaction is cleared, ready to reconcile.
                "status": "cleared",
            }
            for line in new
        ]
        del batch, new
        # Rules (app.rules) give uncategorised rows their category, and tags.
        categorise.send("imports", user_id=user_id, rows=rows)
        tags = {row["import_id"]: row.pop("tags") for row in rows if row.get("tags")}
        added, tagged = added + len(rows), tagged + len(tags)
        if posting is not None:
            posting.add(rows)
            tag_imported(user_id, account_id, tags)
    statement.errors.sort(key=lambda error: error["row"])
    listed = statement.errors[:MAX_LISTED_ERRORS]
    if statement.errors and not skip_invalid:
        # The message is the first row's problem (app.errors); `errors.rows` lists them.
        raise Unprocessable("", errors={"rows": listed})
    if posting is not None:
        posting.finish()
        refresh_statistics(added, tagged=tagged)
    return {
        "added": added,
        "duplicates": duplicates,
        "errors": listed,
        "skipped": len(statement.errors),
        "detected": statement.detected,
    }


def check_open(account: Account) -> None:
    if account.archived:
        raise Unprocessable(
            f"Account {account.id} is archived and takes no new transactions.", field="account_id"
        )


def batches(lines: Iterable[Line], size: int) -> Iterator[list[Line]]:
    """`lines` as lists of `size` (the last one shorter), taken as they come."""
    lines = iter(lines)
    while batch := list(itertools.islice(lines, size)):
        yield batch


def checked_lines(statement: Statement, currency: str) -> Iterator[Line]:
    """The lines whose currency and amount fit the account; the others become row errors."""
    for line in statement.lines:
        if line.currency and line.currency != currency:
            statement.error(
                line.row, f"The row is in {line.currency}; the account holds {currency}."
            )
            continue
        try:
            money.to_minor(abs(line.amount), currency)
        except money.MoneyError as exc:
            statement.error(line.row, str(exc))
            continue
        yield line


def leave_out_imported(account_id: int, lines: Sequence[Line], taken: set[str]) -> list[Line]:
    """The lines not yet on the account, nor taken by an earlier line of the file (`taken`,
    which the lines kept join): a repeated id within the file counts as already there."""
    ids = [line.import_id for line in lines]
    existing: set[str] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        existing.update(
            db.session.scalars(IMPORTED, {"account_id": account_id, "import_ids": chunk})
        )
    new = []
    for line in lines:
        if line.import_id in existing or line.import_id in taken:
            continue
        taken.add(line.import_id)
        new.append(line)
    return new


def tag_imported(user_id: int, account_id: int, tags: dict[str, list[str]]) -> None:
    """Give the rows just imported (import id -> tags) their tags. The bulk insert returns no
    ids: they are found by import id, unique in the account."""
    ids = list(tags)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        found = db.session.execute(IMPORTED_IDS, {"account_id": account_id, "import_ids": chunk})
        values = [
            {"transaction_id": transaction_id, "tag": tag, "user_id": user_id}
            for transaction_id, import_id in found
            for tag in tags[import_id]
        ]
        # Through the ledger: the tags' amounts join its monthly tag rollup.
        ledger.add_tags(user_id, values)


def refresh_statistics(added: int, *, tagged: int = 0) -> None:
    """After a large import, fresh planner statistics: a list planned on the old row counts may
    pick a plan made for a table a fraction of the size. (ANALYZE runs inside the transaction
    and counts its own new rows; autovacuum may be off or late.)"""
    threshold = current_app.config["IMPORT_ANALYZE_ROWS"]
    if added >= threshold:
        analyse(db.session, "transactions")
    if tagged >= threshold:
        analyse(db.session, "transaction_tags")
