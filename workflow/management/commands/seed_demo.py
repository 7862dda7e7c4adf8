"""``manage.py seed_demo``: demo people (one per role) and cases in every state.

Cases are driven through the same services as real ones, so their timelines,
history and audit chains are genuine. Running it again changes nothing and
prints the logins again.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from rebuttal import services
from rebuttal.models import Office, RebuttalCase, Status
from rebuttal.permissions import ROLE_GROUPS
from reports.models import LetterKind, LetterRequest, RequestStatus
from reviewers import services as reviewer_services
from reviewers.models import RetainerContract, Reviewer
from reviewers.selectors import reviewer_suggestions
from workflow import letters
from workflow.services import case_act

# username, password, role group, full name. Demo only: never use these anywhere real.
DEMO_PEOPLE = [
    ("alice", "alice-demo-2026", None, "Alice Abara", "requester"),
    ("hana", "hana-demo-2026", "hr_specialist", "Hana Haddad", "HR specialist"),
    ("adam", "adam-demo-2026", "hr_admin", "Adam Achebe", "HR administrator"),
    ("rita", "rita-demo-2026", "reviewer", "Rita Rossi", "reviewer"),
    ("ethan", "ethan-demo-2026", "endorser", "Ethan Eriksen", "endorser"),
    ("dora", "dora-demo-2026", "decision_maker", "Dora Diallo", "decision-maker"),
    ("sam", "sam-demo-2026", None, "Sam Suzuki", "supervisor (reporting officer)"),
    ("admin", "admin-demo-2026", None, "Site Admin", "superuser (Django admin)"),
]

# name, e-mail, languages, regions, capacity, contract months, fee, currency
DEMO_POOL = [
    ("Rita Rossi", "rita@example.org", ["en", "fr"], ["Europe", "Africa"], 4, 12, "1500.00", "USD"),
    ("Kwame Mensah", "kwame.mensah@example.net", ["en", "fr"], ["Africa"], 3, 18, "1400.00", "USD"),
    ("Lucía Fernández", "lucia.fernandez@example.net", ["es", "en"], ["Americas"], 3, 12, "1450.00", "USD"),
    (
        "Hiroshi Tanaka",
        "hiroshi.tanaka@example.net",
        ["en"],
        ["Asia and the Pacific"],
        2,
        9,
        "1600.00",
        "USD",
    ),
    ("Amélie Dubois", "amelie.dubois@example.net", ["fr", "en"], ["Europe"], 3, 24, "1350.00", "EUR"),
    ("Samuel Okafor", "samuel.okafor@example.net", ["en"], ["Africa", "Europe"], 2, 6, "1500.00", "USD"),
    ("María José Pérez", "mj.perez@example.net", ["es"], ["Americas"], 2, 12, "1400.00", "USD"),
    ("Ingrid Larsen", "ingrid.larsen@example.net", ["en", "fr", "es"], ["Europe"], 4, 15, "1300.00", "EUR"),
    ("Priya Raman", "priya.raman@example.net", ["en"], ["Asia and the Pacific"], 3, 12, "1550.00", "USD"),
    ("Jean-Baptiste Nkurunziza", "jb.nkurunziza@example.net", ["fr"], ["Africa"], 2, 12, "1250.00", "USD"),
    ("Carmen Ruiz", "carmen.ruiz@example.net", ["es", "fr"], ["Americas", "Europe"], 1, 8, "1400.00", "USD"),
    ("Oliver Grant", "oliver.grant@example.net", ["en"], ["Americas", "Europe"], 3, 14, "1500.00", "GBP"),
]

# name, region, country (public holidays), subdivision
OFFICES = [
    ("Geneva Office", "Europe", "CH", "GE"),
    ("Nairobi Hub", "Africa", "KE", ""),
    ("New York Headquarters", "Americas", "US", "NY"),
    ("Bangkok Office", "Asia and the Pacific", "TH", ""),
    ("Copenhagen Office", "Europe", "DK", ""),
    ("Panama Hub", "Americas", "PA", ""),
]

# (target state, how many cases)
SPREAD = [
    ("draft", 3),
    ("submitted", 4),
    ("screening", 3),
    ("not_receivable", 2),
    ("awaiting_assignment", 3),
    ("reviewer_invited", 2),
    ("under_review", 3),
    ("recommendation_submitted", 2),
    ("awaiting_endorsement", 2),
    ("awaiting_decision", 2),
    ("decided", 1),
    ("closed", 2),
    ("withdrawn", 2),
]

MAIN_PATH = [
    "draft",
    "submitted",
    "screening",
    "awaiting_assignment",
    "reviewer_invited",
    "under_review",
    "recommendation_submitted",
    "awaiting_endorsement",
    "awaiting_decision",
    "decided",
    "closed",
]

STATEMENTS = [
    "My workplan objectives were all met and documented in the mid-point review; the rating "
    "does not reflect the results recorded there.",
    "The second reporting officer was not consulted and the final discussion never took place.",
    "Two of the five goals were reassigned mid-cycle without the workplan being updated.",
    "The rating relies on an incident that was never raised with me during the cycle.",
]


class Command(BaseCommand):
    help = "Create demo users (one per role) and about 30 cases in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        people = self._people()
        if RebuttalCase.objects.exists():
            self.stdout.write("Demo cases already present; nothing added.")
        else:
            for name, region, country, subdivision in OFFICES:
                Office.objects.get_or_create(
                    name=name, defaults={"region": region, "country": country, "subdivision": subdivision}
                )
            pool = self._pool(people)
            # The demo's own history would otherwise mail ~100 messages to the console.
            with (
                override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
                letters.letters_held() as held,
            ):
                self._cases(people, pool)
            self._issue_letters(held)
            self._cut_contract_short(pool)
            self.stdout.write(
                f"Created {RebuttalCase.objects.count()} demo cases and a pool of {len(pool)} reviewers."
            )
        self._print_logins()

    def _people(self) -> dict[str, Any]:
        User = get_user_model()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}
        people = {}
        for username, password, group, full_name, _label in DEMO_PEOPLE:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.org", "first_name": first, "last_name": last},
            )
            if created:
                user.set_password(password)
                if username == "admin":
                    user.is_staff = user.is_superuser = True
                user.save()
            if group:
                user.groups.add(groups[group])
            people[username] = user
        # Further requesters, so that one person does not file every case.
        for i in range(1, 13):
            user, created = User.objects.get_or_create(
                username=f"staff{i:02d}",
                defaults={
                    "email": f"staff{i:02d}@example.org",
                    "first_name": "Staff",
                    "last_name": f"{i:02d}",
                },
            )
            if created:
                user.set_unusable_password()
                user.save()
            people[f"staff{i:02d}"] = user
        return people

    @transaction.atomic
    def _pool(self, people: dict[str, Any]) -> list[Reviewer]:
        """Twelve reviewers with varied languages, regions, capacities and contracts."""
        today = timezone.localdate()
        admin = people["adam"]
        pool = []
        for i, (name, email, languages, regions, capacity, months, fee, currency) in enumerate(DEMO_POOL):
            reviewer = reviewer_services.reviewer_create(
                actor=admin,
                data={
                    "name": name,
                    "email": email,
                    "languages": languages,
                    "regions": regions,
                    "affiliation": "Independent consultant",
                    "active": True,
                },
            )
            reviewer_services.contract_create(
                reviewer_id=reviewer.pk,
                actor=admin,
                data={
                    "number": f"RC-{today.year}-{i + 1:03d}",
                    "starts_on": today - dt.timedelta(days=120),
                    "ends_on": today + dt.timedelta(days=30 * months),
                    "max_concurrent_cases": capacity,
                    "fee_per_review": fee,
                    "currency": currency,
                    "status": "active",
                },
            )
            pool.append(reviewer)
        # One reviewer declared a conflict with the demo requester.
        reviewer_services.conflict_declare(
            reviewer_id=pool[1].pk,
            actor=admin,
            requester_email="alice@example.org",
            reason="Worked with Alice on a joint evaluation in 2024.",
        )
        return pool

    def _cut_contract_short(self, pool: list[Reviewer]) -> None:
        """HR cut one busy reviewer's contract short: it now ends in 20 days, cases still open."""
        holder = (
            RetainerContract.objects.filter(assignments__status__in=["invited", "accepted", "reported"])
            .exclude(reviewer__email="rita@example.org")
            .order_by("number")
            .first()
        )
        if holder is not None:
            holder.ends_on = timezone.localdate() + dt.timedelta(days=20)
            holder._history_user = None
            holder.save()

    @transaction.atomic
    def _cases(self, people: dict[str, Any], pool: list[Reviewer]) -> None:
        rng = random.Random(2026)
        requesters = [people["alice"]] + [people[f"staff{i:02d}"] for i in range(1, 13)]
        n = 0
        for target, count in SPREAD:
            for _ in range(count):
                requester = requesters[n % len(requesters)]
                office, region, _country, _subdivision = OFFICES[n % len(OFFICES)]
                # Each requester files for a different cycle, so the demo has no duplicates.
                cycle = 2026 - (n // len(requesters))
                late = target == "not_receivable"
                case = services.case_create(
                    requester=requester,
                    data={
                        "appraisal_cycle": cycle,
                        "original_rating": rng.choice(["partially_meets", "does_not_meet"]),
                        "appraisal_signed_on": timezone.localdate()
                        - dt.timedelta(days=rng.randint(20, 40) if late else rng.randint(1, 12)),
                        "first_reporting_officer_email": "sam@example.org",
                        "second_reporting_officer_email": f"director{n % 4}@example.org",
                        "office": office,
                        "region": region,
                        "contract_type": rng.choice(["fixed_term", "continuing", "permanent", "ica"]),
                        "appointment_months": 24,
                        "language": ["en", "fr", "es"][n % 3],
                        "statement": STATEMENTS[n % len(STATEMENTS)],
                    },
                )
                self._drive(case, target, people, prefer=people["rita"] if n % 3 == 0 else None)
                n += 1

    def _best_reviewer(self, case: RebuttalCase, prefer: Any) -> Any:
        """The top suggestion, or the preferred demo reviewer when eligible."""
        eligible, _ineligible = reviewer_suggestions(case=case)
        for verdict in eligible:
            if prefer is not None and verdict.reviewer.user_id == prefer.pk:
                return verdict.reviewer
        return eligible[0].reviewer

    def _drive(self, case: RebuttalCase, target: str, people: dict[str, Any], prefer: Any = None) -> None:
        hr = people["hana"]
        reviewer_user = None
        steps = {
            "submitted": ("submit", case.requester, {}),
            "screening": ("start_screening", hr, {}),
            "awaiting_assignment": (
                "accept_receivable",
                hr,
                {"override_justification": "Reviewed with the requester's office."},
            ),
            "reviewer_invited": ("invite_reviewer", hr, None),
            "under_review": ("reviewer_accept", None, {"no_conflict_declaration": True}),
            "recommendation_submitted": (
                "submit_recommendation",
                None,
                {
                    "findings": "The rating rests on one undocumented incident.",
                    "recommendation": "revise",
                    "recommended_rating": "successfully_meets",
                    "reasons": "The documented results meet the workplan.",
                },
            ),
            "awaiting_endorsement": ("forward_for_endorsement", hr, {}),
            "awaiting_decision": ("endorse", people["ethan"], {"comment": "Endorsed."}),
            "decided": (
                "decide",
                people["dora"],
                {
                    "final_rating": "successfully_meets",
                    "follows_recommendation": True,
                    "reasons": "The review's findings are convincing.",
                },
            ),
            "closed": ("issue_outcome", None, {}),
        }
        path = MAIN_PATH[1 : MAIN_PATH.index(target) + 1] if target in MAIN_PATH else []
        if target == "not_receivable":
            path = ["submitted", "screening"]
        elif target == "withdrawn":
            path = ["submitted", "screening", "awaiting_assignment"]
        for state in path:
            name, actor, data = steps[state]
            if name == "invite_reviewer":
                reviewer = self._best_reviewer(case, prefer)
                reviewer_user, data = reviewer.user, {"reviewer": reviewer.pk}
            elif actor is None and name in ("reviewer_accept", "submit_recommendation"):
                actor = reviewer_user
            if name == "issue_outcome":
                letters.outcome_issue(case.pk)
                continue
            case = case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)
        if target == "not_receivable":
            case_act(
                case_id=case.pk,
                name="reject_not_receivable",
                actor=hr,
                version=case.version,
                data={"reason": "Filed after the filing window closed."},
            )
        elif target == "withdrawn":
            case_act(
                case_id=case.pk,
                name="withdraw",
                actor=case.requester,
                version=case.version,
                data={"reason": "Resolved with my supervisor."},
            )

    def _issue_letters(self, request_ids: list[int]) -> None:
        """Issue the demo's letters, except the outcome letters of decided cases (shown as in production)."""
        pending = LetterRequest.objects.filter(pk__in=request_ids, status=RequestStatus.PENDING).exclude(
            kind=LetterKind.OUTCOME, case__status=Status.DECIDED
        )
        for request_id in pending.values_list("pk", flat=True):
            letters.letter_issue(request_id)

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (demo only; the passwords are public):")
        for username, password, _group, full_name, label in DEMO_PEOPLE:
            self.stdout.write(f"  {label:<32} {username:<6} / {password}   ({full_name})")
        self.stdout.write("")
