"""Two cases through the pages, each step done in the browser by the person whose step it is:
one from filing to the downloaded outcome letter, one withdrawn after a reviewer declined."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import act, fill_intake, status_badge
from tests.factories import UserFactory, reviewer_profile
from tests.upload_corpus import pypdf_document

STATEMENT = "My objectives were met; the rating ignores the documented results of the year."


def yesterday() -> str:
    return (timezone.localdate() - dt.timedelta(days=1)).isoformat()


def open_case_from(page: Page, reference: str) -> None:
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()


def file_request(page: Page, *, submit_from_form: bool = False) -> str:
    """The requester files from "My cases"; returns the case reference."""
    page.goto("/cases/")
    page.get_by_role("main").get_by_role("link", name="File a rebuttal").click()
    expect(page.get_by_role("heading", name="File a rebuttal", level=1)).to_be_visible()
    fill_intake(page, signed_on=yesterday(), statement=STATEMENT)
    page.get_by_role("button", name="Save and submit" if submit_from_form else "Save as draft").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Case \S+$"))
    return heading.inner_text().removeprefix("Case ")


def download_letter(page: Page, kind: str) -> bytes:
    """Click the letter's link in the case's Letters section and return the downloaded file."""
    letters = page.locator("section", has=page.get_by_role("heading", name="Letters"))
    with page.expect_download() as info:
        letters.get_by_role("link", name=kind).click()
    path = info.value.path()
    return path.read_bytes()


def pdf_text(data: bytes, tmp_path: Any) -> str:
    """The letter's text, by pdftotext when installed, else by pypdf."""
    if shutil.which("pdftotext") is None:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def test_a_case_from_filing_to_the_downloaded_outcome_letter(
    open_as, offices, requester, hr, reviewer, endorser, decision_maker, tmp_path
):
    reviewer_profile(reviewer)

    # The requester files a draft, adds their appraisal, and submits.
    alice = open_as(requester)
    reference = file_request(alice)
    expect(alice.get_by_text("Your draft is saved.")).to_be_visible()
    expect(status_badge(alice)).to_have_text("Draft")
    alice.get_by_label("What is it?").select_option("appraisal")
    alice.get_by_label("File").set_input_files(
        files=[{"name": "appraisal-2026.pdf", "mimeType": "application/pdf", "buffer": pypdf_document(2)}]
    )
    alice.get_by_role("button", name="Add the document").click()
    documents = alice.locator("section", has=alice.get_by_role("heading", name="Documents"))
    expect(documents.get_by_role("link", name="appraisal-2026.pdf")).to_be_visible()
    alice.get_by_role("button", name="Submit your request").click()
    expect(status_badge(alice)).to_have_text("Submitted")

    # HR takes it from the queue, checks receivability, and invites a suggested reviewer.
    hana = open_as(hr)
    expect(hana.get_by_role("heading", name="Case queue", level=1)).to_be_visible()
    open_case_from(hana, reference)
    act(hana, "Start the receivability check")
    expect(status_badge(hana)).to_have_text("Receivability check")
    expect(hana.get_by_role("heading", name="Receivability checklist")).to_be_visible()
    act(hana, "Accept as receivable")
    expect(status_badge(hana)).to_have_text("Awaiting reviewer assignment")
    suggestions = hana.locator("section", has=hana.get_by_role("heading", name="Suggested reviewers"))
    suggestions.get_by_role("button", name="Invite rita").click()
    expect(status_badge(hana)).to_have_text("Reviewer invited")

    # The reviewer finds it among their assignments, accepts, interviews, and reports.
    rita = open_as(reviewer)
    expect(rita.get_by_role("heading", name="My assignments", level=1)).to_be_visible()
    open_case_from(rita, reference)
    act(rita, "Accept the review", lambda p: p.get_by_label(re.compile("^I declare that I have no")).check())
    expect(status_badge(rita)).to_have_text("Under review")
    rita.locator("summary").filter(has_text="Record an interview").click()
    rita.get_by_label("Who was interviewed").fill("First reporting officer")
    rita.get_by_label("Date", exact=True).fill(timezone.localdate().isoformat())
    rita.get_by_label("Notes").fill("Confirmed the objectives were agreed in January.")
    rita.get_by_role("button", name="Record the interview").click()
    expect(rita.get_by_text("The interview is recorded.")).to_be_visible()
    expect(rita.get_by_text("Confirmed the objectives were agreed in January.")).to_be_visible()

    def report(page: Page) -> None:
        page.get_by_label("Findings").fill("The documented results contradict the rating.")
        page.get_by_label("Revise the rating", exact=True).check()
        page.get_by_label("Revise the rating to").select_option("successfully_meets")
        page.get_by_label("Reasons", exact=True).fill("All four objectives were met on the evidence.")

    act(rita, "Submit your report", report)
    expect(status_badge(rita)).to_have_text("Recommendation submitted")

    # HR checks the report and forwards it; the endorser endorses from their inbox.
    hana.reload()
    act(hana, "Forward for endorsement")
    expect(status_badge(hana)).to_have_text("Awaiting endorsement")
    ethan = open_as(endorser)
    expect(ethan.get_by_role("heading", name="My inbox", level=1)).to_be_visible()
    open_case_from(ethan, reference)
    expect(ethan.get_by_role("heading", name="The reviewer's report")).to_be_visible()
    act(ethan, "Endorse and forward for decision", lambda p: p.get_by_label("Comment").fill("Agreed."))
    expect(status_badge(ethan)).to_have_text("Awaiting decision")

    # The decision-maker decides; the outcome letter is issued and the case closes.
    dora = open_as(decision_maker)
    open_case_from(dora, reference)

    def decision(page: Page) -> None:
        page.get_by_label("Final rating").select_option("successfully_meets")
        page.get_by_label("Yes").check()
        page.get_by_label("Reasons for the decision").fill("The review is convincing.")

    act(dora, "Record the decision", decision)

    # The requester sees the case closed and downloads the outcome letter.
    alice.goto("/cases/")
    row = alice.get_by_role("row").filter(has=alice.get_by_role("link", name=reference))
    expect(row).to_contain_text("Closed")
    open_case_from(alice, reference)
    expect(status_badge(alice)).to_have_text("Closed")
    letter = download_letter(alice, "Outcome of the rebuttal")
    assert letter.startswith(b"%PDF")
    assert reference in pdf_text(letter, tmp_path)


def test_a_declined_invitation_a_second_reviewer_and_a_withdrawal(
    open_as, offices, groups, requester, hr, reviewer, tmp_path
):
    first = reviewer_profile(reviewer)
    remy = UserFactory(username="remy", email="remy@example.org")
    remy.groups.add(groups["reviewer"])
    reviewer_profile(remy)

    alice = open_as(requester)
    reference = file_request(alice, submit_from_form=True)
    expect(alice.get_by_text(f"Your request {reference} is submitted.")).to_be_visible()

    hana = open_as(hr)
    open_case_from(hana, reference)
    act(hana, "Start the receivability check")
    act(hana, "Accept as receivable")
    hana.get_by_role("button", name="Invite rita").click()
    expect(status_badge(hana)).to_have_text("Reviewer invited")

    # The first reviewer declines, giving a reason; the case leaves their view.
    rita = open_as(reviewer)
    open_case_from(rita, reference)
    case_url = rita.url
    act(rita, "Decline the review", lambda p: p.get_by_label("Reason").fill("I worked in that office."))
    expect(rita.get_by_role("heading", name="My assignments", level=1)).to_be_visible()
    past = rita.locator("section", has=rita.get_by_role("heading", name="Past"))
    expect(past).to_contain_text(reference)

    # HR invites another reviewer; the one who declined is no longer suggested.
    hana.reload()
    expect(status_badge(hana)).to_have_text("Awaiting reviewer assignment")
    suggestions = hana.locator("section", has=hana.get_by_role("heading", name="Suggested reviewers"))
    expect(suggestions.get_by_role("button", name="Invite rita")).to_have_count(0)
    suggestions.get_by_role("button", name="Invite remy").click()
    expect(status_badge(hana)).to_have_text("Reviewer invited")
    assert first.pk != remy.reviewer_profile.pk

    second = open_as(remy)
    open_case_from(second, reference)
    act(second, "Accept the review", lambda p: p.get_by_label(re.compile("^I declare")).check())
    expect(status_badge(second)).to_have_text("Under review")

    # The requester withdraws, confirming they understand; the letter confirms it.
    alice.reload()

    def confirm(page: Page) -> None:
        page.get_by_label("Why are you withdrawing? (optional)").fill("Resolved with my manager.")
        page.get_by_label(re.compile("^I understand that a withdrawn request is closed")).check()

    act(alice, "Withdraw your request", confirm)
    expect(status_badge(alice)).to_have_text("Withdrawn")
    letter = download_letter(alice, "Withdrawal confirmed")
    assert letter.startswith(b"%PDF")
    assert reference in pdf_text(letter, tmp_path)

    # The reviewer's access ended with the case.
    response = second.goto(case_url)
    assert response is not None
    assert response.status == 404
    expect(second.get_by_role("heading", name="Page not found")).to_be_visible()
    second.goto("/assignments/")
    current = second.locator("section", has=second.get_by_role("heading", name="Current"))
    expect(current.get_by_role("link", name=reference)).to_have_count(0)


def test_the_requester_files_uploads_and_submits_without_javascript(open_as, offices, requester):
    alice = open_as(requester, java_script_enabled=False)
    reference = file_request(alice)
    expect(alice.get_by_text("Your draft is saved.")).to_be_visible()

    # Without JavaScript the upload is a plain form post (no progress bar), and the message shows.
    alice.get_by_label("What is it?").select_option("evidence")
    alice.get_by_label("File").set_input_files(
        files=[{"name": "objectives.pdf", "mimeType": "application/pdf", "buffer": pypdf_document(1)}]
    )
    alice.get_by_role("button", name="Add the document").click()
    expect(alice.get_by_text("The document was added to the case.")).to_be_visible()
    expect(alice.get_by_role("link", name="objectives.pdf")).to_be_visible()

    alice.get_by_role("button", name="Submit your request").click()
    expect(alice.get_by_text("Done: Submit your request.")).to_be_visible()
    expect(status_badge(alice)).to_have_text("Submitted")
    letters = alice.locator("section", has=alice.get_by_role("heading", name="Letters"))
    expect(letters.get_by_role("link", name="Acknowledgement of receipt")).to_be_visible()
    alice.goto("/cases/")
    expect(alice.get_by_role("row").filter(has=alice.get_by_role("link", name=reference))).to_contain_text(
        "Submitted"
    )
