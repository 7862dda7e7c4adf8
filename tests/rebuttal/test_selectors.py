"""The rulebook's who-may-see table, enforced by ``case_visible_qs``."""

from __future__ import annotations

import pytest

from rebuttal import services
from rebuttal.exceptions import CaseNotFound
from rebuttal.selectors import case_get_visible, case_visible_qs
from tests.factories import UserFactory, advance, make_case


def visible(user):
    return set(case_visible_qs(user).values_list("pk", flat=True))


@pytest.fixture
def cases(requester, other_requester, hr, reviewer, endorser):
    draft = make_case(requester, appraisal_cycle=2024)
    submitted = advance(make_case(requester), to="submitted", requester=requester)
    reviewing = advance(
        make_case(other_requester), to="under_review", requester=other_requester, hr=hr, reviewer=reviewer
    )
    third_requester = UserFactory(username="paula")
    endorsing = advance(
        make_case(third_requester),
        to="awaiting_endorsement",
        requester=third_requester,
        hr=hr,
        reviewer=reviewer,
    )
    return {"draft": draft, "submitted": submitted, "reviewing": reviewing, "endorsing": endorsing}


def test_requester_sees_only_their_own_cases_including_drafts(requester, cases):
    assert visible(requester) == {cases["draft"].pk, cases["submitted"].pk}


def test_outsider_sees_nothing(outsider, cases):
    assert visible(outsider) == set()
    with pytest.raises(CaseNotFound):
        case_get_visible(user=outsider, pk=cases["submitted"].pk)


def test_hr_sees_every_filed_case_but_no_draft(hr, hr_admin, cases):
    filed = {cases["submitted"].pk, cases["reviewing"].pk, cases["endorsing"].pk}
    assert visible(hr) == filed
    assert visible(hr_admin) == filed


def test_reviewer_sees_the_cases_they_hold_only_while_they_hold_them(reviewer, hr, cases):
    assert visible(reviewer) == {cases["reviewing"].pk, cases["endorsing"].pk}
    case = cases["reviewing"]
    services.case_release_reviewer(case_id=case.pk, actor=hr, version=case.version, reason="Conflict found.")
    assert case.pk not in visible(reviewer)


def test_endorser_sees_cases_waiting_for_them_and_cases_they_acted_on(endorser, decision_maker, cases):
    assert visible(endorser) == {cases["endorsing"].pk}
    case = cases["endorsing"]
    services.case_endorse(case_id=case.pk, actor=endorser, version=case.version, comment="Agreed.")
    assert visible(endorser) == {case.pk}
    other_endorser = UserFactory(username="eve")
    other_endorser.groups.add(*endorser.groups.all())
    assert visible(other_endorser) == set()
    assert visible(decision_maker) == {case.pk}


def test_deleted_draft_is_invisible_even_to_its_requester(requester, cases):
    draft = cases["draft"]
    services.case_delete_draft(case_id=draft.pk, actor=requester, version=draft.version)
    assert draft.pk not in visible(requester)


def test_malformed_id_is_not_found(hr):
    with pytest.raises(CaseNotFound):
        case_get_visible(user=hr, pk="1 OR 1=1")
