"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The tests skip, saying why, only when no Chromium is installed (``playwright install``
cannot download browsers here, so the system's browser is launched). Each person signs
in through the real login form in a browser context of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

PASSWORD = "browser-tests-only-2026"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_path() -> str | None:
    """The installed Chromium, or None."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running in this thread, which makes
    Django refuse database access from test code ("cannot call this from an async
    context"); the check is switched off only while the browser is up.
    """
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the browser tests need it")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts opened by a test, closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def set_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(page: Page, base_url: str, user: Any) -> None:
    """Sign in through the login form, as a person does."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def open_as(browser: Browser, contexts: list[BrowserContext], live_server: Any) -> Callable[..., Page]:
    """``open_as(user, **context_options)``: a page in a new context, signed in as ``user``."""

    def open_page(user: Any, **options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        set_password(user)
        sign_in(page, live_server.url, user)
        return page

    return open_page


# --- steps shared by the tests ----------------------------------------------------------------


def act(page: Page, label: str, fields: Callable[[Page], None] | None = None) -> None:
    """Open the action ``label`` on the case page (a <details> block), fill it, press its button."""
    button = page.get_by_role("button", name=label, exact=True)
    if not button.is_visible():
        page.locator("summary").filter(has_text=label).first.click()
    if fields is not None:
        fields(page)
    button.click()
    expect(page.get_by_text(f"Done: {label}.")).to_be_visible()


def status_badge(page: Page) -> Any:
    """The case's status badge in the page header."""
    return page.locator(".page-header .badge").first


def fill_intake(page: Page, *, signed_on: str, statement: str) -> None:
    """Fill every field of the "File a rebuttal" form (offices and regions are lists)."""
    page.get_by_label("Appraisal cycle (year)").fill("2026")
    page.get_by_label("Overall rating you received").select_option("partially_meets")
    page.get_by_label("Date your appraisal was signed off").fill(signed_on)
    page.get_by_label("First reporting officer's e-mail").fill("fro@example.org")
    page.get_by_label("Second reporting officer's e-mail").fill("sro@example.org")
    page.get_by_label("Your office").select_option("Geneva Office")
    page.get_by_label("Region").select_option("Europe")
    page.get_by_label("Type of contract").select_option("fixed_term")
    page.get_by_label("Length of your appointment, in months").fill("24")
    page.get_by_label("Language for letters and e-mails").select_option("en")
    page.get_by_label("Your statement").fill(statement)


@pytest.fixture
def offices(db: Any) -> list[Any]:
    """The offices the filing form lists (a flushed database has none)."""
    from rebuttal.models import Office

    return [
        Office.objects.get_or_create(name=name, defaults={"region": region, "country": country})[0]
        for name, region, country in (("Geneva Office", "Europe", "CH"), ("Nairobi Office", "Africa", "KE"))
    ]


# --- axe-core ---------------------------------------------------------------------------------

AXE_VERSION = "4.10.3"
NODE_PREFIX = Path(__file__).resolve().parents[2] / "var" / "node"
AXE_SCRIPT = NODE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
# Rows of (page, rule, impact, nodes) found by the axe runs, printed at the end of the session.
AXE_FINDINGS: list[tuple[str, str, str, int]] = []
# Tables wider than their box on some screen (they scroll in it): printed, not failed.
LAYOUT_FINDINGS: list[str] = []
AXE_PAGES: list[str] = []


@pytest.fixture(scope="session")
def axe_script() -> tuple[Path | None, str]:
    """axe-core's script, installed from npm into the (gitignored) var/node on first use.

    Returns (path, "") or (None, why it is unavailable).
    """
    if AXE_SCRIPT.exists():
        return AXE_SCRIPT, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed, so axe-core cannot be fetched"
    command = [
        npm,
        "install",
        "--prefix",
        str(NODE_PREFIX),
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        f"axe-core@{AXE_VERSION}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"npm install axe-core@{AXE_VERSION} failed: {exc}"
    if done.returncode != 0 or not AXE_SCRIPT.exists():
        return None, f"npm install axe-core@{AXE_VERSION} failed: {done.stderr.strip()[-300:]}"
    return AXE_SCRIPT, ""


def axe_violations(page: Page, script: Path) -> list[dict[str, Any]]:
    """axe-core's violations on the page (WCAG 2.x A/AA and best practices), compactly."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script))
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5), count: v.nodes.length,
            }));
        }"""
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Every axe violation found (any impact) and every table too wide, so minor ones get fixed too."""
    if AXE_PAGES and not AXE_FINDINGS:
        terminalreporter.section("axe-core")
        terminalreporter.write_line(f"no violation on {len(AXE_PAGES)} pages checked")
    if AXE_FINDINGS:
        terminalreporter.section(f"axe-core violations on {len(AXE_PAGES)} pages (page, rule, impact, nodes)")
        width = max(len(row[0]) for row in AXE_FINDINGS)
        for name, rule, impact, count in AXE_FINDINGS:
            terminalreporter.write_line(f"{name:<{width}}  {rule:<28} {impact:<9} {count}")
    if LAYOUT_FINDINGS:
        terminalreporter.section("tables wider than their box")
        for line in LAYOUT_FINDINGS:
            terminalreporter.write_line(line)
