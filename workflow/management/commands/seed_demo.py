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
from django.utils import timezone

from rebuttal import services
from rebuttal.models import RebuttalCase
from rebuttal.permissions import ROLE_GROUPS
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

OFFICES = [
    ("Geneva Office", "Europe"),
    ("Nairobi Hub", "Africa"),
    ("New York Headquarters", "Americas"),
    ("Bangkok Office", "Asia and the Pacific"),
    ("Copenhagen Office", "Europe"),
    ("Panama Hub", "Americas"),
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
            self._cases(people)
            self.stdout.write(f"Created {RebuttalCase.objects.count()} demo cases.")
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
    def _cases(self, people: dict[str, Any]) -> None:
        rng = random.Random(2026)
        requesters = [people["alice"]] + [people[f"staff{i:02d}"] for i in range(1, 13)]
        n = 0
        for target, count in SPREAD:
            for _ in range(count):
                requester = requesters[n % len(requesters)]
                office, region = OFFICES[n % len(OFFICES)]
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
                self._drive(case, target, people)
                n += 1

    def _drive(self, case: RebuttalCase, target: str, people: dict[str, Any]) -> None:
        hr, reviewer = people["hana"], people["rita"]
        steps = {
            "submitted": ("submit", case.requester, {}),
            "screening": ("start_screening", hr, {}),
            "awaiting_assignment": (
                "accept_receivable",
                hr,
                {"override_justification": "Reviewed with the requester's office."},
            ),
            "reviewer_invited": ("invite_reviewer", hr, {"reviewer_user": reviewer}),
            "under_review": ("reviewer_accept", reviewer, {"no_conflict_declaration": True}),
            "recommendation_submitted": (
                "submit_recommendation",
                reviewer,
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

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (demo only; the passwords are public):")
        for username, password, _group, full_name, label in DEMO_PEOPLE:
            self.stdout.write(f"  {label:<32} {username:<6} / {password}   ({full_name})")
        self.stdout.write("")
