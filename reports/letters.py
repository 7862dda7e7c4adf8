"""What each letter says: its context, its HTML in the case's language, its template version.

Letters are rendered by name from ``templates/letters/<kind>.html`` (which extends
``letters/base.html``) with a context of plain values: every piece of case text
reaches the page through an autoescaped ``{{ variable }}``, never as markup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, pgettext

from rebuttal.models import ContractType, EventKind, Policy, RebuttalCase, Recommendation, Status
from reports.models import LetterKind
from reports.rendering import STYLESHEET

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "letters"
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# Contract types whose holders are staff members, with recourse to management evaluation.
STAFF_CONTRACTS = frozenset(
    {ContractType.PERMANENT, ContractType.CONTINUING, ContractType.FIXED_TERM, ContractType.TEMPORARY}
)

# The default rating scale's labels (policy data, in English) as catalog entries, so letters
# in French and Spanish name the ratings in their language.
DEFAULT_RATING_LABELS = (
    gettext_noop("Exceeds expectations"),
    gettext_noop("Successfully meets expectations"),
    gettext_noop("Partially meets expectations"),
    gettext_noop("Does not meet expectations"),
)


@lru_cache(maxsize=32)
def template_version(kind: str, language: str) -> str:
    """``<kind>@<12 hex>``: a digest of everything that shapes the letter's text and look.

    The letter's template, the base layout, the stylesheet and the language's
    message catalog: change any of them and newly issued letters carry a new
    version, while the archive keeps the version each letter was issued with.
    """
    digest = hashlib.sha256()
    sources = [TEMPLATES_DIR / "base.html", TEMPLATES_DIR / f"{kind}.html", STYLESHEET]
    catalog = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    if catalog.exists():
        sources.append(catalog)
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{kind}@{digest.hexdigest()[:12]}"


def _person(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _rating(policy: Policy, key: str) -> str:
    # Labels are policy data in English; the default scale's labels have translations.
    return gettext(policy.rating_label(key)) if key else ""


def _last_actor(case: RebuttalCase, transition: str) -> Any:
    event = (
        case.events.filter(kind=EventKind.TRANSITION, transition=transition)
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    return event.actor if event else None


def _failed_rules(case: RebuttalCase, policy: Policy) -> list[str]:
    """Each failed receivability rule, in words the requester understands."""
    sentences = []
    for result in case.receivability_result or []:
        if result.get("passed"):
            continue
        sentences.append(_rule_sentence(str(result.get("rule", "")), case, policy))
    return sentences


def _rule_sentence(rule: str, case: RebuttalCase, policy: Policy) -> str:
    filed = timezone.localtime(case.submitted_at).date() if case.submitted_at else None
    if rule == "rebuttable_rating":
        return gettext(
            "Only these overall ratings can be rebutted: %(allowed)s. The rating of your appraisal is "
            "“%(rating)s”."
        ) % {
            "allowed": ", ".join(f"“{_rating(policy, key)}”" for key in policy.rebuttable_ratings),
            "rating": _rating(policy, case.original_rating),
        }
    if rule == "filing_window":
        days = (filed - case.appraisal_signed_on).days if filed else 0
        return gettext(
            "A rebuttal must be filed within %(window)s calendar days of the appraisal's sign-off. Your "
            "appraisal was signed off on %(signed)s and the request was filed %(days)s days later."
        ) % {
            "window": policy.filing_window_days,
            "signed": _date(case.appraisal_signed_on),
            "days": days,
        }
    if rule == "eligible_contract":
        if (
            case.contract_type == ContractType.FIXED_TERM
            and case.contract_type in policy.eligible_contract_types
        ):
            return gettext(
                "A fixed-term appointment must be of at least %(minimum)s months to allow a rebuttal; "
                "the appointment given in the request is shorter."
            ) % {"minimum": policy.fixed_term_min_months}
        return gettext("Holders of this type of contract (%(kind)s) cannot file a rebuttal.") % {
            "kind": gettext(ContractType(case.contract_type).label)
        }
    if rule == "one_per_appraisal":
        return gettext(
            "Only one rebuttal can be filed for each appraisal, and one was already filed for the "
            "%(cycle)s appraisal."
        ) % {"cycle": case.appraisal_cycle}
    if rule == "distinct_reporting_officers":
        return gettext("The first and second reporting officers named in the request are the same person.")
    if rule == "statement_present":
        return gettext("The request does not contain a statement of the reasons for the rebuttal.")
    return gettext("The request does not meet a condition for a rebuttal.")


def _date(value: dt.date | dt.datetime | None) -> str:
    """A date written out in the active language (e.g. 3 mars 2026)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    from django.utils.formats import date_format

    # "25 November 2026" in English letters (Django's English default is "Nov. 25, 2026");
    # French and Spanish use their own long formats.
    return date_format(value, "j F Y" if translation.get_language() == "en" else "DATE_FORMAT")


def letter_title(kind: str, reference: str) -> str:
    titles = {
        LetterKind.ACKNOWLEDGEMENT: gettext("Acknowledgement of your rebuttal request %(reference)s"),
        LetterKind.NOT_RECEIVABLE: gettext("Your rebuttal request %(reference)s cannot be received"),
        LetterKind.WITHDRAWN: gettext("Withdrawal of your rebuttal request %(reference)s"),
        LetterKind.OUTCOME: gettext("Outcome of your rebuttal %(reference)s"),
    }
    return titles[LetterKind(kind)] % {"reference": reference}


def letter_context(case: RebuttalCase, kind: str, *, issued_at: dt.datetime) -> dict[str, Any]:
    """Plain values for the letter's template (call with the letter's language active)."""
    policy = case.policy or Policy.objects.order_by("-version").first()
    assert policy is not None
    context: dict[str, Any] = {
        "kind": kind,
        "language": translation.get_language(),
        "title": letter_title(kind, case.reference),
        "organisation": settings.ORGANISATION_NAME,
        "reference": case.reference,
        "issued_on": _date(issued_at),
        "requester_name": _person(case.requester),
        "requester_email": case.requester.email,
        "office": case.office,
        "cycle": case.appraisal_cycle,
        "original_rating": _rating(policy, case.original_rating),
        "submitted_on": _date(case.submitted_at),
        "signed_on": _date(case.appraisal_signed_on),
    }
    if kind == LetterKind.ACKNOWLEDGEMENT:
        target = (policy.stage_targets or {}).get("receivability", {})
        context.update(
            statement=case.statement,
            receivability_days=target.get("days"),
            receivability_business=target.get("unit") == "business",
        )
    elif kind == LetterKind.NOT_RECEIVABLE:
        context.update(
            failed_rules=_failed_rules(case, policy),
            hr_reason=case.not_receivable_reason,
            decided_on=_date(case.closed_at),
        )
    elif kind == LetterKind.WITHDRAWN:
        context.update(
            withdrawn_on=_date(case.closed_at),
            withdrawn_from=gettext(Status(case.withdrawn_from).label) if case.withdrawn_from else "",
            withdrawal_reason=case.withdrawal_reason,
        )
    elif kind == LetterKind.OUTCOME:
        revised = bool(case.final_rating) and case.final_rating != case.original_rating
        is_staff = case.contract_type in STAFF_CONTRACTS
        context.update(
            revised=revised,
            final_rating=_rating(policy, case.final_rating),
            decision_reasons=case.decision_reasons,
            decided_on=_date(case.decided_at),
            decision_maker=_person(_last_actor(case, "decide")),
            followed=case.follows_recommendation,
            recommendation=(
                pgettext("recommendation", "maintain the rating")
                if case.recommendation == Recommendation.MAINTAIN
                else pgettext("recommendation", "revise the rating")
            ),
            is_staff=is_staff,
            management_evaluation_days=policy.management_evaluation_days,
        )
    return context


def letter_html(case: RebuttalCase, kind: str, *, language: str, issued_at: dt.datetime) -> tuple[str, str]:
    """The letter's title and HTML, in ``language``."""
    with translation.override(language):
        context = letter_context(case, kind, issued_at=issued_at)
        return context["title"], render_to_string(f"letters/{kind}.html", context)
