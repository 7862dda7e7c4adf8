"""``manage.py import_reviewers FILE``: an existing pool comes in from CSV, all or nothing.

Every row is checked first; every bad row is reported with its number and field,
and nothing is imported unless the whole file is good.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from reviewers.importing import COLUMNS
from reviewers.models import RetainerContract, Reviewer
from tests.factories import UserFactory, reviewer_profile

User = get_user_model()

HEADER = ",".join(COLUMNS)


def row(**overrides: str) -> str:
    """One good CSV row (Ana, contract RC-100), with ``overrides``."""
    cells = {
        "name": "Ana Alvarez",
        "email": "ana@example.net",
        "languages": "en;es",
        "regions": "Latin America;Europe",
        "affiliation": "Independent consultant",
        "contract_number": "RC-100",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "max_concurrent_cases": "3",
        "fee_per_review": "1500.00",
        "currency": "USD",
        "contract_status": "active",
    }
    cells.update(overrides)
    return ",".join(_quoted(cells[column]) for column in COLUMNS)


def _quoted(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ',"\n') else value


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "pool.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(path: Path) -> tuple[str, str]:
    """Run the command; (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_reviewers", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path) -> tuple[str, str]:
    """Run the command, which must refuse the file; (the error message, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_reviewers", str(path), stdout=out, stderr=err)
    return str(caught.value), err.getvalue()


def counts() -> tuple[int, int, int]:
    return Reviewer.objects.count(), RetainerContract.objects.count(), User.objects.count()


@pytest.fixture
def before(db, policy):  # noqa: ANN001, ANN201
    """What the database holds before the import (someone is already in the pool)."""
    reviewer_profile(UserFactory(username="rita", email="rita@example.org"))
    return counts()


# --- a good file -------------------------------------------------------------------------


def test_a_good_file_imports_every_reviewer_and_contract(tmp_path, before):
    path = csv_file(
        tmp_path,
        row(),
        row(contract_number="RC-101", starts_on="2027-01-01", ends_on="2027-12-31"),  # Ana's second
        row(name="Bruno Blanc", email="bruno@example.net", languages="fr", contract_number="RC-200"),
        row(
            name="Chloé Čapek",
            email="chloe@example.net",
            languages="en|fr|es",
            regions="",
            affiliation="",
            contract_number="RC-300",
            fee_per_review="950",
            currency="EUR",
            contract_status="",
        ),
    )

    out, err = run(path)

    assert "Imported 3 reviewer(s) and 4 contract(s)." in out
    assert err == ""
    assert counts() == (before[0] + 3, before[1] + 4, before[2] + 3)
    ana = Reviewer.objects.get(email="ana@example.net")
    assert ana.languages == ["en", "es"]
    assert ana.regions == ["Latin America", "Europe"]
    assert sorted(ana.contracts.values_list("number", flat=True)) == ["RC-100", "RC-101"]
    chloe = Reviewer.objects.get(email="chloe@example.net")
    assert chloe.name == "Chloé Čapek"
    assert chloe.languages == ["en", "fr", "es"]
    contract = chloe.contracts.get()
    assert (contract.fee_per_review, contract.currency, contract.status) == (Decimal("950"), "EUR", "active")


def test_imported_reviewers_log_in_with_new_accounts_in_the_reviewer_group(tmp_path, before):
    run(csv_file(tmp_path, row()))

    account = Reviewer.objects.get(email="ana@example.net").user
    assert account.email == "ana@example.net"
    assert not account.has_usable_password()
    assert account.groups.filter(name="reviewer").exists()


def test_an_imported_reviewer_with_an_existing_account_keeps_it(tmp_path, before):
    ana = UserFactory(username="ana", email="Ana@Example.net")

    run(csv_file(tmp_path, row()))

    assert Reviewer.objects.get(email="ana@example.net").user == ana
    assert User.objects.count() == before[2] + 1  # only the account made above


def test_a_file_with_a_byte_order_mark_and_windows_line_ends_imports(tmp_path, before):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + row() + "\r\n").encode("utf-8"))

    out, _ = run(path)

    assert "Imported 1 reviewer(s) and 1 contract(s)." in out


# --- bad rows: every one reported, nothing imported ----------------------------------------


def test_a_file_with_bad_rows_reports_every_bad_row_and_imports_nothing(tmp_path, before):
    path = csv_file(
        tmp_path,
        row(),  # row 2: good
        row(name="Bruno Blanc", email="bruno@example.net", languages="en;de", contract_number="RC-200"),
        row(
            name="Chloé Čapek",
            email="chloe@example.net",
            contract_number="RC-300",
            starts_on="2026-06-01",
            ends_on="2026-05-31",
        ),
        row(name="Dev Desai", email="dev@example.net", contract_number="RC-100"),  # row 2's number
    )

    message, err = refused(path)

    assert "row 3: languages" in err
    assert "de" in err
    assert "row 4: ends_on" in err
    assert "row 5: contract_number" in err
    assert "row 2:" not in err
    assert "3 bad row(s)" in message
    assert "nothing was imported" in message
    assert counts() == before


def test_every_problem_of_one_row_is_reported(tmp_path, before):
    bad = row(
        email="not-an-email",
        languages="de",
        starts_on="2026-13-01",
        max_concurrent_cases="0",
        fee_per_review="lots",
        currency="usd",
        contract_status="paused",
    )

    _, err = refused(csv_file(tmp_path, bad))

    for field in (
        "email",
        "languages",
        "starts_on",
        "max_concurrent_cases",
        "fee_per_review",
        "currency",
        "contract_status",
    ):
        assert f"row 2: {field}" in err, field
    assert counts() == before


def test_a_missing_column_is_reported_and_nothing_imported(tmp_path, before):
    columns = [c for c in COLUMNS if c not in ("currency", "ends_on")]
    path = tmp_path / "pool.csv"
    path.write_text(",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n", encoding="utf-8")

    _, err = refused(path)

    assert "row 1: header" in err
    assert "currency" in err
    assert "ends_on" in err
    assert counts() == before


def test_a_file_that_is_not_utf8_is_refused(tmp_path, before):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + row(name="Chloé")).encode("latin-1"))

    message, _ = refused(path)

    assert "UTF-8" in message
    assert counts() == before


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_an_empty_file_is_refused(tmp_path, before, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    _, err = refused(path)

    assert "row 1: header" in err
    assert counts() == before


def test_a_missing_file_is_refused(tmp_path, before):
    message, _ = refused(tmp_path / "nowhere.csv")
    assert "No such file" in message


def test_an_email_already_in_the_pool_is_reported(tmp_path, before):
    _, err = refused(csv_file(tmp_path, row(), row(email="RITA@example.org", contract_number="RC-900")))

    assert "row 3: email" in err
    assert "already in the pool" in err
    assert counts() == before


def test_a_contract_number_twice_in_the_file_names_the_earlier_row(tmp_path, before):
    path = csv_file(tmp_path, row(), row(name="Bruno", email="bruno@example.net", contract_number="RC-100"))

    _, err = refused(path)

    assert "row 3: contract_number: RC-100 is also on row 2" in err
    assert counts() == before


def test_a_contract_number_already_in_the_database_is_reported(tmp_path, before):
    taken = RetainerContract.objects.get().number

    _, err = refused(csv_file(tmp_path, row(contract_number=taken)))

    assert f"row 2: contract_number: {taken} already exists" in err
    assert counts() == before


@pytest.mark.parametrize("fee", ["abc", "-5", "NaN", "Infinity", "1e9", "100000000", "12.345", "1,500"])
def test_a_bad_fee_is_reported(tmp_path, before, fee):
    _, err = refused(csv_file(tmp_path, row(fee_per_review=fee)))
    assert "row 2: fee_per_review" in err
    assert counts() == before


@pytest.mark.parametrize("currency", ["usd", "US", "EURO", "€€€", "ÀÉÎ", "U$D", "12A"])
def test_a_bad_currency_is_reported(tmp_path, before, currency):
    _, err = refused(csv_file(tmp_path, row(currency=currency)))
    assert "row 2: currency" in err
    assert counts() == before


@pytest.mark.parametrize(
    "field",
    ["name", "email", "languages", "contract_number", "starts_on", "ends_on", "fee_per_review", "currency"],
)
def test_an_empty_required_cell_is_reported(tmp_path, before, field):
    _, err = refused(csv_file(tmp_path, row(**{field: ""})))
    assert f"row 2: {field}: is required" in err
    assert counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "N" * 201),
        ("email", "x" * 250 + "@example.net"),
        ("affiliation", "A" * 201),
        ("contract_number", "C" * 61),
    ],
)
def test_a_value_too_long_for_the_database_is_reported_with_its_row(tmp_path, before, field, value):
    second = {"email": "bruno@example.net", "contract_number": "RC-2", field: value}

    _, err = refused(csv_file(tmp_path, row(), row(**second)))

    assert f"row 3: {field}: at most" in err
    assert counts() == before


def test_a_row_with_more_cells_than_columns_is_reported(tmp_path, before):
    _, err = refused(
        csv_file(tmp_path, row(), row(email="bruno@example.net", contract_number="RC-2") + ",extra")
    )
    assert "row 3: row" in err
    assert counts() == before


def test_the_same_reviewer_with_different_details_on_two_rows_is_reported(tmp_path, before):
    path = csv_file(tmp_path, row(), row(languages="fr", contract_number="RC-101"))

    _, err = refused(path)

    assert "row 3: email" in err
    assert counts() == before


def test_a_formula_in_a_cell_is_stored_as_text_not_evaluated(tmp_path, before):
    run(csv_file(tmp_path, row(name="=HYPERLINK(1)")))
    assert Reviewer.objects.get(email="ana@example.net").name == "=HYPERLINK(1)"


def test_the_import_is_all_or_nothing_even_when_the_bad_row_is_last(tmp_path, before):
    good = [
        row(name=f"Reviewer {n}", email=f"r{n}@example.net", contract_number=f"RC-{n}") for n in range(50)
    ]
    bad = row(name="Late", email="late@example.net", contract_number="RC-LATE", languages="xx")

    _, err = refused(csv_file(tmp_path, *good, bad))

    assert "row 52: languages" in err
    assert err.count("row ") == 1
    assert counts() == before


def test_importing_the_same_file_twice_refuses_the_second_time(tmp_path, before):
    path = csv_file(tmp_path, row())
    run(path)

    _, err = refused(path)

    assert "row 2: email" in err
    assert "row 2: contract_number" in err
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
