"""CSV bank exports: delimiter, header names, date format and number format detected, each
overridable.

- Delimiter: the one of `, ; TAB |` that occurs most in the header row (outside quotes).
- Columns: header names compared ignoring case, spaces and a trailing dot or colon against the
  names banks use (HEADERS); a date column and either an amount column or a debit and/or a
  credit column are required.
- Date format: of FORMATS, the one that reads most of the first rows' dates (ties in FORMATS
  order: ISO, then US month-first, then day-first).
- Decimal separator: a value with both `.` and `,` ends with the decimal one; else a `,`
  followed by one or two digits at the end is a decimal comma; else `.`. The thousands
  separator is then the other one (spaces and apostrophes are always ignored).
CR LF and LF line ends both read; quoted fields may hold the delimiter, quotes and line breaks.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter

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

DELIMITERS = (",", ";", "\t", "|")
#: role -> the header names that mean it (normalised: see `normalise`).
HEADERS = {
    "date": {
        "date",
        "booking date",
        "transaction date",
        "posting date",
        "posted date",
        "value date",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "valuta",
        "wertstellung",
        "fecha",
        "data",
        "date opération",
        "date operation",
        "trans. date",
        "post date",
    },
    "description": {
        "description",
        "memo",
        "details",
        "narrative",
        "reference",
        "purpose",
        "text",
        "transaction description",
        "verwendungszweck",
        "buchungstext",
        "beschreibung",
        "concepto",
        "libellé",
        "libelle",
    },
    "payee": {
        "payee",
        "name",
        "merchant",
        "counterparty",
        "beneficiary",
        "recipient",
        "empfänger",
        "empfaenger",
        "zahlungsempfänger",
        "auftraggeber/empfänger",
        "begünstigter",
        "beguenstigter/zahlungspflichtiger",
        "name zahlungsbeteiligter",
    },
    "amount": {
        "amount",
        "value",
        "transaction amount",
        "betrag",
        "umsatz",
        "montant",
        "importe",
        "amount (usd)",
        "amount (eur)",
        "betrag (eur)",
    },
    "debit": {
        "debit",
        "debits",
        "withdrawal",
        "withdrawals",
        "paid out",
        "money out",
        "soll",
        "ausgang",
        "débit",
    },
    "credit": {
        "credit",
        "credits",
        "deposit",
        "deposits",
        "paid in",
        "money in",
        "haben",
        "eingang",
        "crédit",
    },
    "currency": {"currency", "währung", "waehrung", "ccy", "devise", "moneda"},
    "import_id": {"import_id", "import id", "fitid", "transaction id"},
}
#: The API's date format names and what strptime reads for them, in detection order.
FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "DD.MM.YYYY": "%d.%m.%Y",
    "DD-MM-YYYY": "%d-%m-%Y",
    "YYYY/MM/DD": "%Y/%m/%d",
    "YYYY.MM.DD": "%Y.%m.%d",
    "MM/DD/YY": "%m/%d/%y",
    "DD.MM.YY": "%d.%m.%y",
    "DD/MM/YY": "%d/%m/%y",
    "YYYYMMDD": "%Y%m%d",
}
DATE_FORMAT_PATTERN = r"^(?=.*DD)(?=.*MM)(?=.*YY)(DD|MM|YYYY|YY|[./\- ])+$"
SAMPLE = 1000
DECIMAL_COMMA = re.compile(r",\d{1,2}\)?-?$")
NUMBER = re.compile(r"^\d+(\.\d+)?$")
#: Currency signs anywhere, and an ISO code before or after an amount ("EUR 12,00", "$-5");
#: spaces (also no-break) and apostrophes group digits.
SIGNS = str.maketrans("", "", "$€£¥₹")
CODE = re.compile(r"^[A-Z]{3}\s+|\s+[A-Z]{3}$")
IGNORED = str.maketrans("", "", " \u00a0\u202f'")


@dataclass(frozen=True)
class CSVOptions:
    delimiter: str | None = None
    date_format: str | None = None
    decimal_separator: str | None = None
    thousands_separator: str | None = None
    #: role -> header name given by the caller
    columns: dict[str, str] | None = None


def normalise(header: str) -> str:
    return " ".join(header.strip().casefold().split()).rstrip(".:").strip()


def strptime_format(name: str) -> str:
    """ "DD.MM.YYYY" -> "%d.%m.%Y"."""
    return re.sub(
        "YYYY|YY|MM|DD", lambda m: {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}[m[0]], name
    )


def guess_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def map_columns(header: list[str], given: dict[str, str]) -> dict[str, int]:
    """role -> column index; a 422 if a given name is missing or the required ones are not
    found."""
    names = [normalise(name) for name in header]
    found: dict[str, int] = {}
    for role, wanted in given.items():
        if normalise(wanted) not in names:
            raise Unprocessable(
                f"No column named {wanted!r} in the header row ({', '.join(header)}).",
                field=f"{role}_column",
                location="query",
            )
        found[role] = names.index(normalise(wanted))
    for role, synonyms in HEADERS.items():
        if role in found:
            continue
        for index, name in enumerate(names):
            if name in synonyms and index not in found.values():
                found[role] = index
                break
    if "date" not in found:
        raise header_problem(header, "a date column", "date_column")
    if not {"amount", "debit", "credit"} & found.keys():
        raise header_problem(
            header, "an amount column (or debit and credit columns)", "amount_column"
        )
    if "amount" in found:
        found.pop("debit", None), found.pop("credit", None)
    return found


def header_problem(header: list[str], what: str, parameter: str) -> Unprocessable:
    return Unprocessable(
        f"The header row ({', '.join(header)[:300]}) has no {what} that import recognises: "
        f"name it with the {parameter} query parameter.",
        field="file",
    )


def guess_date_format(values: list[str]) -> str:
    best, best_count = "YYYY-MM-DD", -1
    for name, pattern in FORMATS.items():
        count = 0
        for value in values:
            try:
                datetime.strptime(value, pattern)
                count += 1
            except ValueError:
                pass
        if count > best_count:
            best, best_count = name, count
    return best


def guess_decimal_separator(values: list[str]) -> str:
    for value in values:
        if "." in value and "," in value:
            return "," if value.rfind(",") > value.rfind(".") else "."
    if any(DECIMAL_COMMA.search(value.strip()) for value in values):
        return ","
    return "."


class AmountReader:
    def __init__(self, decimal: str, thousands: str) -> None:
        self.decimal, self.thousands = decimal, thousands
        # The usual cell, a plain signed number with this decimal separator, read at once.
        self.plain = re.compile(rf"-?[0-9]+(?:{re.escape(decimal)}[0-9]+)?")

    def __call__(self, raw: str) -> Decimal | None:
        """The signed value of `raw`, None when empty; RowError when unreadable."""
        if self.plain.fullmatch(raw):
            return Decimal(raw if self.decimal == "." else raw.replace(self.decimal, "."))
        value = CODE.sub("", raw.strip().translate(SIGNS)).strip()
        if not value:
            return None
        negative = False
        if value.startswith("(") and value.endswith(")"):
            negative, value = True, value[1:-1]
        if value.endswith("-"):
            negative, value = True, value[:-1]
        if value[:1] in "+-":
            negative, value = negative or value[0] == "-", value[1:]
        value = value.translate(IGNORED)
        if self.thousands:
            value = value.replace(self.thousands, "")
        if self.decimal != ".":
            if "." in value:
                raise RowError(f"The amount {raw.strip()!r} is not a number.")
            value = value.replace(self.decimal, ".")
        if not NUMBER.match(value):
            raise RowError(f"The amount {raw.strip()[:40]!r} is not a number.")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise RowError(f"The amount {raw.strip()[:40]!r} is not a number.") from None
        return -amount if negative else amount


#: A line and its ending (\r\n, \r or \n, as a file opened with newline="" splits them), or
#: the last line without one.
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lines(text: str) -> Iterator[str]:
    """`text`'s lines as csv.reader reads a file opened with newline="". Not io.StringIO: it
    copies the text at four bytes a character (a 4.8 MB file held 19 MB more)."""
    return (match.group() for match in LINE.finditer(text))


def read(text: str, options: CSVOptions, max_rows: int, too_many) -> Statement:
    """The statement in `text`: its header read and its formats detected now, its lines read
    as the caller iterates `lines` (once), each bad row's problem added to `errors` as it is
    met; `too_many(max_rows)` is raised past `max_rows` data rows."""
    statement = Statement()
    delimiter = options.delimiter or guess_delimiter(text)
    csv_rows = csv.reader(lines(text), delimiter=delimiter, strict=True)
    try:
        header = next(csv_rows)
    except (csv.Error, StopIteration):
        raise Unprocessable("The file has no readable header row.", field="file") from None
    columns = map_columns(header, options.columns or {})
    width = len(header)

    def data_records() -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of each line that is not blank, as long as the header (short
        rows padded): the loop below reads the roles' cells by index."""
        number = 0
        while True:
            try:
                record = next(csv_rows)
            except StopIteration:
                return
            except csv.Error as exc:
                # A quote never closed swallows the rest of the file: nothing after it is read.
                statement.error(
                    number + 1, f"Unreadable CSV ({exc}): the rest of the file is unread."
                )
                return
            number += 1
            if number > max_rows:
                raise too_many(max_rows)
            if "".join(record).strip():  # not a blank line (one C call, not one per cell)
                if len(record) < width:
                    record.extend([""] * (width - len(record)))
                yield number, record

    def cell(record: list[str], role: str) -> str:
        index = columns.get(role)
        return record[index] if index is not None and index < len(record) else ""

    # The formats are guessed from the first SAMPLE rows; the rest are read as the caller
    # takes the lines, not held as cells and lines at once (a 100,000-row file's lines alone
    # were 36 MB).
    records = data_records()
    sample = list(itertools.islice(records, SAMPLE))

    def reader(role: str):
        index = columns.get(role)
        if index is None:
            return lambda record: ""
        return itemgetter(index)

    get_date, get_description, get_payee, get_import_id, get_currency = (
        reader(role) for role in ("date", "description", "payee", "import_id", "currency")
    )

    date_name = options.date_format or guess_date_format(
        [cell(r, "date").strip() for _, r in sample]
    )
    date_pattern = strptime_format(date_name)
    amount_roles = [role for role in ("amount", "debit", "credit") if role in columns]
    decimal = options.decimal_separator or guess_decimal_separator(
        [cell(r, role) for _, r in sample for role in amount_roles if cell(r, role)]
    )
    thousands = (
        options.thousands_separator
        if options.thousands_separator is not None
        else ("," if decimal == "." else ".")
    )
    amount = AmountReader(decimal, thousands)
    statement.detected = {
        "delimiter": delimiter,
        "date_format": date_name,
        "decimal_separator": decimal,
        "thousands_separator": thousands,
        "columns": {role: header[index] for role, index in columns.items()},
    }
    dates: dict[str, date] = {}  # a year of rows has a few hundred distinct dates

    def parsed() -> Iterator[Line]:
        for number, record in itertools.chain(sample, records):
            try:
                raw_date = get_date(record).strip()
                if raw_date not in dates:
                    try:
                        dates[raw_date] = check_date(
                            datetime.strptime(raw_date, date_pattern).date()
                        )
                    except ValueError as exc:
                        if isinstance(exc, RowError):
                            raise
                        raise RowError(
                            f"The date {raw_date[:40]!r} is not a date in the format {date_name}."
                        ) from None
                yield Line(
                    row=number,
                    date=dates[raw_date],
                    amount=read_amount(record, cell, amount),
                    description=clean_text(
                        get_description(record), "description", DESCRIPTION_LENGTH
                    ),
                    payee=clean_text(get_payee(record), "payee", PAYEE_LENGTH) or None,
                    import_id=clean_text(get_import_id(record), "import id", IMPORT_ID_LENGTH)
                    or None,
                    currency=get_currency(record).strip().upper() or None,
                )
            except RowError as exc:
                statement.error(number, str(exc))

    statement.lines = parsed()
    return statement


def read_amount(record: list[str], cell, amount: AmountReader) -> Decimal:
    value = amount(cell(record, "amount"))
    if value is None:
        debit, credit = amount(cell(record, "debit")), amount(cell(record, "credit"))
        if debit and credit:
            raise RowError("The row has both a debit and a credit amount.")
        if debit:
            value = -abs(debit)
        elif credit:
            value = abs(credit)
    if value is None:
        raise RowError("The row has no amount.")
    if not value:
        raise RowError("The amount is zero: a transaction moves money.")
    return value
