"""Who opened a case, on HR's case page: one line per person, day and what they opened, with how
many times, so that a case looked at thousands of times does not make its page grow with the looks
(the API's timeline keeps every opening)."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rebuttal.models import CaseAccess
from tests.factories import UserFactory, advance, make_case

DAY_ONE = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def _view_lines(body: str) -> list[str]:
    """The timeline's "Opened (...)" labels, whitespace collapsed."""
    return [" ".join(label.split()) for label in re.findall(r"Opened \([^<]*", body)]


def test_the_case_page_counts_each_persons_openings_per_day(client, requester, hr, groups) -> None:  # noqa: ANN001
    other = UserFactory(username="omar", first_name="Omar", last_name="Okafor")
    other.groups.add(groups["hr_specialist"])
    with time_machine.travel(DAY_ONE, tick=False):
        case = advance(make_case(requester), to="submitted", requester=requester)
        client.force_login(hr)
        for minutes in (0, 5, 70):
            with time_machine.travel(DAY_ONE + dt.timedelta(minutes=minutes), tick=False):
                client.get(f"/cases/{case.pk}/")
    client.force_login(other)
    with time_machine.travel(DAY_ONE + dt.timedelta(hours=2), tick=False):
        client.get(f"/cases/{case.pk}/")
    client.force_login(hr)
    with time_machine.travel(DAY_ONE + dt.timedelta(days=1), tick=False):
        body = client.get(f"/cases/{case.pk}/").content.decode()
    assert CaseAccess.objects.filter(case=case).count() == 5
    # Hana's three openings on 4 May, Omar's one, and Hana's on 5 May (recorded before the page is drawn).
    assert _view_lines(body) == [
        "Opened (page) 3 times, last at 10:10 a.m.",
        "Opened (page)",
        "Opened (page)",
    ]
    assert body.count("Omar Okafor") >= 1
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_case_pages_queries_and_lines_do_not_grow_with_the_openings(client, requester, hr) -> None:  # noqa: ANN001
    case = advance(make_case(requester), to="submitted", requester=requester)
    client.force_login(hr)
    client.get(f"/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as few:
        first = client.get(f"/cases/{case.pk}/").content.decode()
    for _ in range(40):
        client.get(f"/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as many:
        later = client.get(f"/cases/{case.pk}/").content.decode()
    assert len(few) == len(many)
    assert len(_view_lines(first)) == 1
    assert _view_lines(first)[0].startswith("Opened (page) 2 times, last at ")
    assert len(_view_lines(later)) == 1
    assert _view_lines(later)[0].startswith("Opened (page) 43 times, last at ")


def test_the_api_timeline_keeps_every_opening(api_as, requester, hr) -> None:  # noqa: ANN001
    case = advance(make_case(requester), to="submitted", requester=requester)
    for _ in range(3):
        api_as(hr).get(f"/api/v1/cases/{case.pk}/")
    entries = api_as(hr).get(f"/api/v1/cases/{case.pk}/timeline/").json()
    rows = entries["results"] if isinstance(entries, dict) else entries
    assert [row["kind"] for row in rows].count("viewed") == CaseAccess.objects.filter(case=case).count() >= 3
