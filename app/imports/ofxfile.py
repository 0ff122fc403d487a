"""OFX and QFX statements, 1.x (SGML) and 2.x (XML), read with ofxtools.

ofxtools parses and validates the document (a truncated or malformed one is a 422); FITID is
the import id. DTPOSTED is read as written: `20250228230000[-8:PST]` is 2025-02-28, the calendar
date in its own offset (ofxtools would convert it to UTC, 2025-03-01).
"""

from __future__ import annotations

import html
import io
import re
from datetime import date

from ofxtools.Parser import OFXTree

from app.common.errors import Unprocessable
from app.imports.statement import (
    DESCRIPTION_LENGTH,
    IMPORT_ID_LENGTH,
    PAYEE_LENGTH,
    Line,
    RowError,
    Statement,
    check_date,
    clean_text,
)

DATE_PREFIX = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})")
VERSION = re.compile(rb'VERSION(?::|=")(\d+)')
CLOSED = re.compile(rb"</OFX>\s*$", re.IGNORECASE)


def refuse(message: str) -> Unprocessable:
    return Unprocessable(message, field="file")


def read(data: bytes, max_rows: int, too_many) -> Statement:
    if not CLOSED.search(data):
        raise refuse("The OFX file is incomplete (it does not end with </OFX>): download it again.")
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # noqa: BLE001 - ofxtools raises many types for bad input; all are the file's fault
        raise refuse(
            f"The file is not a valid OFX statement: {str(exc).splitlines()[0][:200]}"
        ) from None
    statements = list(ofx.statements)
    if len(statements) != 1:
        raise refuse(
            f"The OFX file holds {len(statements)} statements: import one account's file at a time."
        )
    converted = statements[0]
    raw = tree.getroot().findall(".//BANKTRANLIST/STMTTRN")
    transactions = list(converted.banktranlist or [])
    if len(transactions) > max_rows:
        raise too_many(max_rows)
    version = VERSION.search(data[:1024])
    statement = Statement(
        currency=converted.curdef, detected={"version": version[1].decode() if version else None}
    )
    for number, (txn, element) in enumerate(zip(transactions, raw, strict=True), start=1):
        try:
            posted = element.findtext("DTPOSTED") or ""
            match = DATE_PREFIX.match(posted)
            try:
                day = date(*map(int, match.groups())) if match else None
            except ValueError:
                day = None
            if day is None:
                raise RowError(f"DTPOSTED {posted[:40]!r} is not a date.")
            payee = txn.name or (txn.payee.name if txn.payee is not None else None)
            payee = html.unescape(payee) if payee else None
            memo = html.unescape(txn.memo) if txn.memo else None
            if not txn.trnamt:
                raise RowError("TRNAMT is zero: a transaction moves money.")
            statement.lines.append(
                Line(
                    row=number,
                    date=check_date(day),
                    amount=txn.trnamt,
                    description=clean_text(memo or payee, "description", DESCRIPTION_LENGTH),
                    payee=clean_text(payee, "payee", PAYEE_LENGTH) or None,
                    import_id=clean_text(txn.fitid, "FITID", IMPORT_ID_LENGTH) or None,
                    currency=(txn.currency.cursym if txn.currency is not None else None),
                )
            )
        except RowError as exc:
            statement.error(number, str(exc))
    return statement
