"""Each role's inbox, queue and archive of human tasks; claiming and handing tasks back.

The lists follow viewflow's role permissions and, on top, the rulebook's case
visibility: nobody sees a task of a case they may not see, nor of their own request.
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow import STATUS
from viewflow.workflow.models import Task

from rebuttal import services
from rebuttal.models import RebuttalCase
from tests.factories import UserFactory, advance, make_case
from workflow.models import RebuttalProcess
from workflow.process import open_task
from workflow.services import TaskTaken, case_act, task_claim

URL = "/api/v1/tasks/"
UTC = zoneinfo.ZoneInfo("UTC")


@pytest.fixture
def cast(requester, hr, reviewer, endorser, decision_maker):
    return {
        "requester": requester,
        "hr": hr,
        "reviewer": reviewer,
        "endorser": endorser,
        "decision_maker": decision_maker,
    }


@pytest.fixture
def hr2(groups, policy):
    user = UserFactory(username="henk", email="henk@example.org")
    user.groups.add(groups["hr_specialist"])
    return user


def fresh(user: Any) -> Any:
    """The user re-read, so no permission or group cache carries over between requests."""
    return type(user).objects.get(pk=user.pk)


def listing(api_as: Any, user: Any, box: str = "inbox", **params: Any) -> list[dict[str, Any]]:
    response = api_as(fresh(user)).get(URL, {"box": box, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def seen(api_as: Any, user: Any, box: str = "inbox", **params: Any) -> list[tuple[str, str]]:
    return [(item["case"]["reference"], item["node"]) for item in listing(api_as, user, box, **params)]


def task_of(case: RebuttalCase) -> Task:
    return open_task(RebuttalProcess.objects.get(case_id=case.pk))


def claim(api_as: Any, user: Any, task: Task, action: str = "claim") -> Any:
    return api_as(fresh(user)).post(f"{URL}{task.pk}/{action}/")


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# --- what each role finds, along a case's life ----------------------------------------


@pytest.mark.parametrize(
    ("state", "node"),
    [
        ("submitted", "intake"),
        ("screening", "screening"),
        ("awaiting_assignment", "assignment"),
        ("recommendation_submitted", "quality_check"),
        ("decided", "outcome"),
    ],
)
def test_hr_queue_holds_the_hr_step_of_the_case(api_as, cast, state, node):
    case = advance(make_case(cast["requester"]), to=state, **cast)
    assert seen(api_as, cast["hr"], "queue") == [(case.reference, node)]
    assert seen(api_as, cast["hr"], "inbox") == []
    for other in ("reviewer", "endorser", "decision_maker", "requester"):
        assert seen(api_as, cast[other], "queue") == []
        assert seen(api_as, cast[other], "inbox") == []


def test_reviewer_inbox_holds_acceptance_then_review_and_their_queue_stays_empty(api_as, cast):
    reviewer, hr = cast["reviewer"], cast["hr"]
    case = advance(make_case(cast["requester"]), to="reviewer_invited", **cast)
    [item] = listing(api_as, reviewer, "inbox")
    assert (item["node"], item["title"], item["status"]) == (
        "acceptance",
        "Accept or decline",
        STATUS.ASSIGNED,
    )
    assert item["assigned_to"] == reviewer.username
    assert seen(api_as, reviewer, "queue") == []
    assert seen(api_as, hr, "queue") == []

    case = advance(case, to="under_review", **cast)
    assert seen(api_as, reviewer, "inbox") == [(case.reference, "review")]
    assert seen(api_as, reviewer, "archive") == [(case.reference, "acceptance")]


def test_endorsement_waits_in_the_endorsers_queue_and_decision_in_the_decision_makers(api_as, cast):
    endorser, decision_maker = cast["endorser"], cast["decision_maker"]
    case = advance(make_case(cast["requester"]), to="awaiting_endorsement", **cast)
    assert seen(api_as, endorser, "queue") == [(case.reference, "endorsement")]
    assert seen(api_as, decision_maker, "queue") == []
    assert seen(api_as, cast["hr"], "queue") == []

    case = advance(case, to="awaiting_decision", **cast)
    assert seen(api_as, endorser, "queue") == []
    assert seen(api_as, endorser, "archive") == [(case.reference, "endorsement")]
    assert seen(api_as, decision_maker, "queue") == [(case.reference, "decision")]


def test_archive_lists_the_steps_each_person_finished_and_the_reviewer_loses_the_case_once_decided(
    api_as, cast
):
    case = advance(make_case(cast["requester"]), to="closed", **cast)
    hr_steps = sorted(node for _ref, node in seen(api_as, cast["hr"], "archive"))
    assert hr_steps == ["assignment", "intake", "quality_check", "screening"]
    assert seen(api_as, cast["endorser"], "archive") == [(case.reference, "endorsement")]
    assert seen(api_as, cast["decision_maker"], "archive") == [(case.reference, "decision")]
    # The reviewer no longer holds the case, so its tasks leave their archive too.
    assert seen(api_as, cast["reviewer"], "archive") == []
    for box in ("inbox", "queue"):
        assert seen(api_as, cast["hr"], box) == []


def test_the_inbox_is_the_default_box(api_as, cast):
    advance(make_case(cast["requester"]), to="reviewer_invited", **cast)
    response = api_as(fresh(cast["reviewer"])).get(URL)
    assert [item["node"] for item in response.json()["results"]] == ["acceptance"]


def test_an_unknown_box_is_bad_input(api_as, hr):
    response = api_as(hr).get(URL, {"box": "outbox"})
    assert response.status_code == 400
    assert "box" in response.json()["errors"]


def test_an_anonymous_caller_is_refused(api):
    assert api.get(URL).status_code == 401


def test_each_item_carries_the_case_and_its_clock(api_as, cast):
    case = advance(make_case(cast["requester"]), to="screening", **cast)
    [item] = listing(api_as, cast["hr"], "queue")
    assert item["id"] == task_of(case).pk
    assert (item["node"], item["title"]) == ("screening", "Receivability check")
    assert item["case"] == {
        "id": case.pk,
        "reference": case.reference,
        "status": "screening",
        "office": "Geneva Office",
        "region": "Europe",
        "stage_due_on": case.stage_due_on.isoformat(),
        "is_paused": False,
    }
    assert item["is_overdue"] is False
    assert (item["assigned_to"], item["assigned"], item["finished"]) == (None, None, None)
    assert item["created"]


# --- visibility ----------------------------------------------------------------------


def test_an_outsider_and_the_requester_see_no_task_at_all(api_as, cast, outsider):
    for state in ("submitted", "awaiting_endorsement"):
        advance(make_case(cast["requester"]), to=state, **cast)
    for user in (outsider, cast["requester"]):
        for box in ("inbox", "queue", "archive"):
            assert seen(api_as, user, box) == []


def test_hr_never_sees_the_tasks_of_their_own_request(api_as, hr, hr2):
    own = advance(make_case(hr), to="submitted", requester=hr)
    assert seen(api_as, hr, "queue") == []
    assert seen(api_as, hr2, "queue") == [(own.reference, "intake")]
    assert claim(api_as, hr, task_of(own)).status_code == 404

    own = advance(own, to="screening", requester=hr, hr=hr2)
    assert seen(api_as, hr, "queue") == []
    assert seen(api_as, hr2, "archive") == [(own.reference, "intake")]


def test_a_role_without_the_process_permission_sees_nothing(api_as, cast):
    advance(make_case(cast["requester"]), to="submitted", **cast)
    Group.objects.get(name="hr_specialist").permissions.clear()
    assert seen(api_as, cast["hr"], "queue") == []


# --- filters ---------------------------------------------------------------------------


def test_filters_by_case_status_office_region_and_node(api_as, cast, other_requester):
    a = advance(make_case(cast["requester"]), to="submitted", **cast)
    b = make_case(other_requester, office="Nairobi Office", region="Africa")
    b = advance(b, to="screening", **{**cast, "requester": other_requester})
    hr = cast["hr"]
    assert seen(api_as, hr, "queue", status="submitted") == [(a.reference, "intake")]
    assert {r for r, _ in seen(api_as, hr, "queue", status=["submitted", "screening"])} == {
        a.reference,
        b.reference,
    }
    assert seen(api_as, hr, "queue", office="nairobi office") == [(b.reference, "screening")]
    assert seen(api_as, hr, "queue", region="Europe") == [(a.reference, "intake")]
    assert seen(api_as, hr, "queue", node="screening") == [(b.reference, "screening")]
    assert api_as(hr).get(URL, {"node": "closed"}).status_code == 400
    assert api_as(hr).get(URL, {"status": "bogus"}).status_code == 400


# --- order and paging ---------------------------------------------------------------------


@pytest.fixture
def five_intakes(cast, groups):
    """Five submitted cases on different days; C's clock paused. Seen on 2026-11-13 (Friday)."""
    hr = cast["hr"]
    cases = {}
    days = {"A": "2026-11-02", "B": "2026-11-03", "C": "2026-11-04", "D": "2026-11-05", "E": "2026-11-12"}
    for name, day in days.items():
        with time_machine.travel(at(day), tick=False):
            requester = UserFactory(username=f"req{name.lower()}")
            cases[name] = advance(make_case(requester), to="submitted", requester=requester)
            if name == "C":
                services.case_pause_clock(case_id=cases[name].pk, actor=hr, reason="Waiting for documents.")
    return {name: RebuttalCase.objects.get(pk=case.pk) for name, case in cases.items()}


def test_overdue_tasks_come_first_then_by_due_date_then_oldest(api_as, cast, five_intakes):
    cases = five_intakes
    a, b, c, d, e = (cases[n] for n in "ABCDE")
    # C is due before D but its clock is paused: not overdue, so it comes after every overdue task.
    assert c.stage_due_on < d.stage_due_on
    with time_machine.travel(at("2026-11-13"), tick=False):
        items = listing(api_as, cast["hr"], "queue")
        overdue_only = seen(api_as, cast["hr"], "queue", overdue="true")
    assert [i["case"]["reference"] for i in items] == [x.reference for x in (a, b, d, c, e)]
    assert [i["is_overdue"] for i in items] == [True, True, True, False, False]
    assert [i["case"]["is_paused"] for i in items] == [False, False, False, True, False]
    assert [ref for ref, _ in overdue_only] == [a.reference, b.reference, d.reference]


def test_tasks_due_the_same_day_come_oldest_first(api_as, cast, other_requester):
    with time_machine.travel(at("2026-11-02", hour=9), tick=False):
        first = advance(make_case(cast["requester"]), to="submitted", **cast)
    with time_machine.travel(at("2026-11-02", hour=15), tick=False):
        second = advance(make_case(other_requester), to="submitted", requester=other_requester)
    assert first.stage_due_on == second.stage_due_on
    with time_machine.travel(at("2026-11-03"), tick=False):
        assert seen(api_as, cast["hr"], "queue") == [
            (first.reference, "intake"),
            (second.reference, "intake"),
        ]


def test_paging_follows_the_order_without_gaps_or_repeats(api_as, cast, five_intakes):
    with time_machine.travel(at("2026-11-13"), tick=False):
        whole = [i["id"] for i in listing(api_as, cast["hr"], "queue")]
        client = api_as(fresh(cast["hr"]))
        paged, url, pages = [], f"{URL}?box=queue&page_size=2", 0
        while url:
            body = client.get(url).json()
            paged += [i["id"] for i in body["results"]]
            url, pages = body["next"], pages + 1
        # And back again from the last page.
        back, url = [], body["previous"]
        while url:
            body = client.get(url).json()
            back = [i["id"] for i in body["results"]] + back
            url = body["previous"]
    assert len(whole) == 5
    assert pages == 3
    assert paged == whole
    assert back == whole[: len(whole) - 1]


# --- claim and hand back --------------------------------------------------------------------


def test_claiming_moves_a_task_from_my_queue_to_my_inbox_and_out_of_colleagues_queues(api_as, cast, hr2):
    hr = cast["hr"]
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    response = claim(api_as, hr, task)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["assigned_to"]) == (STATUS.ASSIGNED, hr.username)
    assert seen(api_as, hr, "inbox") == [(case.reference, "intake")]
    assert seen(api_as, hr, "queue") == []
    assert seen(api_as, hr2, "queue") == []

    response = claim(api_as, hr, task, "unclaim")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == STATUS.NEW
    assert seen(api_as, hr, "inbox") == []
    assert seen(api_as, hr2, "queue") == [(case.reference, "intake")]


def test_claiming_a_task_someone_else_holds_is_a_conflict(api_as, cast, hr2):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    assert claim(api_as, cast["hr"], task).status_code == 200
    response = claim(api_as, hr2, task)
    assert response.status_code == 409
    assert Task.objects.get(pk=task.pk).owner_id == cast["hr"].pk


def test_claiming_my_own_task_again_changes_nothing(api_as, cast):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    first = claim(api_as, cast["hr"], task).json()
    again = claim(api_as, cast["hr"], task)
    assert again.status_code == 200
    assert again.json()["assigned"] == first["assigned"]


def test_claiming_a_finished_task_is_a_conflict(api_as, cast):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    advance(case, to="screening", **cast)
    assert claim(api_as, cast["hr"], task).status_code == 409


def test_a_task_outside_my_role_or_sight_is_not_found(api_as, cast, outsider):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    for user in (outsider, cast["requester"], cast["endorser"], cast["reviewer"]):
        assert claim(api_as, user, task).status_code == 404
    assert api_as(cast["hr"]).post(f"{URL}999999/claim/").status_code == 404
    assert Task.objects.get(pk=task.pk).status == STATUS.NEW


def test_endorser_and_decision_maker_claim_and_hand_back_their_tasks(api_as, cast):
    case = advance(make_case(cast["requester"]), to="awaiting_endorsement", **cast)
    task = task_of(case)
    assert claim(api_as, cast["decision_maker"], task).status_code == 404
    assert claim(api_as, cast["endorser"], task).status_code == 200
    assert seen(api_as, cast["endorser"], "inbox") == [(case.reference, "endorsement")]
    assert claim(api_as, cast["endorser"], task, "unclaim").status_code == 200
    case = advance(RebuttalCase.objects.get(pk=case.pk), to="awaiting_decision", **cast)
    assert claim(api_as, cast["decision_maker"], task_of(case)).status_code == 200


def test_a_reviewers_task_cannot_be_handed_back(api_as, cast):
    case = advance(make_case(cast["requester"]), to="reviewer_invited", **cast)
    task = task_of(case)
    response = claim(api_as, cast["reviewer"], task, "unclaim")
    assert response.status_code == 403
    assert Task.objects.get(pk=task.pk).owner_id == cast["reviewer"].pk
    # Nor taken by HR, who may see the case.
    assert claim(api_as, cast["hr"], task).status_code == 409


def test_handing_back_is_only_for_the_holder_of_an_open_task(api_as, cast, hr2):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    assert claim(api_as, cast["hr"], task, "unclaim").status_code == 409  # nobody holds it
    assert claim(api_as, cast["hr"], task).status_code == 200
    assert claim(api_as, hr2, task, "unclaim").status_code == 403
    advance(case, to="screening", **cast)
    assert claim(api_as, cast["hr"], task, "unclaim").status_code == 409  # finished


def test_a_claimed_task_is_still_finished_by_the_transition_even_by_a_colleague(api_as, cast, hr2):
    case = advance(make_case(cast["requester"]), to="submitted", **cast)
    task = task_of(case)
    assert claim(api_as, cast["hr"], task).status_code == 200
    case_act(case_id=case.pk, name="start_screening", actor=hr2, version=case.version)
    task = Task.objects.get(pk=task.pk)
    assert (task.status, task.owner_id) == (STATUS.DONE, hr2.pk)
    assert seen(api_as, cast["hr"], "inbox") == []
    assert seen(api_as, hr2, "archive") == [(case.reference, "intake")]


# --- cost: one page costs the same whatever the number of tasks ---------------------------


def _file(count: int, start: int) -> list[RebuttalCase]:
    made = []
    for n in range(start, start + count):
        requester = UserFactory(username=f"filer{n}")
        made.append(advance(make_case(requester), to="submitted", requester=requester))
    return made


def _queries(api_as: Any, user: Any, box: str) -> tuple[int, int]:
    client = api_as(fresh(user))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"box": box})
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("box", ["queue", "inbox", "archive"])
def test_a_page_costs_the_same_for_5_and_50_tasks(api_as, hr, groups, django_assert_num_queries, box):
    def prepare(cases: list[RebuttalCase]) -> None:
        for case in cases:
            if box in ("inbox", "archive"):
                task_claim(task_id=task_of(case).pk, user=hr)
            if box == "archive":
                case_act(case_id=case.pk, name="start_screening", actor=hr, version=case.version)

    prepare(_file(5, 0))
    few, shown = _queries(api_as, hr, box)
    assert shown == 5
    prepare(_file(45, 5))
    client = api_as(fresh(hr))
    with django_assert_num_queries(few):
        response = client.get(URL, {"box": box})
    assert len(response.json()["results"]) == 25
    # The user's permissions (own, groups), their role groups, and the page with its cases.
    assert few == 4


# --- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_claiming_one_task_at_once_one_wins_and_the_other_gets_a_conflict(groups, policy):
    hr_group = groups["hr_specialist"]
    people = [UserFactory(username=f"hr{n}") for n in range(4)]
    for person in people:
        person.groups.add(hr_group)
    for _round in range(10):
        requester = UserFactory()
        case = advance(make_case(requester), to="submitted", requester=requester)
        task_id = task_of(case).pk
        barrier = threading.Barrier(len(people), timeout=30)
        outcomes: list[str] = []

        def attempt(
            person: Any,
            task_id: int = task_id,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            try:
                barrier.wait()
                task_claim(task_id=task_id, user=fresh(person))
                outcomes.append(f"won:{person.pk}")
            except TaskTaken:
                outcomes.append("conflict")
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        winners = [o for o in outcomes if o.startswith("won:")]
        assert len(winners) == 1, outcomes
        assert outcomes.count("conflict") == len(people) - 1
        task = Task.objects.get(pk=task_id)
        assert (task.status, f"won:{task.owner_id}") == (STATUS.ASSIGNED, winners[0])
