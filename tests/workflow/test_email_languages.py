"""E-mail notifications are written in the recipient's language (en, fr, es) from the
message catalogs under locale/, and every e-mail message has a French and a Spanish translation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core import mail
from django.utils import translation

from rebuttal.models import RebuttalCase
from tests.factories import advance, make_case
from workflow.services import case_act

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
EMAIL_TEMPLATES = "templates/emails/"

# (language, distinctive phrase of the acknowledgement's subject, of its body)
ACKNOWLEDGEMENTS = [
    ("fr", "Accusé de réception de votre demande de contestation", "Nous accusons réception"),
    ("es", "Acuse de recibo de su solicitud de impugnación", "Acusamos recibo"),
    ("en", "We received your rebuttal request", "HR will check that it can be received"),
]
ENGLISH_SUBJECT = "We received your rebuttal request"
ENGLISH_BODY = "HR will check that it can be received"


def submit(case: RebuttalCase, requester: Any, capture: Any) -> mail.EmailMessage:
    with capture(execute=True):
        case_act(case_id=case.pk, name="submit", actor=requester, version=case.version)
    case.refresh_from_db()
    return next(m for m in mail.outbox if m.to == [requester.email])


@pytest.mark.parametrize(("language", "subject_phrase", "body_phrase"), ACKNOWLEDGEMENTS)
def test_the_acknowledgement_is_written_in_the_requesters_language(
    requester, hr, language, subject_phrase, body_phrase, django_capture_on_commit_callbacks
):
    case = make_case(requester, language=language)
    message = submit(case, requester, django_capture_on_commit_callbacks)
    case.refresh_from_db()

    assert subject_phrase in message.subject
    assert body_phrase in message.body
    assert case.reference in message.subject
    assert case.reference in message.body
    assert "%(" not in message.subject + message.body
    if language != "en":
        assert ENGLISH_SUBJECT not in message.subject
        assert ENGLISH_BODY not in message.body
        assert "This message comes from the performance rebuttal service" not in message.body


def test_a_french_acknowledgement_has_a_french_html_body_too(
    requester, hr, django_capture_on_commit_callbacks
):
    case = make_case(requester, language="fr")
    message = submit(case, requester, django_capture_on_commit_callbacks)
    html = message.alternatives[0][0]

    assert "Nous accusons réception" in html or "Nous accusons r&eacute;ception" in html
    assert ENGLISH_BODY not in html
    assert case.reference in html


def test_hr_is_written_to_in_english_whatever_the_cases_language(
    requester, hr, django_capture_on_commit_callbacks
):
    case = make_case(requester, language="es")
    submit(case, requester, django_capture_on_commit_callbacks)
    to_hr = next(m for m in mail.outbox if m.to == [hr.email])

    assert to_hr.subject == f"New rebuttal request {case.reference}"


def test_the_reviewers_invitation_for_a_french_case_is_in_french(
    requester, hr, reviewer, django_capture_on_commit_callbacks
):
    case = make_case(requester, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        case = advance(case, to="reviewer_invited", requester=requester, hr=hr, reviewer=reviewer)
    invitation = next(m for m in mail.outbox if m.to == [reviewer.email])

    assert invitation.subject == f"Invitation à examiner le dossier {case.reference}"
    assert f"Vous êtes invité(e) à examiner le dossier {case.reference}" in invitation.body
    assert "You are invited to review" not in invitation.body
    assert "conflit d'intérêts" in invitation.body


def email_msgids(language: str) -> tuple[list[str], dict[str, str]]:
    """The msgids whose source is an e-mail template, and every msgid's translation."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po, locale=language)
    from_emails = [
        message.id
        for message in catalog
        if message.id and any(path.startswith(EMAIL_TEMPLATES) for path, _ in message.locations)
    ]
    return from_emails, {message.id: message.string for message in catalog if message.id}


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_email_message_has_a_translation(language):
    msgids, translations = email_msgids(language)

    # A subject and a body per kind of notice, and four sentences of the base layouts: a new
    # template missing here means the catalog needs `manage.py makemessages` again.
    kinds = list((Path(settings.BASE_DIR) / EMAIL_TEMPLATES).glob("*-subject.txt"))
    assert len(msgids) == 2 * len(kinds) + 4
    untranslated = [msgid for msgid in msgids if not translations[msgid].strip()]
    assert untranslated == []
    unchanged = [msgid for msgid in msgids if translations[msgid] == msgid]
    assert unchanged == []


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_placeholder_survives_translation(language):
    placeholder = re.compile(r"%\([a-z_]+\)s|%%")
    msgids, translations = email_msgids(language)

    changed = [
        msgid
        for msgid in msgids
        if sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(translations[msgid]))
    ]
    assert changed == []


def test_the_status_labels_are_translated():
    status_field = RebuttalCase._meta.get_field("status")
    for language, expected in (("fr", "En cours d'examen"), ("es", "En examen")):
        with translation.override(language):
            labels = {value: str(label) for value, label in status_field.choices}
        assert labels["under_review"] == expected
    with translation.override("en"):
        assert str(dict(status_field.choices)["under_review"]) == "Under review"
