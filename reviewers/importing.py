"""Import of an existing reviewer pool from CSV: every row is checked first, every
problem reported with its row number, and nothing is imported unless all rows
are good."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from rebuttal.models import Language
from reviewers import services
from reviewers.models import ContractStatus, RetainerContract, Reviewer

COLUMNS = (
    "name",
    "email",
    "languages",
    "regions",
    "affiliation",
    "contract_number",
    "starts_on",
    "ends_on",
    "max_concurrent_cases",
    "fee_per_review",
    "currency",
    "contract_status",
)
REQUIRED = (
    "name",
    "email",
    "languages",
    "contract_number",
    "starts_on",
    "ends_on",
    "max_concurrent_cases",
    "fee_per_review",
    "currency",
)
MAX_ROWS = 10_000
# Column -> the longest value its model field holds (checked here, so that a long
# value is reported with its row instead of failing the whole import on save).
MAX_LENGTHS = {
    "name": Reviewer._meta.get_field("name").max_length,
    "email": Reviewer._meta.get_field("email").max_length,
    "affiliation": Reviewer._meta.get_field("affiliation").max_length,
    "contract_number": RetainerContract._meta.get_field("number").max_length,
}


@dataclass
class RowProblem:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class ParsedPool:
    reviewers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-case e-mail
    contracts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (e-mail, contract)
    problems: list[RowProblem] = field(default_factory=list)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]


def _date(value: str, row: int, name: str, problems: list[RowProblem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(RowProblem(row, name, f"'{value}' is not a date (YYYY-MM-DD)."))
        return None


def parse(text: str) -> ParsedPool:
    """Check every row; return what would be imported and every problem found."""
    pool = ParsedPool()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        pool.problems.append(RowProblem(1, "header", "missing column(s): " + ", ".join(missing)))
        return pool
    seen_numbers: dict[str, int] = {}
    existing_numbers = set(RetainerContract.objects.values_list("number", flat=True))
    existing_emails = {e.lower() for e in Reviewer.objects.values_list("email", flat=True)}
    for row_number, raw in enumerate(reader, start=2):
        if row_number > MAX_ROWS + 1:
            pool.problems.append(RowProblem(row_number, "file", f"more than {MAX_ROWS} rows."))
            break
        if None in raw:  # more cells than columns
            pool.problems.append(RowProblem(row_number, "row", "more cells than the header has columns."))
            continue
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        problems: list[RowProblem] = []
        for name in REQUIRED:
            if not row.get(name):
                problems.append(RowProblem(row_number, name, "is required."))
        for name, limit in MAX_LENGTHS.items():
            if len(row.get(name, "")) > limit:
                problems.append(RowProblem(row_number, name, f"at most {limit} characters."))
        email = row.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(RowProblem(row_number, "email", f"'{email}' is not an e-mail address."))
            if email.lower() in existing_emails:
                problems.append(RowProblem(row_number, "email", f"{email} is already in the pool."))
        languages = _split(row.get("languages", ""))
        unknown = [code for code in languages if code not in Language.values]
        if unknown:
            problems.append(
                RowProblem(
                    row_number,
                    "languages",
                    "unknown language(s): " + ", ".join(unknown) + " (use en, fr, es).",
                )
            )
        starts = _date(row["starts_on"], row_number, "starts_on", problems) if row.get("starts_on") else None
        ends = _date(row["ends_on"], row_number, "ends_on", problems) if row.get("ends_on") else None
        if starts and ends and ends < starts:
            problems.append(RowProblem(row_number, "ends_on", "the contract ends before it starts."))
        capacity = row.get("max_concurrent_cases", "")
        if capacity and not (capacity.isdigit() and 1 <= int(capacity) <= 100):
            problems.append(RowProblem(row_number, "max_concurrent_cases", "a whole number from 1 to 100."))
        fee: Decimal | None = None
        if row.get("fee_per_review"):
            try:
                fee = Decimal(row["fee_per_review"])
                if not fee.is_finite() or fee < 0 or fee >= Decimal("100000000"):
                    raise InvalidOperation
                if fee != fee.quantize(Decimal("0.01")):  # cents are the smallest unit stored
                    raise InvalidOperation
                fee = fee.quantize(Decimal("0.01"))
            except InvalidOperation:
                problems.append(
                    RowProblem(
                        row_number,
                        "fee_per_review",
                        "an amount of 0 or more with at most two decimals, e.g. 1500.00.",
                    )
                )
                fee = None
        currency = row.get("currency", "")
        if currency and not (
            len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()
        ):
            problems.append(RowProblem(row_number, "currency", "a three-letter code such as USD."))
        status = row.get("contract_status") or ContractStatus.ACTIVE
        if status not in ContractStatus.values:
            problems.append(
                RowProblem(row_number, "contract_status", "one of: " + ", ".join(ContractStatus.values) + ".")
            )
        number = row.get("contract_number", "")
        if number:
            if number in existing_numbers:
                problems.append(RowProblem(row_number, "contract_number", f"{number} already exists."))
            elif number in seen_numbers:
                problems.append(
                    RowProblem(
                        row_number, "contract_number", f"{number} is also on row {seen_numbers[number]}."
                    )
                )
            else:
                seen_numbers[number] = row_number
        reviewer = {
            "name": row.get("name", ""),
            "email": email,
            "languages": languages,
            "regions": _split(row.get("regions", "")),
            "affiliation": row.get("affiliation", ""),
        }
        known = pool.reviewers.get(email.lower())
        if known is not None and known != reviewer:
            problems.append(
                RowProblem(row_number, "email", f"{email} appears earlier with different reviewer details.")
            )
        pool.problems.extend(problems)
        if problems:
            continue
        pool.reviewers.setdefault(email.lower(), reviewer)
        pool.contracts.append(
            (
                email.lower(),
                {
                    "number": number,
                    "starts_on": starts,
                    "ends_on": ends,
                    "max_concurrent_cases": int(capacity),
                    "fee_per_review": fee,
                    "currency": currency,
                    "status": status,
                },
            )
        )
    return pool


@transaction.atomic
def import_pool(*, text: str, actor: Any = None) -> tuple[int, int, list[RowProblem]]:
    """(reviewers created, contracts created, problems); nothing is written when there are problems."""
    pool = parse(text)
    if pool.problems:
        return 0, 0, pool.problems
    created: dict[str, Reviewer] = {}
    for email, data in pool.reviewers.items():
        created[email] = services.reviewer_create(actor=actor, data={**data, "active": True})
    for email, contract in pool.contracts:
        services.contract_create(reviewer_id=created[email].pk, actor=actor, data=contract)
    return len(created), len(pool.contracts), []
