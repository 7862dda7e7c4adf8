"""Each letter kind, in each language, says the right things to the right person.

Text is extracted from the PDF with pdftotext (poppler) when installed, else pypdf;
page 1 of each letter is also rendered to PNG under ``test-artifacts/letters/`` to
be looked at.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from rebuttal.models import RebuttalCase
from reports.models import Letter, LetterKind, LetterRequest
from tests.factories import UserFactory, advance, make_case
from workflow.letters import letter_issue
from workflow.services import case_act

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "letters"
LANGUAGES = ("en", "fr", "es")


def pdf_text(pdf: bytes) -> str:
    """The letter's text with runs of whitespace collapsed (line breaks fall anywhere)."""
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
    else:
        text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def keep_png(pdf: bytes, name: str) -> None:
    """Page 1 as a PNG among the test artefacts (when poppler's pdftoppm is installed)."""
    if not shutil.which("pdftoppm"):
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", "-", str(ARTIFACTS / name)],
        input=pdf,
        check=True,
    )


def issued(case: RebuttalCase, kind: str) -> Letter:
    request = LetterRequest.objects.get(case=case, kind=kind, supersedes__isnull=True)
    letter = letter_issue(request.pk)
    assert letter is not None
    return letter


def person(first: str, last: str) -> Any:
    return UserFactory(first_name=first, last_name=last)


@pytest.fixture
def people(hr, reviewer, endorser, decision_maker) -> dict[str, Any]:
    decision_maker.first_name, decision_maker.last_name = "Dora", "Deckard"
    decision_maker.save()
    return {"hr": hr, "reviewer": reviewer, "endorser": endorser, "decision_maker": decision_maker}


# Words each language must use, and must not be in English.
EXPECT = {
    "en": {
        "acknowledgement": ["We received your request", "What happens next", "Page 1 of"],
        "not_receivable": ["cannot be received", "calendar days of the appraisal's sign-off"],
        "withdrawn": ["We confirm that you withdrew"],
        "revised": ["The rating is revised.", "management evaluation within 60 calendar days"],
        "maintained": ["The rating is maintained.", "dispute settlement clause"],
        "ratings": ["Partially meets expectations", "Successfully meets expectations"],
    },
    "fr": {
        "acknowledgement": ["Page 1 sur", "Suite de la procédure"],
        "not_receivable": ["Elle est irrecevable pour les motifs suivants"],
        "withdrawn": ["Nous vous confirmons que vous avez retiré"],
        "revised": ["La note est révisée.", "Prochaines étapes", "contrôle hiérarchique", "60"],
        "maintained": ["La note est maintenue."],
        "ratings": ["Répond partiellement aux attentes", "Répond pleinement aux attentes"],
    },
    "es": {
        "acknowledgement": ["Página 1 de", "Próximas etapas del procedimiento"],
        "not_receivable": ["La solicitud no es admisible por los motivos siguientes"],
        "withdrawn": ["Le confirmamos que el"],
        "revised": ["Se revisa la calificación.", "Próximos pasos", "evaluación interna", "60"],
        "maintained": ["Se mantiene la calificación."],
        "ratings": ["Cumple parcialmente las expectativas", "Cumple plenamente las expectativas"],
    },
}
ENGLISH_ONLY = ["What happens next", "Yours sincerely", "Next steps"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_names_the_reference_requester_rating_and_statement(people, language):
    requester = person("Zoë", "Ó Briain")
    case = make_case(requester, language=language, statement="My objectives were met; see the e-mails.")
    case = advance(case, to="submitted", requester=requester)
    letter = issued(case, LetterKind.ACKNOWLEDGEMENT)
    text = pdf_text(bytes(letter.pdf))
    keep_png(bytes(letter.pdf), f"acknowledgement-{language}")

    assert case.reference in text
    assert "Zoë Ó Briain" in text
    assert "My objectives were met; see the e-mails." in text
    assert EXPECT[language]["ratings"][0] in text
    for phrase in EXPECT[language]["acknowledgement"]:
        assert phrase in text
    if language != "en":
        assert not [phrase for phrase in ENGLISH_ONLY if phrase in text]


@pytest.mark.parametrize("language", LANGUAGES)
def test_not_receivable_letter_names_each_failed_rule_in_plain_words(people, language):
    requester = person("Kwame", "Mensah")
    case = make_case(
        requester,
        language=language,
        appraisal_signed_on=timezone.localdate() - dt.timedelta(days=40),
        first_reporting_officer_email="same@example.org",
        second_reporting_officer_email="same@example.org",
    )
    case = advance(case, to="screening", requester=requester, hr=people["hr"])
    case_act(
        case_id=case.pk,
        name="reject_not_receivable",
        actor=people["hr"],
        version=case.version,
        data={"reason": "Filed 40 days after sign-off."},
    )
    case.refresh_from_db()
    letter = issued(case, LetterKind.NOT_RECEIVABLE)
    text = pdf_text(bytes(letter.pdf))
    keep_png(bytes(letter.pdf), f"not_receivable-{language}")

    assert case.reference in text
    assert "Kwame Mensah" in text
    assert "Filed 40 days after sign-off." in text
    # Both failed rules are named: the filing window (14 days, filed 40 days later) and the officers.
    assert "14" in text
    assert "40" in text
    failed = [r["rule"] for r in case.receivability_result if not r["passed"]]
    assert set(failed) >= {"filing_window", "distinct_reporting_officers"}
    for phrase in EXPECT[language]["not_receivable"]:
        assert phrase in text
    if language == "en":
        assert "The first and second reporting officers named in the request are the same person." in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_withdrawal_letter_confirms_the_withdrawal_and_quotes_the_reason(people, language):
    requester = person("Ana", "Souza")
    case = advance(make_case(requester, language=language), to="withdrawn", requester=requester)
    letter = issued(case, LetterKind.WITHDRAWN)
    text = pdf_text(bytes(letter.pdf))
    keep_png(bytes(letter.pdf), f"withdrawn-{language}")

    assert case.reference in text
    assert "Ana Souza" in text
    assert "Resolved informally." in text
    for phrase in EXPECT[language]["withdrawn"]:
        assert phrase in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_outcome_letter_for_staff_gives_decision_final_rating_and_management_evaluation(people, language):
    requester = person("Lin", "Chen")
    case = make_case(requester, language=language, contract_type="permanent")
    case = advance(case, to="closed", requester=requester, **people)
    letter = Letter.objects.get(case=case, kind=LetterKind.OUTCOME)
    text = pdf_text(bytes(letter.pdf))
    keep_png(bytes(letter.pdf), f"outcome-staff-{language}")

    assert case.status == "closed"
    assert case.reference in text
    assert "Lin Chen" in text
    assert "Dora Deckard" in text
    assert "The review is convincing." in text  # the decision's reasons
    for phrase in EXPECT[language]["ratings"] + EXPECT[language]["revised"]:
        assert phrase in text
    assert "dispute settlement clause" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_outcome_letter_for_an_individual_contractor_points_to_the_contract(people, language):
    requester = person("Sam", "Okafor")
    case = make_case(requester, language=language, contract_type="ica")
    case = advance(case, to="awaiting_decision", requester=requester, **people)
    case_act(
        case_id=case.pk,
        name="decide",
        actor=people["decision_maker"],
        version=case.version,
        data={
            "final_rating": "partially_meets",
            "follows_recommendation": False,
            "reasons": "The shortfalls are documented in three reviews.",
        },
    )
    letter = issued(case, LetterKind.OUTCOME)
    text = pdf_text(bytes(letter.pdf))
    keep_png(bytes(letter.pdf), f"outcome-contractor-{language}")

    assert "The shortfalls are documented in three reviews." in text
    assert EXPECT[language]["ratings"][0] in text
    assert "management evaluation" not in text
    assert "contrôle hiérarchique" not in text
    for phrase in EXPECT[language]["maintained"]:
        assert phrase in text


def test_every_letter_is_pdf_a_3u_with_title_language_and_embedded_fonts(people):
    requester = person("Marie", "Curie")
    case = advance(make_case(requester, language="fr"), to="submitted", requester=requester)
    letter = issued(case, LetterKind.ACKNOWLEDGEMENT)
    reader = PdfReader(io.BytesIO(bytes(letter.pdf)))

    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="U"' in xmp
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert case.reference in reader.metadata.title
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    # Only the project's own font (family "Letter Sans"), subset and embedded: no system font.
    assert fonts
    assert all("Letter-Sans" in font["/BaseFont"] for font in fonts)
    assert all("/FontFile2" in font["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts)
    assert letter.hash_matches()
    assert letter.template_version.startswith("acknowledgement@")


def test_a_long_letter_numbers_its_pages_page_x_of_y(people):
    requester = person("Long", "Statement")
    statement = "\n\n".join(
        f"Paragraph {i}: " + "The objectives were met as agreed. " * 12 for i in range(40)
    )
    case = advance(make_case(requester, statement=statement), to="submitted", requester=requester)
    letter = issued(case, LetterKind.ACKNOWLEDGEMENT)
    pages = len(PdfReader(io.BytesIO(bytes(letter.pdf))).pages)
    text = pdf_text(bytes(letter.pdf))

    assert pages >= 3
    for number in range(1, pages + 1):
        assert f"Page {number} of {pages}" in text
    assert "Paragraph 39:" in text
