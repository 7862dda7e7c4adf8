"""The world and the expectation table of the access matrix (``tests/test_access_matrix.py``).

The table says, for every URL pattern of the project, which objects to put in its
path and what each actor must get, following the rulebook (docs/domain.md "Who
uses it", "Record keeping and confidentiality"; docs/api.md "Errors"): a case,
document, letter or invitation a user may not see answers 404; something they see
but may not do answers 403; an anonymous visitor is sent to the login page
(pages) or gets 401 (API); the admin site is for staff and sends everyone else to
its own login page.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from rebuttal import consultation, documents
from rebuttal.models import DocumentRequest, RebuttalCase, SupervisorInvitation
from rebuttal.permissions import ROLE_GROUPS
from reports.models import LetterKind, LetterRequest
from reviewers import services as reviewer_services
from reviewers.models import Assignment
from tests.factories import UserFactory, advance, make_case, reviewer_profile
from tests.upload_corpus import benign_files
from workflow.letters import letter_issue
from workflow.services import case_act

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
MISSING = 987_654  # an id no object has: answers exactly as an object one may not see

# --- walking the URL configuration -------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    route: str  # the full route, prefixes of the including resolvers first
    name: str  # qualified by namespace ("v1:case-detail"); "" when unnamed


def all_patterns() -> list[Pattern]:
    """Every URL pattern of the project, walking included resolvers recursively."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Pattern]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                yield from walk(entry, prefix + str(entry.pattern), inner or namespace)
            elif isinstance(entry, URLPattern):
                name = entry.name or ""
                yield Pattern(
                    prefix + str(entry.pattern), f"{namespace}:{name}" if namespace and name else name
                )

    return list(walk(get_resolver(), "", ""))


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def fill(route: str, values: dict[str, Any]) -> str:
    """The URL of ``route`` with each path parameter (converter or regex group) replaced by its value."""
    url = _PARAM.sub(lambda m: str(values[m.group(1) or m.group(2)]), route)
    return "/" + url.replace("^", "").replace("$", "")


def is_admin(pattern: Pattern) -> bool:
    return pattern.route.startswith("admin/")


# --- the world: people, cases and the objects around them ------------------------------------

# Actors, in the order of the report. Each has a line in ``ACTORS`` saying what they are.
ACTORS: dict[str, str] = {
    "anonymous": "not signed in",
    "alice": "requester: owns the draft, a submitted, a withdrawn, an under-review and a closed case",
    "olga": "another requester: owns the case awaiting endorsement, none of Alice's",
    "ivy": "reviewer invited to Paul's case (not answered yet)",
    "rita": "reviewer holding Alice's case under review, and Olga's (report in, awaiting endorsement)",
    "rex": "reviewer released from Quinn's case",
    "fred": "former reviewer of Alice's closed case (report still readable through the API)",
    "fro1": "first reporting officer of Alice's case under review, invitation open",
    "fro2": "first reporting officer of Olga's case, invitation expired",
    "hana": "HR specialist",
    "henry": "HR specialist who filed his own case (sees it as a requester only)",
    "adam": "HR administrator",
    "ethan": "endorser: Olga's case waits for him; he endorsed Paul's and Alice's closed case",
    "dora": "decision-maker: Paul's case waits for her; she decided Alice's closed case",
    "root": "superuser (staff)",
}

HR_SPECIALISTS = frozenset({"hana", "henry"})
HR = HR_SPECIALISTS | {"adam", "root"}
REVIEWERS = frozenset({"ivy", "rita", "rex", "fred"})

# Cases by label: owner, and who may see each (besides HR, the superuser and the owner).
CASES: dict[str, str] = {
    "D": "Alice's draft",
    "S": "Alice's submitted case",
    "W": "Alice's withdrawn case",
    "H": "Henry's (HR specialist) own case, in screening",
    "RI": "Paul's case, reviewer Ivy invited",
    "UR": "Alice's case under review by Rita, reporting officers invited (open)",
    "REL": "Quinn's case, back to assignment after Rex was released",
    "AE": "Olga's case awaiting endorsement (Rita's report; officers' invitations expired)",
    "AD": "Paul's case awaiting decision (endorsed by Ethan)",
    "CL": "Alice's closed case (Fred reviewed, Ethan endorsed, Dora decided; outcome letter)",
    "missing": "no such case",
}
OWNER = {"D": "alice", "S": "alice", "W": "alice", "UR": "alice", "CL": "alice", "H": "henry"}
OWNER |= {"RI": "paul", "REL": "quinn", "AE": "olga", "AD": "paul"}
CURRENT_REVIEWER = {"RI": "ivy", "UR": "rita", "AE": "rita", "AD": "gus"}
# Who sees a case other than HR (specialists, administrators), the superuser and its requester.
SEEN_BY = {"RI": {"ivy"}, "UR": {"rita"}, "AE": {"rita", "ethan"}, "AD": {"gus", "ethan", "dora"}}
SEEN_BY |= {"CL": {"ethan", "dora"}}
NAMES = {
    "alice": ("Alice", "Abara"),
    "olga": ("Olga", "Orlova"),
    "paul": ("Paul", "Pereira"),
    "quinn": ("Quinn", "Quaye"),
    "henry": ("Henry", "Hale"),
}


@dataclass
class World:
    users: dict[str, Any]
    cases: dict[str, RebuttalCase]
    # Per target family: label -> (object id, label of its case or None).
    targets: dict[str, dict[str, tuple[int, str | None]]] = field(default_factory=dict)
    uploaders: dict[str, str] = field(default_factory=dict)  # document label -> actor

    # -- the rules, as the rulebook states them --------------------------------------------

    def sees(self, actor: str, case: str | None) -> bool:
        """Whether ``actor`` may know that ``case`` exists."""
        if case in (None, "missing") or actor == "anonymous":
            return False
        if OWNER.get(case) == actor:
            return True
        if case == "D":  # a draft is the requester's alone
            return False
        return actor in HR or actor in SEEN_BY.get(case, set())

    def hr_on(self, actor: str, case: str) -> bool:
        """Acting as HR on the case: an HR specialist or administrator (or the superuser), never
        on their own case."""
        return actor in HR and OWNER.get(case) != actor

    def works_on(self, actor: str, case: str) -> bool:
        """The people working the case: the HR specialists (not on their own case), the reviewer
        holding it, the superuser."""
        own = OWNER.get(case) == actor
        return (actor in HR_SPECIALISTS and not own) or actor == "root" or CURRENT_REVIEWER.get(case) == actor

    def sees_document(self, actor: str, document: str) -> bool:
        """The requester sees the documents they added; the people handling the case see all."""
        _pk, case = self.targets["document"][document]
        if not self.sees(actor, case):
            return False
        if self.uploaders.get(document) == actor or self.hr_on(actor, case):
            return True
        return CURRENT_REVIEWER.get(case) == actor or actor in {"ethan", "dora"}

    def sees_letter(self, actor: str, letter: str) -> bool:
        """Letters are written to the requester: the requester and HR see them, nobody else."""
        _pk, case = self.targets["letter"][letter]
        return self.sees(actor, case) and (OWNER.get(case) == actor or self.hr_on(actor, case))


def _user(username: str, *roles: str, **extra: Any) -> Any:
    first, last = NAMES.get(username, (username.capitalize(), "Tester"))
    user = UserFactory(
        username=username, email=f"{username}@example.org", first_name=first, last_name=last, **extra
    )
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _upload(case: RebuttalCase, actor: Any) -> int:
    name, content = next((n, c) for n, c in benign_files() if n.lower().endswith(".png"))
    document = documents.document_add(
        case_id=case.pk, actor=actor, kind="evidence", name=name, fileobj=io.BytesIO(content)
    )
    return document.pk


def _issue(case: RebuttalCase, kind: str) -> int:
    request = LetterRequest.objects.get(case=case, kind=kind, supersedes__isnull=True)
    letter = letter_issue(request.pk)
    assert letter is not None
    return letter.pk


def build_world() -> World:
    """The people and the cases of the matrix, made through the services."""
    for role in ROLE_GROUPS:
        Group.objects.get_or_create(name=role)
    u = {"anonymous": None}
    for name in ("alice", "olga", "paul", "quinn", "fro1", "sro1", "fro2", "sro2"):
        u[name] = _user(name)
    for name in ("ivy", "rita", "rex", "fred", "gus"):
        u[name] = _user(name, "reviewer")
        reviewer_profile(u[name])
    u["hana"] = _user("hana", "hr_specialist")
    u["henry"] = _user("henry", "hr_specialist")
    u["adam"] = _user("adam", "hr_admin")
    u["ethan"] = _user("ethan", "endorser")
    u["dora"] = _user("dora", "decision_maker")
    u["root"] = _user("root", is_superuser=True, is_staff=True)
    hr = u["hana"]
    people = {"hr": hr, "endorser": u["ethan"], "decision_maker": u["dora"]}

    def case(owner: str, to: str, reviewer: str | None = None, **intake: Any) -> RebuttalCase:
        made = make_case(u[owner], **intake)
        return advance(made, to=to, requester=u[owner], reviewer=u.get(reviewer or ""), **people)

    docs: dict[str, tuple[int, str | None]] = {}
    uploaders: dict[str, str] = {}

    def upload(label: str, case_label: str, made: RebuttalCase, who: str) -> None:
        docs[label] = (_upload(made, u[who]), case_label)
        uploaders[label] = who

    c: dict[str, RebuttalCase] = {}
    c["D"] = case("alice", "draft", appraisal_cycle=2026)
    upload("alice-draft", "D", c["D"], "alice")
    c["S"] = case("alice", "submitted", appraisal_cycle=2025)
    c["W"] = case("alice", "withdrawn", appraisal_cycle=2024)
    c["H"] = make_case(u["henry"])
    upload("henry-own", "H", c["H"], "henry")
    c["H"] = advance(c["H"], to="screening", requester=u["henry"], **people)
    c["RI"] = case("paul", "reviewer_invited", "ivy", appraisal_cycle=2026)
    c["REL"] = case("quinn", "under_review", "rex")
    c["REL"] = case_act(
        case_id=c["REL"].pk,
        name="release_reviewer",
        actor=hr,
        version=c["REL"].version,
        data={"reason": "Conflict found late."},
    )
    officers_ur = {"first_reporting_officer_email": "fro1@example.org"}
    c["UR"] = case(
        "alice",
        "under_review",
        "rita",
        appraisal_cycle=2023,
        **officers_ur,
        second_reporting_officer_email="sro1@example.org",
    )
    upload("alice-ur", "UR", c["UR"], "alice")
    upload("rita-ur", "UR", c["UR"], "rita")
    open_invitations = consultation.supervisors_invite(case_id=c["UR"].pk, actor=hr)
    document_request = consultation.document_request_create(
        case_id=c["UR"].pk, actor=u["rita"], addressee="requester", what="The mid-year review, please."
    )
    reviewer_services.interview_record(
        case_id=c["UR"].pk,
        actor=u["rita"],
        interviewee="The first reporting officer",
        held_on=timezone.localdate(),
        notes="Confirmed the objectives.",
    )
    ae = make_case(
        u["olga"],
        first_reporting_officer_email="fro2@example.org",
        second_reporting_officer_email="sro2@example.org",
    )
    upload("olga-ae", "AE", ae, "olga")
    ae = advance(ae, to="under_review", requester=u["olga"], reviewer=u["rita"], **people)
    expired = consultation.supervisors_invite(case_id=ae.pk, actor=u["rita"])
    c["AE"] = advance(ae, to="awaiting_endorsement", requester=u["olga"], reviewer=u["rita"], **people)
    # SupervisorInvitation is not append-only: close the window by moving its end into the past.
    SupervisorInvitation.objects.filter(case=c["AE"]).update(closes_on=dt.date(2020, 1, 1))
    c["AD"] = case("paul", "awaiting_decision", "gus", appraisal_cycle=2025)
    cl = make_case(u["alice"], appraisal_cycle=2022)
    upload("alice-cl", "CL", cl, "alice")
    c["CL"] = advance(cl, to="closed", requester=u["alice"], reviewer=u["fred"], **people)
    for made in c.values():
        made.refresh_from_db()

    world = World(users=u, cases=c, uploaders=uploaders)
    world.targets["case"] = {label: (made.pk, label) for label, made in c.items()}
    world.targets["case"]["missing"] = (MISSING, "missing")
    world.targets["document"] = {**docs, "missing": (MISSING, "missing")}
    world.targets["letter"] = {
        "alice-outcome": (LetterRequest.objects.get(case=c["CL"], kind=LetterKind.OUTCOME).letter.pk, "CL"),
        "olga-ack": (_issue(c["AE"], LetterKind.ACKNOWLEDGEMENT), "AE"),
        "henry-ack": (_issue(c["H"], LetterKind.ACKNOWLEDGEMENT), "H"),
        "missing": (MISSING, "missing"),
    }
    world.targets["letter-request"] = {
        "alice-s-ack": (LetterRequest.objects.get(case=c["S"], kind=LetterKind.ACKNOWLEDGEMENT).pk, "S")
    }
    world.targets["invitation"] = {
        "fro1-open": (next(i.pk for i in open_invitations if i.officer_id == u["fro1"].pk), "UR"),
        "fro2-expired": (next(i.pk for i in expired if i.officer_id == u["fro2"].pk), "AE"),
        "missing": (MISSING, "missing"),
    }
    world.targets["document-request"] = {"to-alice-ur": (document_request.pk, "UR")}
    assignment = {
        label: Assignment.objects.filter(case=c[case_label], reviewer__user=u[who]).get().pk
        for label, case_label, who in (
            ("ivy-invited", "RI", "ivy"),
            ("rita-accepted", "UR", "rita"),
            ("rita-reported", "AE", "rita"),
            ("rex-released", "REL", "rex"),
            ("fred-completed", "CL", "fred"),
        )
    }
    world.targets["assignment"] = {
        label: (pk, case_label)
        for (label, pk), case_label in zip(assignment.items(), ("RI", "UR", "AE", "REL", "CL"), strict=True)
    }
    world.targets["assignment"]["missing"] = (MISSING, None)
    world.targets["reviewer"] = {
        "rita": (u["rita"].reviewer_profile.pk, None),
        "missing": (MISSING, None),
    }
    from viewflow.workflow.models import Task

    task = Task.objects.filter(process__rebuttalprocess__case=c["S"]).order_by("pk").first()
    world.targets["task"] = {"s-screening": (task.pk if task else MISSING, "S")}
    assert DocumentRequest.objects.filter(pk=document_request.pk, addressed_to=u["alice"]).exists()
    return world


# --- the expectation table -------------------------------------------------------------------

# An expectation: (status, where a redirect must lead, or None for any place).
Expect = tuple[int, str | None]
Rule = Callable[[World, str, str | None], int | Expect]


@dataclass(frozen=True)
class Route:
    """How to build a pattern's URLs and what each actor gets.

    ``kind``: "page" (anonymous -> 302 to the login page), "api" (anonymous -> 401) or
    "open" (the rule says what anonymous gets too). ``family`` names the objects put in
    ``pk`` (None: no object). ``extra`` are the other path parameters.
    """

    kind: str
    rule: Rule
    family: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def always(status: int) -> Rule:
    return lambda w, a, t: status


def hr_only(w: World, actor: str, target: str | None) -> int:
    return 200 if actor in HR else 403


def case_visible(w: World, actor: str, case: str | None) -> int:
    return 200 if w.sees(actor, case) else 404


def case_hr_part(w: World, actor: str, case: str | None) -> int:
    """HR's parts of a case (receivability, reviewer suggestions): 403 for anyone else who sees it."""
    if not w.sees(actor, case):
        return 404
    return 200 if w.hr_on(actor, case) else 403


def case_working_part(w: World, actor: str, case: str | None) -> int:
    """The working notes (interviews, officers' comments): HR specialists and the reviewer."""
    if not w.sees(actor, case):
        return 404
    return 200 if w.works_on(actor, case) else 403


def own_draft(w: World, actor: str, case: str | None) -> int:
    """Editing or deleting a draft: only its requester; a filed case has no draft to edit (404)."""
    return 200 if case == "D" and actor == "alice" else 404


def document(w: World, actor: str, label: str | None) -> int:
    return 200 if w.sees_document(actor, label) else 404


def letter(w: World, actor: str, label: str | None) -> int:
    return 200 if w.sees_letter(actor, label) else 404


def invitation(w: World, actor: str, label: str | None) -> int:
    """A reporting officer sees their own invitation while it is open; for anyone else it does not exist."""
    return 200 if label == "fro1-open" and actor == "fro1" else 404


def reviewer_record(w: World, actor: str, label: str | None) -> int:
    if actor not in HR:
        return 403
    return 404 if label == "missing" else 200


def hr_only_then_405(w: World, actor: str, label: str | None) -> int:
    """A POST-only action of the pool viewset: the pool is HR's (403 first), then 405 for GET."""
    return 405 if actor in HR else 403


ASSIGNMENT_OWNER = {
    "ivy-invited": "ivy",
    "rita-accepted": "rita",
    "rita-reported": "rita",
    "rex-released": "rex",
    "fred-completed": "fred",
}


def assignment(w: World, actor: str, label: str | None) -> int:
    """HR sees every assignment; a reviewer sees their own (their history, fees), nobody else."""
    if label == "missing":
        return 404
    return 200 if actor in HR or ASSIGNMENT_OWNER[label] == actor else 404


def assignment_report(w: World, actor: str, label: str | None) -> int:
    """The submitted report stays readable by its author (and HR) after the case is decided."""
    if label not in ("rita-reported", "fred-completed"):
        return 404
    return 200 if actor in HR or ASSIGNMENT_OWNER[label] == actor else 404


def home(w: World, actor: str, target: str | None) -> Expect:
    return (302, None)


def login(w: World, actor: str, target: str | None) -> int | Expect:
    return 200 if actor == "anonymous" else (302, None)


ROUTES: dict[str, Route] = {
    # Pages of the workflow app.
    "home": Route("page", home),
    "my-cases": Route("page", always(200)),
    "case-new": Route("page", always(200)),
    "case-detail": Route("page", case_visible, "case"),
    "case-edit": Route("page", own_draft, "case"),
    "case-delete": Route("page", own_draft, "case"),
    # POST-only pages answer 405 to GET, the same for every case (nothing learnt about it).
    "case-action": Route("page", always(405), "case", {"name": "withdraw"}),
    "document-upload": Route("page", always(405), "case"),
    "interview-add": Route("page", always(405), "case"),
    "document-request-add": Route("page", always(405), "case"),
    "supervisors-invite": Route("page", always(405), "case"),
    "document-request-answer": Route("page", always(405), "document-request"),
    "queue": Route("page", hr_only),
    "inbox": Route("page", lambda w, a, t: 200 if a in {"ethan", "dora"} else 403),
    "assignments": Route("page", lambda w, a, t: 200 if a in REVIEWERS else 403),
    "invitations": Route("page", always(200)),
    "invitation": Route("page", invitation, "invitation"),
    "workflow-diagram": Route("page", hr_only),
    # Downloads.
    "document-download": Route("page", document, "document"),
    "letter-download": Route("page", letter, "letter"),
    # The reviewer pool (HR).
    "reviewer-pool": Route("page", hr_only),
    "reviewer-detail": Route("page", reviewer_record, "reviewer"),
    "reviewer-release-all": Route("page", always(405), "reviewer"),
    "contracts": Route("page", hr_only),
    "fees": Route("page", hr_only),
    # Reports (HR); the summary API also answers senior management, suppressed.
    "reports-dashboard": Route("page", hr_only),
    "reports-cases-csv": Route("page", hr_only),
    "reports-figures-csv": Route("page", hr_only),
    "reports-corrected-ratings-csv": Route("page", hr_only),
    "reports-management-report": Route("page", hr_only),
    "v1:reports-summary": Route("api", lambda w, a, t: 200 if a in HR or a in {"ethan", "dora"} else 403),
    # Accounts and language.
    "login": Route("open", login),
    "logout": Route("open", always(405)),  # POST only
    "set_language": Route("open", lambda w, a, t: (302, "/")),
    # The API.
    "v1:api-token": Route("open", always(405)),  # POST only, no authentication needed
    "v1:case-transition": Route("api", always(405), "case", {"name": "withdraw"}),
    "v1:case-reviewer-suggestions": Route("api", case_hr_part, "case"),
    "v1:contracts-expiring": Route("api", hr_only),
    "v1:fee-certification": Route("api", hr_only),
    "v1:case-interviews": Route("api", case_working_part, "case"),
    "v1:case-document-requests": Route("api", case_visible, "case"),
    "v1:document-request-answer": Route("api", always(405), "document-request"),
    "v1:case-supervisor-invitations": Route("api", case_working_part, "case"),
    "v1:supervisor-invitation": Route("api", invitation, "invitation"),
    "v1:document-download": Route("api", document, "document"),
    "v1:case-letters": Route("api", case_visible, "case"),
    "v1:letter-pdf": Route("api", letter, "letter"),
    "v1:letter-correct": Route("api", always(405), "letter"),
    "v1:case-letter-requests": Route("api", case_visible, "case"),
    "v1:letter-request-retry": Route("api", always(405), "letter-request"),
    "v1:policy": Route("api", always(200)),
    "v1:task-list": Route("api", always(200)),
    "v1:task-claim": Route("api", always(405), "task"),
    "v1:task-unclaim": Route("api", always(405), "task"),
    "v1:case-list": Route("api", always(200)),
    "v1:case-detail": Route("api", case_visible, "case"),
    "v1:case-documents": Route("api", case_visible, "case"),
    "v1:case-receivability": Route("api", case_hr_part, "case"),
    "v1:case-timeline": Route("api", case_visible, "case"),
    "v1:reviewer-list": Route("api", hr_only),
    "v1:reviewer-detail": Route("api", reviewer_record, "reviewer"),
    "v1:reviewer-conflicts": Route("api", hr_only_then_405, "reviewer"),
    "v1:reviewer-contracts": Route("api", reviewer_record, "reviewer"),
    "v1:reviewer-release-all": Route("api", hr_only_then_405, "reviewer"),
    "v1:assignment-list": Route("api", always(200)),
    "v1:assignment-detail": Route("api", assignment, "assignment"),
    "v1:assignment-report": Route("api", assignment_report, "assignment"),
    # The schema documents the API; it holds no case data.
    "schema": Route("open", always(200)),
    "api-docs": Route("open", always(200)),
}


# --- the admin site: one prefix rule for every pattern, representative pages for the superuser ---


def admin_objects() -> dict[str, Any]:
    """For each registered model (``app_model``), one object's primary key, or None."""
    found = {}
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        found[f"{model._meta.app_label}_{model._meta.model_name}"] = obj.pk if obj else None
    return found


def admin_cell(pattern: Pattern, actor: str, objects: dict[str, Any]) -> tuple[str, Expect | set[int]] | None:
    """The URL to try and what ``actor`` gets there; None when the cell is not tried.

    Everyone but staff is sent to the admin's login page (whose form itself answers 200,
    and whose logout takes POST only). The superuser is tried on the index, each app's
    list, each model's changelist and change page (200), and gets no server error anywhere.
    """
    name = pattern.name.removeprefix("admin:")
    model = next((m for m in objects if name.startswith(m + "_")), None)
    pk = objects.get(model) if model else None
    values = {
        "content_type_id": 1,
        "object_id": pk if pk is not None else MISSING,
        "id": pk if pk is not None else MISSING,
        "app_label": "rebuttal",
        "url": "no-such-admin-page/",
        "history_id": 1,
    }
    url = fill(pattern.route, values)
    if actor == "root":
        if name in ("index", "app_list") or name.endswith("_changelist"):
            return url, (200, None)
        if name.endswith("_change"):
            return (url, (200, None)) if pk is not None else None
        if name == "login":
            return url, (302, "/admin/")
        if name == "logout":
            return url, (405, None)
        return url, {200, 302, 403, 404, 405}
    if name == "login":
        return url, (200, None)
    if name == "logout":  # the admin sends anyone not staff from its logout to its index
        return url, (302, "/admin/")
    return url, (302, ADMIN_LOGIN)
