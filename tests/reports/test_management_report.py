"""The management report: its PDF's text in three languages, its suppression, its safety and its command.

The fixture files 17 requests on known days. February 2026 (the previous period):
five Geneva requests, all found receivable. March 2026 (the period): ten requests
received, eight in Geneva and two in Nairobi; in Geneva six are found receivable
(three of them decided, each revised up one step) and two withdrawn; in Nairobi
one is found not receivable and one waits. "Today" is 31 March 2026.

So in March: 10 received (shown), 2 withdrawn ("<5"), 7 screened of which 1 not
receivable ("<5": the receivable 6 and the total are hidden with it), 3 decided
("<5"). The narrative: cases received rose from 5 to 10.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction

from rebuttal.permissions import ROLE_GROUPS
from reports import management_report
from reports.figures import Scope
from reports.management_report import management_report_html, management_report_pdf
from reports.rendering import AssetFetcher
from tests.factories import UserFactory, advance, ensure_default_policy, make_case

MARCH = Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
TODAY = dt.date(2026, 3, 31)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
HOSTILE = "<img src=http://127.0.0.1:9/x>"


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 0, tzinfo=dt.UTC)


def _person(groups: dict[str, Any], username: str, group: str) -> Any:
    user = UserFactory(username=username)
    user.groups.add(groups[group])
    return user


def _file(n: int, office: str, region: str, filed: dt.datetime, steps: list[tuple[dt.datetime, str]], cast):  # noqa: ANN001, ANN202
    requester = UserFactory(username=f"mr-requester{n}")
    with time_machine.travel(filed, tick=False):
        case = make_case(requester, office=office, region=region)
        case = advance(case, to="submitted", requester=requester)
    for day, state in steps:
        with time_machine.travel(day, tick=False):
            case = advance(case, to=state, requester=requester, **cast)
    return case


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """The 17 requests, filed once for the module in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_default_policy()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}
        cast = {
            "hr": _person(groups, "mr-hana", "hr_specialist"),
            "reviewer": _person(groups, "mr-rita", "reviewer"),
            "endorser": _person(groups, "mr-ethan", "endorser"),
            "decision_maker": _person(groups, "mr-dora", "decision_maker"),
        }
        built = []
        for n in range(1, 6):  # February: five Geneva requests, found receivable
            built.append(
                _file(n, "Geneva Office", "Europe", at(2, n + 1), [(at(2, 20), "awaiting_assignment")], cast)
            )
        for n in range(6, 14):  # March, Geneva: 6 receivable (3 decided), 2 withdrawn
            if n <= 8:
                steps = [(at(3, 10), "awaiting_assignment"), (at(3, 20), "decided")]
            elif n <= 11:
                steps = [(at(3, 10), "awaiting_assignment")]
            else:
                steps = [(at(3, 12), "withdrawn")]
            built.append(_file(n, "Geneva Office", "Europe", at(3, n - 4), steps, cast))
        built.append(_file(14, "Nairobi Office", "Africa", at(3, 10), [(at(3, 12), "not_receivable")], cast))
        built.append(_file(15, "Nairobi Office", "Africa", at(3, 11), [], cast))
        # A hostile office name (two cases, so the name shows in the filters of its own report).
        for n in (16, 17):
            built.append(_file(n, HOSTILE, "Europe", at(1, 10 + n), [], cast))
        yield {"cases": built}
        transaction.set_rollback(True)


@pytest.fixture
def cases(world, db) -> list[Any]:  # noqa: ANN001
    built = world["cases"]
    assert [case.status for case in built[5:8]] == ["decided"] * 3
    assert built[11].status == "withdrawn"
    assert built[13].status == "not_receivable"
    return built


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "report") -> str:
    """The PDF's text as pdftotext lays it out (a row of a table stays on one line)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return re.sub(r"[ \t]+", " ", result.stdout)


def keep_first_page(pdf: bytes, name: str) -> Path:
    """Page 1 as a PNG under test-artifacts/reports/, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(ARTIFACTS / name),
        ],
        check=True,
    )
    return ARTIFACTS / f"{name}.png"


# --- the figures in the PDF ------------------------------------------------------------


def test_english_report_shows_the_figures_and_suppresses_small_counts(cases, tmp_path) -> None:  # noqa: ANN001
    pdf = management_report_pdf(scope=MARCH, language="en", today=TODAY)
    assert pdf.startswith(b"%PDF-")
    png = keep_first_page(pdf, "management-report-en")
    assert png.stat().st_size > 10_000
    text = pdf_text(pdf, tmp_path)

    assert "Performance rebuttals: management report" in text
    assert "1 March 2026 to 31 March 2026" in text
    assert "1 February 2026 to 28 February 2026" in text  # the previous period, the same length
    assert "Cases received 10" in text
    assert "Requests withdrawn <5" in text
    assert "Found not receivable <5" in text
    assert "Cases decided <5" in text
    # Hidden with the small ones so they cannot be worked out: the 6 receivable and their rate.
    assert "Found receivable x" in text
    assert "Receivability rate —" in text
    # No small number next to a label that must hide it, anywhere in the document.
    for label in (
        "Requests withdrawn",
        "Found not receivable",
        "Cases decided",
        "Rating revised",
        "Revised up 1 step",
    ):
        assert not re.search(rf"{re.escape(label)} [1-4]\b", text), label
    # The open cases by state: 8 awaiting assignment (shown), 3 decided and 1 submitted ("<5").
    assert re.search(r"Awaiting reviewer assignment .*\b8\b", text)
    assert re.search(r"Decided .*<5", text)
    assert "Counts below 5 are shown as “<5”" in text


def test_narrative_compares_with_the_previous_period_without_revealing_small_counts(cases) -> None:  # noqa: ANN001
    html = management_report_html(scope=MARCH, language="en", today=TODAY)
    assert "Cases received rose from 5 to 10." in html
    assert "Withdrawals: from 0 to fewer than 5." in html
    assert "Decisions: from 0 to fewer than 5." in html
    # The withdrawn, not receivable and decided counts (2, 1, 3) never appear in a sentence.
    sentences = re.findall(r"<li>(.*?)</li>", html)
    assert sentences
    assert not any(re.search(r"\b[1-4]\b", sentence) for sentence in sentences), sentences


def test_previous_period_can_be_given(cases) -> None:  # noqa: ANN001
    january = Scope(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    html = management_report_html(scope=MARCH, language="en", today=TODAY, previous=january)
    assert "1 January 2026 to 31 January 2026" in html
    # January received the two hostile-office requests: "<5".
    assert "Cases received: from fewer than 5 to 10." in html


@pytest.mark.parametrize(
    ("language", "headings", "sentence"),
    [
        (
            "fr",
            [
                "Contestations des évaluations : rapport de gestion",
                "Demandes reçues",
                "Dossiers en cours par état et par ancienneté",
            ],
            "Dossiers reçus : hausse de 5 à 10.",
        ),
        (
            "es",
            [
                "Impugnaciones de evaluaciones: informe de gestión",
                "Solicitudes recibidas",
                "Casos abiertos por estado y antigüedad",
            ],
            "Casos recibidos: aumento de 5 a 10.",
        ),
    ],
)
def test_report_in_french_and_spanish(cases, tmp_path, language, headings, sentence) -> None:  # noqa: ANN001
    pdf = management_report_pdf(scope=MARCH, language=language, today=TODAY)
    keep_first_page(pdf, f"management-report-{language}")
    text = pdf_text(pdf, tmp_path)
    flat = re.sub(r"\s+", " ", text)
    for heading in headings:
        assert heading in flat, heading
    assert sentence in flat
    assert "<5" in text
    assert "Cases received" not in text  # nothing left in English


def test_unknown_language_is_refused(cases) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="Unknown language"):
        management_report_html(scope=MARCH, language="de", today=TODAY)


# --- safety ------------------------------------------------------------------------------


def test_hostile_office_name_is_printed_and_fetches_nothing(cases, tmp_path) -> None:  # noqa: ANN001
    scope = Scope(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), office=HOSTILE)
    fetcher = AssetFetcher()
    pdf = management_report_pdf(scope=scope, language="en", today=TODAY, fetcher=fetcher)
    assert fetcher.refused == []
    assert fetcher.requested  # the stylesheet, emblem and fonts were asked for...
    assert all(url.startswith("file://") and "/letter_assets/" in url for url in fetcher.requested)
    assert not any("127.0.0.1" in url for url in fetcher.requested)  # ...and nothing else
    assert f"Office: {HOSTILE}" in pdf_text(pdf, tmp_path)
    html = management_report_html(scope=scope, language="en", today=TODAY)
    assert "&lt;img src=http://127.0.0.1:9/x&gt;" in html
    assert HOSTILE not in html


# --- the command --------------------------------------------------------------------------


def test_command_writes_the_pdf(cases, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    with time_machine.travel(at(3, 31), tick=False):
        call_command("management_report", "--from", "2026-03-01", "--to", "2026-03-31", "--no-progress")
    written = tmp_path / "management-report-2026-03-01-2026-03-31-en.pdf"
    assert written.read_bytes().startswith(b"%PDF-")
    assert "Cases received 10" in pdf_text(written.read_bytes(), tmp_path)


def test_command_takes_language_office_and_output(cases, tmp_path, capsys) -> None:  # noqa: ANN001
    output = tmp_path / "geneva.pdf"
    call_command(
        "management_report",
        "--from=2026-03-01",
        "--to=2026-03-31",
        "--language=fr",
        "--office=Geneva Office",
        f"--output={output}",
    )
    text = pdf_text(output.read_bytes(), tmp_path)
    assert "Bureau: Geneva Office" in re.sub(r"\s+", " ", text)
    assert str(output) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-31"], "--from must be a date"),
        (["--from", "2026-03-01", "--to", "31/03/2026"], "--to must be a date"),
        (["--from", "2026-04-01", "--to", "2026-03-31"], "is after --to"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--language", "de"], "Unknown language 'de'"),
        (
            ["--from", "2026-03-01", "--to", "2026-03-31", "--output", "/no/such/folder/r.pdf"],
            "does not exist",
        ),
    ],
)
def test_command_refuses_bad_input(cases, tmp_path, monkeypatch, arguments, message) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("management_report", *arguments, "--no-progress")
    assert list(tmp_path.iterdir()) == []


def test_previous_period_is_the_same_length_just_before() -> None:
    def before(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        previous = management_report.previous_scope(Scope(start=start, end=end, office="Geneva Office"))
        assert previous.office == "Geneva Office"
        return previous.start, previous.end

    # Whole months follow whole months (31 days before March would start on 29 January).
    assert before(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert before(dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    # Other periods: the same number of days.
    assert before(dt.date(2026, 3, 10), dt.date(2026, 3, 16)) == (dt.date(2026, 3, 3), dt.date(2026, 3, 9))
    assert before(dt.date(2026, 3, 5), dt.date(2026, 3, 5)) == (dt.date(2026, 3, 4), dt.date(2026, 3, 4))
