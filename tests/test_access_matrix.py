"""Every URL of the project, for every kind of person, against cases in different states and
ownership: each cell answers what the rulebook says (404 for what one may not see, 403 for what
one sees but may not do, login for anonymous visitors), error pages name no case, case pages
are logged, and refused actions change nothing.

The data is built once (a module fixture in one rolled-back transaction); every request is
made there and the tests below judge the recorded answers. A URL pattern missing from the
table (``tests/access_matrix_support.ROUTES``) fails ``test_every_url_pattern_is_in_the_table``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import resolve, reverse

from rebuttal.models import CaseAccess, Document, RebuttalCase, SupervisorInvitation
from reports.models import LetterRequest
from tests.access_matrix_support import (
    ACTORS,
    LOGIN,
    NAMES,
    OWNER,
    ROUTES,
    World,
    admin_cell,
    admin_objects,
    all_patterns,
    build_world,
    fill,
    is_admin,
)

# The data is made by the module fixture; the marker makes pytest-django create the test database.
pytestmark = pytest.mark.django_db


@dataclass
class Cell:
    pattern: str
    actor: str
    target: str | None
    case: str | None
    url: str
    expected: Any
    status: int
    location: str
    body: str
    content_type: str

    def matches(self) -> bool:
        if isinstance(self.expected, set):
            return self.status in self.expected
        status, where = self.expected
        if self.status != status:
            return False
        return where is None or self.location.split("?")[0] == where

    def __str__(self) -> str:
        got = f"{self.status}" + (f" -> {self.location}" if self.location else "")
        where = f"{self.pattern} as {self.actor} on {self.target}: GET {self.url}"
        return f"{where} expected {self.expected}, got {got}"


@dataclass
class Matrix:
    world_cases: dict[str, str]  # case label -> reference
    people: dict[str, str] = field(default_factory=dict)  # actor -> full name
    cells: list[Cell] = field(default_factory=list)
    access_log_problems: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)  # problems of the POST checks
    post_count: int = 0
    seconds: float = 0.0


def _expected(rule_value: Any) -> Any:
    return rule_value if isinstance(rule_value, tuple | set) else (rule_value, None)


def _extra_people() -> dict[str, Any]:
    """People who act on cases without being actors of the matrix (their names must not leak)."""
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.filter(username__in=["gus", "paul", "quinn"])}


def _clients(world: World) -> dict[str, Client]:
    clients = {}
    for actor in ACTORS:
        client = Client(raise_request_exception=False)
        if world.users[actor] is not None:
            client.force_login(world.users[actor])
        clients[actor] = client
    return clients


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    body = b"" if getattr(response, "streaming", False) else response.content
    return response, body.decode("utf-8", "replace")


def _record(matrix: Matrix, **kwargs: Any) -> None:
    response, body = kwargs.pop("response")
    matrix.cells.append(
        Cell(
            status=response.status_code,
            location=response.get("Location", ""),
            body=body,
            content_type=response.get("Content-Type", ""),
            **kwargs,
        )
    )


def _run_gets(matrix: Matrix, world: World, clients: dict[str, Client]) -> None:
    objects = admin_objects()
    for pattern in all_patterns():
        if is_admin(pattern):
            for actor in ACTORS:
                cell = admin_cell(pattern, actor, objects)
                if cell is None:
                    continue
                url, expected = cell
                response = _get(clients[actor], url)
                _record(
                    matrix,
                    pattern=pattern.route,
                    actor=actor,
                    target=None,
                    case=None,
                    url=url,
                    expected=expected,
                    response=response,
                )
            continue
        route = ROUTES[pattern.name]
        family = world.targets[route.family] if route.family else {None: (None, None)}
        for target, (pk, case) in family.items():
            values = dict(route.extra, **({"pk": pk} if pk is not None else {}))
            url = reverse(pattern.name, kwargs=values or None)
            assert fill(pattern.route, values) == url, (pattern.route, url)
            for actor in ACTORS:
                if actor == "anonymous" and route.kind != "open":
                    expected: Any = (302, LOGIN) if route.kind == "page" else (401, None)
                else:
                    expected = _expected(route.rule(world, actor, target))
                user = world.users[actor]
                log_before = CaseAccess.objects.count()
                page_before = (
                    CaseAccess.objects.filter(case_id=pk, actor=user, what="page").count()
                    if pattern.name == "case-detail" and user is not None
                    else 0
                )
                response = _get(clients[actor], url)
                _record(
                    matrix,
                    pattern=pattern.name,
                    actor=actor,
                    target=target,
                    case=case,
                    url=url,
                    expected=expected,
                    response=response,
                )
                status = response[0].status_code
                if status == 404 and CaseAccess.objects.count() != log_before:
                    matrix.access_log_problems.append(
                        f"{url} as {actor}: 404 but a CaseAccess row was written"
                    )
                if pattern.name == "case-detail" and status == 200:
                    after = CaseAccess.objects.filter(case_id=pk, actor=user, what="page").count()
                    if after != page_before + 1:
                        matrix.access_log_problems.append(
                            f"{url} as {actor}: 200 but no CaseAccess 'page' row"
                        )


# --- refused POSTs: 404 for who may not see, 403 for who sees but may not act; nothing changes ---


def _snapshot() -> tuple[Any, ...]:
    return (
        sorted(RebuttalCase.objects.values_list("pk", "status", "version", "deleted_at")),
        Document.objects.count(),
        sorted(SupervisorInvitation.objects.values_list("pk", "comment", "commented_at")),
        LetterRequest.objects.count(),
        sorted(CaseAccess.objects.values_list("pk", flat=True)),
    )


def _posts(world: World) -> list[tuple[str, dict[str, Any], str, str, dict[str, int]]]:
    """(description, body, url, kind, {actor: expected status}) for a few POST-only actions."""
    case = {label: made for label, made in world.cases.items()}
    png = ("evidence.png", _png())
    letter_pk = world.targets["letter"]["alice-outcome"][0]
    invitation_open = world.targets["invitation"]["fro1-open"][0]
    invitation_expired = world.targets["invitation"]["fro2-expired"][0]
    request_pk = world.targets["document-request"]["to-alice-ur"][0]
    task_pk = world.targets["task"]["s-screening"][0]
    rita_profile = world.targets["reviewer"]["rita"][0]
    return [
        (
            "start the screening of Alice's submitted case (page)",
            {"version": case["S"].version},
            reverse("case-action", args=[case["S"].pk, "start_screening"]),
            "page",
            {"alice": 403, "olga": 404, "rita": 404, "ethan": 404, "fro1": 404, "dora": 404},
        ),
        (
            "reject Henry's own case as not receivable (page): he is HR, but not on his own case",
            {"version": case["H"].version, "reason": "Out of time."},
            reverse("case-action", args=[case["H"].pk, "reject_not_receivable"]),
            "page",
            {"henry": 403, "alice": 404, "rita": 404},
        ),
        (
            "withdraw Alice's case under review (page)",
            {"version": case["UR"].version, "reason": "Not mine to withdraw.", "confirm": "on"},
            reverse("case-action", args=[case["UR"].pk, "withdraw"]),
            "page",
            {"hana": 403, "rita": 403, "fro1": 404, "olga": 404, "ethan": 404},
        ),
        (
            "release the reviewer of Alice's case (API)",
            {"version": case["UR"].version, "reason": "No."},
            reverse("v1:case-transition", args=[case["UR"].pk, "release_reviewer"]),
            "json",
            {"alice": 403, "rita": 403, "ethan": 404, "fro1": 404, "rex": 404, "ivy": 404},
        ),
        (
            "endorse Olga's case (API) by whoever is not the endorser",
            {"version": case["AE"].version, "comment": "Fine."},
            reverse("v1:case-transition", args=[case["AE"].pk, "endorse"]),
            "json",
            {"olga": 403, "rita": 403, "hana": 403, "dora": 404, "fro2": 404, "alice": 404},
        ),
        (
            "invite the reporting officers on Alice's case (page)",
            {},
            reverse("supervisors-invite", args=[case["UR"].pk]),
            "page",
            {"alice": 403, "ethan": 404, "fro1": 404, "olga": 404},
        ),
        (
            "upload a document to Alice's closed case (page)",
            {"kind": "evidence", "file": png},
            reverse("document-upload", args=[case["CL"].pk]),
            "page",
            {"ethan": 403, "dora": 403, "fred": 404, "rita": 404, "olga": 404},
        ),
        (
            "upload a document to Olga's case awaiting endorsement (API)",
            {"kind": "evidence", "file": png},
            reverse("v1:case-documents", args=[case["AE"].pk]),
            "multipart",
            {"ethan": 403, "dora": 404, "alice": 404, "fro2": 404},
        ),
        (
            "delete Alice's draft (page)",
            {"version": case["D"].version},
            reverse("case-delete", args=[case["D"].pk]),
            "page",
            {"olga": 404, "hana": 404, "root": 404, "rita": 404},
        ),
        (
            "record an interview on Alice's case (page)",
            {"interviewee": "Someone", "held_on": "2026-01-05", "notes": "Notes."},
            reverse("interview-add", args=[case["UR"].pk]),
            "page",
            {"alice": 403, "ethan": 404, "fro1": 404},
        ),
        (
            "correct Alice's outcome letter (API)",
            {"reason": "Typo."},
            reverse("v1:letter-correct", args=[letter_pk]),
            "json",
            {"alice": 403, "ethan": 404, "dora": 404, "fred": 404, "olga": 404},
        ),
        (
            "answer the document request made to Alice (page)",
            {"answer": "Here."},
            reverse("document-request-answer", args=[request_pk]),
            "page",
            {"olga": 404, "ethan": 404, "fro1": 404},
        ),
        (
            "comment on a reporting officer's invitation that is not theirs or is closed (page)",
            {"comment": "A comment."},
            reverse("invitation", args=[invitation_expired]),
            "page",
            {"fro2": 404, "fro1": 404, "hana": 404, "alice": 404},
        ),
        (
            "comment on Fro1's open invitation as someone else (API)",
            {"comment": "A comment."},
            reverse("v1:supervisor-invitation", args=[invitation_open]),
            "json",
            {"sro1": 404, "fro2": 404, "alice": 404, "rita": 404},
        ),
        (
            "release all of Rita's cases (page) by someone not HR",
            {"reason": "Leaving.", "confirm": "on"},
            reverse("reviewer-release-all", args=[rita_profile]),
            "page",
            {"rita": 403, "alice": 403, "ethan": 403},
        ),
        (
            "claim the screening task of Alice's case (API) by someone who may not see it",
            {},
            reverse("v1:task-claim", args=[task_pk]),
            "json",
            {"olga": 404, "rita": 404, "ethan": 404, "fro1": 404},
        ),
    ]


def _png() -> bytes:
    from tests.upload_corpus import benign_files

    return next(content for name, content in benign_files() if name.lower().endswith(".png"))


def _run_posts(matrix: Matrix, world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    clients: dict[str, Client] = {}
    for description, body, url, kind, expected in _posts(world):
        for actor, status in expected.items():
            if actor not in clients:
                clients[actor] = Client(raise_request_exception=False)
                clients[actor].force_login(world.users[actor])
            client = clients[actor]
            data = dict(body)
            if "file" in data:
                name, content = data["file"]
                data["file"] = SimpleUploadedFile(name, content, content_type="image/png")
            before = _snapshot()
            if kind == "json":
                response = client.post(url, data, content_type="application/json")
            else:
                response = client.post(url, data)
            matrix.post_count += 1
            after = _snapshot()
            if response.status_code != status:
                matrix.posts.append(
                    f"{description}: POST {url} as {actor}: expected {status}, got {response.status_code}"
                )
            if after != before:
                matrix.posts.append(
                    f"{description}: POST {url} as {actor} ({response.status_code}) changed data"
                )


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):  # noqa: ANN001, ANN201
    media = tmp_path_factory.mktemp("media")
    started = time.perf_counter()
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)  # thousands of expected 403/404 warnings; 500s still logged
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)), transaction.atomic():
        cache.clear()
        world = build_world()
        result = Matrix(world_cases={label: made.reference for label, made in world.cases.items()})
        result.world_cases["__names__"] = "|".join(" ".join(NAMES[n]) for n in NAMES)
        result.people = {a: u.get_full_name() for a, u in world.users.items() if u is not None}
        result.people |= {n: world_user.get_full_name() for n, world_user in _extra_people().items()}
        _run_gets(result, world, _clients(world))
        _run_posts(result, world)
        transaction.set_rollback(True)
    cache.clear()
    request_log.setLevel(level)
    result.seconds = time.perf_counter() - started
    return result


# --- the tests --------------------------------------------------------------------------------


def test_every_url_pattern_is_in_the_table():
    patterns = [p for p in all_patterns() if not is_admin(p)]
    unnamed = [p.route for p in patterns if not p.name]
    names = [p.name for p in patterns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    unlisted = [f"{p.route} (name {p.name!r})" for p in patterns if p.name and p.name not in ROUTES]
    stale = sorted(set(ROUTES) - set(names))
    assert not unnamed, f"URL patterns without a name (name them and list them in ROUTES): {unnamed}"
    assert not duplicated, f"URL names used by more than one pattern: {duplicated}"
    assert not unlisted, f"URL patterns not listed in the access matrix (add them to ROUTES): {unlisted}"
    assert not stale, f"ROUTES lists patterns that no longer exist: {stale}"
    for pattern in patterns:  # the URL the matrix builds for a pattern is that pattern's
        route = ROUTES[pattern.name]
        values = dict(route.extra, **({"pk": 1} if route.family else {}))
        assert resolve(fill(pattern.route, values)).view_name == pattern.name, pattern.route


def _references(matrix: Matrix) -> list[str]:
    return [ref for label, ref in matrix.world_cases.items() if not label.startswith("__")]


def _names(matrix: Matrix) -> list[str]:
    return matrix.world_cases["__names__"].split("|")


def _title(cell: Cell) -> str:
    found = re.search(r"<title>(.*?)</title>", cell.body, re.S)
    return found.group(1).strip() if found else ""


def problem(check: str, cell: Cell, matrix: Matrix) -> str:
    """What is wrong with ``cell`` under ``check`` ("" when nothing is)."""
    if check == "status":
        return "" if cell.matches() else str(cell)
    if check == "title":
        if cell.status != 200 or not cell.content_type.startswith("text/html"):
            return ""
        title = _title(cell)
        leaked = [ref for ref in _references(matrix) if ref in title]
        return f"{cell}: <title>{title}</title>" if leaked else ""
    if check == "body":
        if cell.status not in (403, 404):
            return ""
        own = " ".join(NAMES.get(cell.actor, ("", ""))).strip()
        leaked = [t for t in (*_references(matrix), *_names(matrix)) if t != own and t in cell.body]
        return f"{cell}: the {cell.status} answer contains {leaked}" if leaked else ""
    if check == "content":
        return content_problem(cell, matrix)
    raise ValueError(check)


# Fields of the API's case that only the people handling it see, and the transitions whose reason
# the requester reads (the case page's rules: ``workflow.pages.case``).
HANDLER_FIELDS = ("requester", "receivability_result", "override_justification", "reviewer_user", "findings")
HANDLER_FIELDS += ("recommendation", "recommended_rating", "recommendation_reasons", "endorsement_comment")
REASONS_FOR_REQUESTER = ("reject_not_receivable", "withdraw", "decide", "")


def content_problem(cell: Cell, matrix: Matrix) -> str:
    """What a 200 answer shows that its reader may not see: on their own case a requester (HR or
    not) sees no handler's field, no other person's name, no working note, no access log."""
    if cell.status != 200 or cell.case in (None, "missing") or OWNER.get(cell.case) != cell.actor:
        return ""
    own = matrix.people[cell.actor]
    others = sorted(name for actor, name in matrix.people.items() if actor != cell.actor and name != own)
    found: list[str] = []
    if cell.pattern == "v1:case-detail":
        found = [f"field {name}" for name in HANDLER_FIELDS if name in json.loads(cell.body)]
    elif cell.pattern == "v1:case-timeline":
        for entry in json.loads(cell.body):
            if entry["kind"] == "viewed":
                found.append(f"access log entry ({entry['actor']})")
            elif entry["actor"] not in (own, "system", ""):
                found.append(f"{entry['kind']} {entry['transition']} by {entry['actor']}")
            if entry["reason"] and entry["transition"] not in REASONS_FOR_REQUESTER:
                found.append(f"the reason of {entry['transition']}: {entry['reason']!r}")
    elif cell.pattern == "case-detail":
        found = [f"name {name}" for name in others if name in cell.body]
        if "<strong>Opened" in cell.body:
            found.append("access log entries ('Opened')")
    return f"{cell}: shows {sorted(set(found))}" if found else ""


def problems(check: str, matrix: Matrix) -> list[str]:
    """Every cell's problem under ``check``, except the known bugs."""
    found = []
    for cell in matrix.cells:
        if text := problem(check, cell, matrix):
            found.append(text)
    return found


def test_every_cell_answers_as_the_rulebook_says(matrix):
    mismatches = problems("status", matrix)
    print(
        f"\naccess matrix: {len(matrix.cells)} GET cells, {matrix.post_count} POST cells, "
        f"{len(mismatches)} mismatches, {matrix.seconds:.1f} s"
    )
    assert len(matrix.cells) >= 1000
    assert not mismatches, f"{len(mismatches)} of {len(matrix.cells)} cells differ:\n" + "\n".join(mismatches)


def test_no_request_answers_a_server_error(matrix):
    errors = [str(cell) for cell in matrix.cells if cell.status >= 500]
    assert not errors, "\n".join(errors)


def test_case_pages_are_logged_and_refusals_are_not(matrix):
    shown = {c.actor for c in matrix.cells if c.pattern == "case-detail" and c.status == 200}
    refused = [c for c in matrix.cells if c.pattern == "case-detail" and c.status == 404]
    assert len(shown) >= 10, shown  # most actors saw some case page
    assert len(refused) >= 50
    assert not matrix.access_log_problems, "\n".join(matrix.access_log_problems)


def test_error_answers_name_no_case_and_no_requester(matrix):
    leaks = problems("body", matrix)
    assert not leaks, "\n".join(leaks)


def test_a_requester_sees_their_own_case_as_a_requester_only(matrix):
    leaks = problems("content", matrix)
    assert not leaks, "\n".join(leaks)


def test_page_titles_name_no_case(matrix):
    leaks = problems("title", matrix)
    assert not leaks, "\n".join(leaks)


def test_refused_actions_answer_404_or_403_and_change_nothing(matrix):
    assert matrix.post_count >= 50
    assert not matrix.posts, "\n".join(matrix.posts)
