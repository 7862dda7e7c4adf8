"""Every main page of every role, at desktop and phone widths: a screenshot of each under
test-artifacts/screens/ (for people to look at), axe-core's accessibility checks (no
serious or critical violation), and the requester's path with JavaScript switched off
and by keyboard."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from rebuttal import consultation, documents
from rebuttal.models import RebuttalCase, SupervisorInvitation
from tests.browser.conftest import (
    ARTIFACTS,
    AXE_FINDINGS,
    AXE_PAGES,
    DESKTOP,
    LAYOUT_FINDINGS,
    PHONE,
    axe_violations,
    set_password,
    sign_in,
)
from tests.factories import UserFactory, advance, make_case, reviewer_profile
from tests.upload_corpus import pypdf_document

SCREENS = ARTIFACTS / "screens"
BLOCKING = {"serious", "critical"}


def build_cases(requester: Any, hr: Any, reviewer: Any, endorser: Any, decision_maker: Any) -> dict[str, Any]:
    """One case in each state a main page shows, filed by several requesters."""
    reviewer_profile(reviewer, name="Rita Reyes")
    people = dict(hr=hr, reviewer=reviewer, endorser=endorser, decision_maker=decision_maker)
    others = [UserFactory(username=f"staff{n}", first_name="Sam", last_name=f"Staff {n}") for n in range(4)]

    def case_in(state: str, owner: Any, **fields: Any) -> RebuttalCase:
        return advance(make_case(owner, **fields), to=state, requester=owner, **people)

    reviewing = case_in("under_review", requester)
    documents.document_add(
        case_id=reviewing.pk,
        actor=requester,
        kind="appraisal",
        name="appraisal-2026.pdf",
        fileobj=io.BytesIO(pypdf_document(2)),
    )
    consultation.supervisors_invite(case_id=reviewing.pk, actor=reviewer)
    make_case(requester, appraisal_cycle=2025)  # a draft beside it on "My cases"
    return {
        "reviewing": reviewing,
        "screening": case_in("screening", others[0]),
        "assigning": case_in("awaiting_assignment", others[1], office="Nairobi Office", region="Africa"),
        "endorsing": case_in("awaiting_endorsement", others[2]),
        "deciding": case_in("awaiting_decision", others[3]),
    }


def overflow(page: Page) -> dict[str, Any]:
    """How far the page is wider than the screen (sideways scrolling), and each table wider than
    its scroller (.table-wrap lets a table scroll in its box, so that is ugly but usable)."""
    return page.evaluate(
        """() => {
            const root = document.documentElement;
            const tables = [...document.querySelectorAll(".table-wrap")]
                .map(wrap => wrap.scrollWidth - wrap.clientWidth)
                .filter(extra => extra > 1);
            return {page: root.scrollWidth - root.clientWidth, tables};
        }"""
    )


class Visit:
    """Screenshots and axe runs of one person's pages; problems are collected, asserted at the end."""

    def __init__(self, browser: Browser, base_url: str, axe: tuple[Path | None, str]) -> None:
        self.browser = browser
        self.base_url = base_url
        self.axe_path, _ = axe
        self.contexts: list[BrowserContext] = []
        self.blocking: list[str] = []
        self.overflowing: list[str] = []
        self.shots: list[Path] = []

    def _page(self, user: Any, **options: Any) -> Page:
        context = self.browser.new_context(base_url=self.base_url, viewport=DESKTOP, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        sign_in(page, self.base_url, user)
        return page

    def pages_of(self, role: str, user: Any, paths: dict[str, str]) -> None:
        set_password(user)
        shown = self._page(user)
        # axe's script is injected inline, which the pages' Content-Security-Policy forbids.
        checked = self._page(user, bypass_csp=True) if self.axe_path else None
        for name, path in paths.items():
            for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                label = f"{role}-{name}-{width}"
                shown.set_viewport_size(viewport)
                response = shown.goto(path)
                assert response is not None, label
                assert response.status == 200, (label, response.status)
                expect(shown.get_by_role("heading", level=1)).to_be_visible()
                shot = SCREENS / f"{label}.png"
                shot.unlink(missing_ok=True)
                shown.screenshot(path=str(shot), full_page=True)
                self.shots.append(shot)
                too_wide = overflow(shown)
                if too_wide["page"] > 0:
                    self.overflowing.append(f"{label}: {too_wide['page']}px wider than the screen")
                for extra in too_wide["tables"]:
                    LAYOUT_FINDINGS.append(f"{label}: a table is {extra}px wider than its box")
                if checked is not None:
                    checked.set_viewport_size(viewport)
                    checked.goto(path)
                    self._axe(checked, label)

    def _axe(self, page: Page, label: str) -> None:
        AXE_PAGES.append(label)
        for violation in axe_violations(page, self.axe_path):
            AXE_FINDINGS.append((label, violation["id"], violation["impact"] or "-", violation["count"]))
            if violation["impact"] in BLOCKING:
                self.blocking.append(
                    f"{label}: {violation['id']} ({violation['impact']}) {violation['help']} "
                    f"at {violation['targets']}"
                )

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def test_axe_core_runs_in_the_browser(browser, axe_script):
    """axe-core is fetched from npm (without it only the accessibility checks are skipped), and it
    finds a planted violation here, so the page checks below would see real ones."""
    path, why = axe_script
    if path is None:
        pytest.skip(f"axe-core unavailable, accessibility checks skipped: {why}")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>t</title><main><h1>t</h1><img src="x.png"></main></html>')
        found = {violation["id"]: violation["impact"] for violation in axe_violations(page, path)}
    finally:
        context.close()
    assert found.get("image-alt") == "critical", found


def test_main_pages_of_every_role_render_and_pass_axe(
    browser, live_server, axe_script, offices, requester, hr, reviewer, endorser, decision_maker
):
    SCREENS.mkdir(parents=True, exist_ok=True)
    cases = build_cases(requester, hr, reviewer, endorser, decision_maker)
    invitation = SupervisorInvitation.objects.select_related("officer").get(
        case=cases["reviewing"], role="first"
    )

    def case(key: str) -> str:
        return f"/cases/{cases[key].pk}/"

    visit = Visit(browser, live_server.url, axe_script)
    try:
        visit.pages_of(
            "requester",
            requester,
            {"my-cases": "/cases/", "file-form": "/cases/new/", "case": case("reviewing")},
        )
        visit.pages_of(
            "hr",
            hr,
            {
                "queue": "/queue/",
                "case-screening": case("screening"),
                "case-assignment": case("assigning"),
                "case-report": case("endorsing"),
                "pool": "/pool/",
                "contracts": "/contracts/",
                "fees": "/fees/",
            },
        )
        visit.pages_of("reviewer", reviewer, {"assignments": "/assignments/", "case": case("reviewing")})
        visit.pages_of("supervisor", invitation.officer, {"invitation": f"/invitations/{invitation.pk}/"})
        visit.pages_of("endorser", endorser, {"inbox": "/inbox/", "case": case("endorsing")})
        visit.pages_of("decision-maker", decision_maker, {"inbox": "/inbox/", "case": case("deciding")})
    finally:
        visit.close()

    assert len(visit.shots) == 34
    assert all(shot.read_bytes().startswith(b"\x89PNG") for shot in visit.shots)
    assert not visit.blocking, "axe found serious or critical violations:\n" + "\n".join(visit.blocking)
    assert not visit.overflowing, "pages scroll sideways:\n" + "\n".join(visit.overflowing)


FOCUS_STYLE = """(element) => {
    const style = getComputedStyle(element);
    return [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(" | ");
}"""


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        "() => ({id: document.activeElement.id, text: document.activeElement.textContent.trim(),"
        " cls: document.activeElement.className})"
    )


def test_the_file_form_by_keyboard_skip_link_first_and_visible_focus(open_as, offices, requester):
    alice = open_as(requester)
    alice.goto("/cases/new/")
    skip = alice.get_by_role("link", name="Skip to main content")
    first_field = alice.get_by_label("Appraisal cycle (year)")
    submit = alice.get_by_role("button", name="Save as draft")
    unfocused = {"skip": skip.evaluate(FOCUS_STYLE), "field": first_field.evaluate(FOCUS_STYLE)}

    # The first Tab lands on the skip link, which then shows on screen.
    alice.keyboard.press("Tab")
    assert focused(alice)["text"] == "Skip to main content"
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["width"] > 1, box
    assert box["height"] > 1, box
    assert skip.evaluate(FOCUS_STYLE) != unfocused["skip"]

    # Following it, the first field is a few Tabs away (past the breadcrumb).
    alice.keyboard.press("Enter")
    assert alice.evaluate("() => document.activeElement.id") == "main"
    for _press in range(3):
        alice.keyboard.press("Tab")
        if focused(alice)["id"] == first_field.get_attribute("id"):
            break
    else:
        raise AssertionError(f"the first field is not within 3 Tabs of the skip link: {focused(alice)}")
    assert first_field.evaluate(FOCUS_STYLE) != unfocused["field"]

    # Without the skip link, Tab still gets there through the header in a handful of presses.
    alice.reload()
    presses = 0
    while focused(alice)["id"] != first_field.get_attribute("id"):
        presses += 1
        assert presses <= 12, f"the first field is not reached within 12 Tabs from the top: {focused(alice)}"
        alice.keyboard.press("Tab")

    # Buttons and links show focus too.
    before = submit.evaluate(FOCUS_STYLE)
    submit.focus()
    alice.keyboard.press("Shift+Tab")
    alice.keyboard.press("Tab")
    assert focused(alice)["text"] == "Save as draft"
    assert submit.evaluate(FOCUS_STYLE) != before
