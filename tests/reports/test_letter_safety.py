"""Rendering a letter fetches nothing but the project's own assets, whatever a person typed.

Hostile text goes into the statement (quoted in the acknowledgement), the
requester's name and the reasons of a withdrawal; the letter must print it
literally, and neither the recording fetcher nor a canary HTTP server on
loopback may see a single request for it.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from rebuttal.models import RebuttalCase
from reports import rendering
from reports.models import LetterKind, LetterRequest
from reports.services import letter_render
from tests.factories import UserFactory, advance, make_case
from tests.reports.test_letters import pdf_text

LETTER_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "letters"


class Canary(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        Canary.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canary() -> Iterator[str]:
    """An HTTP server on loopback that counts every request it receives."""
    Canary.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def vectors(base: str) -> list[str]:
    """Markup and CSS that would make WeasyPrint fetch something if it were parsed."""
    return [
        f'<img src="{base}/img.png">',
        f"<img src={base}/bare.png>",
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<link rel="stylesheet" href="{base}/style.css">',
        f'<style>@import url("{base}/import.css");</style>',
        f'<style>body {{ background: url("{base}/bg.png") }}</style>',
        f'<style>@font-face {{ font-family: x; src: url("{base}/font.ttf") }}</style>',
        f'<div style="background-image: url({base}/inline.png)">x</div>',
        f'<svg><image href="{base}/svg.png" width="10" height="10"/></svg>',
        f'<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="{base}/xlink.png"/></svg>',
        f'<base href="{base}/base/"><img src="relative.png">',
        f'<iframe src="{base}/frame.html"></iframe>',
        f'<object data="{base}/object.pdf"></object>',
        f'<embed src="{base}/embed.svg">',
        f'<video poster="{base}/poster.png"></video>',
        f'<input type="image" src="{base}/input.png">',
        f'<a href="{base}/link">click</a>',
        f'<meta http-equiv="refresh" content="0; url={base}/refresh">',
        '<img src="file:///etc/passwd">',
        '<img src="file:///proc/self/environ">',
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
        f'<script src="{base}/script.js"></script>',
        "<script>document.write('x')</script>",
        f"</div></body></html><img src='{base}/breakout.png'>",
        f"{{% include '/etc/passwd' %}} {{{{ settings.SECRET_KEY }}}} <img src={base}/tpl.png>",
        f"url({base}/plain-css.png) @import '{base}/plain-import.css';",
    ]


def squash(text: str) -> str:
    """Whitespace removed: pdftotext breaks long lines where it likes."""
    return re.sub(r"\s+", "", text)


def test_injection_vectors_in_case_text_are_printed_and_fetch_nothing(requester, hr, canary):
    attempts = vectors(canary)
    assert len(attempts) >= 20
    name = UserFactory(first_name=f'<img src="{canary}/name.png">', last_name="Doe")
    case = make_case(name, statement="\n".join(attempts))
    case = advance(case, to="submitted", requester=name)
    request = LetterRequest.objects.get(case=case, kind=LetterKind.ACKNOWLEDGEMENT)
    fetcher = rendering.AssetFetcher()

    rendered = letter_render(request, fetcher=fetcher)
    text = squash(pdf_text(rendered.pdf))

    assert Canary.hits == []
    assert fetcher.refused == []
    # Only the project's own fonts and emblem were asked for.
    assert fetcher.requested
    assert all(url.startswith(rendering.ASSETS_DIR.as_uri() + "/") for url in fetcher.requested)
    for attempt in [*attempts, f'<img src="{canary}/name.png">']:
        assert squash(attempt) in text, attempt
    assert settings.SECRET_KEY not in pdf_text(rendered.pdf)


def test_hostile_reasons_in_withdrawal_and_decision_letters_fetch_nothing(
    requester, hr, reviewer, endorser, decision_maker, canary
):
    from workflow.services import case_act

    hostile = f'<img src="{canary}/reason.png"><link rel=attachment href=file:///etc/passwd>'
    withdrawn = advance(make_case(requester), to="submitted", requester=requester)
    case_act(
        case_id=withdrawn.pk,
        name="withdraw",
        actor=requester,
        version=withdrawn.version,
        data={"reason": hostile},
    )
    other = UserFactory()
    decided = advance(
        make_case(other),
        to="awaiting_decision",
        requester=other,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
    )
    case_act(
        case_id=decided.pk,
        name="decide",
        actor=decision_maker,
        version=decided.version,
        data={"final_rating": "partially_meets", "follows_recommendation": False, "reasons": hostile},
    )
    for case, kind in ((withdrawn, LetterKind.WITHDRAWN), (decided, LetterKind.OUTCOME)):
        fetcher = rendering.AssetFetcher()
        rendered = letter_render(LetterRequest.objects.get(case=case, kind=kind), fetcher=fetcher)
        assert fetcher.refused == []
        assert squash(hostile) in squash(pdf_text(rendered.pdf))
    assert Canary.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file://remote-host/etc/passwd",
        rendering.ASSETS_DIR.as_uri() + "/../../../../etc/passwd",
        rendering.ASSETS_DIR.as_uri() + "/%2e%2e/%2e%2e/settings.py",
        rendering.ASSETS_DIR.as_uri() + "/fonts",  # a folder, not a file
        rendering.ASSETS_DIR.as_uri() + "/no-such-file.png",
        rendering.ASSETS_DIR.as_uri() + "-sibling/x.png",
    ],
)
def test_the_fetcher_refuses_anything_but_the_projects_asset_files(url):
    fetcher = rendering.AssetFetcher()
    with pytest.raises(ValueError, match="own assets"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_refuses_a_symlink_out_of_the_asset_folder(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    assets.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, assets / "innocent.png")
    monkeypatch.setattr(rendering, "ASSETS_DIR", assets.resolve())
    with pytest.raises(ValueError, match="own assets"):
        rendering.AssetFetcher().fetch((assets / "innocent.png").as_uri())


def test_the_fetcher_serves_the_projects_fonts():
    response = rendering.AssetFetcher().fetch(
        (rendering.ASSETS_DIR / "fonts" / "NotoSans-Regular.ttf").as_uri()
    )
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType font


def test_the_fetcher_never_follows_redirects():
    fetcher = rendering.AssetFetcher()
    assert not [h for h in fetcher.handlers if type(h).__name__ == "HTTPRedirectHandler"]


FORBIDDEN_IN_LETTERS = [
    r"\|\s*safe\b",
    r"\bmark_safe\b",
    r"autoescape\s+off",
    r"\|\s*safeseq\b",
    r"\{%\s*autoescape",
]


def test_no_letter_template_turns_off_autoescaping():
    """Case text reaches a letter only through autoescaped variables: this fails the build otherwise."""
    templates = sorted(LETTER_TEMPLATES.glob("*.html"))
    assert len(templates) >= 5
    offences = [
        f"{path.name}: {pattern}"
        for path in templates
        for pattern in FORBIDDEN_IN_LETTERS
        if re.search(pattern, path.read_text())
    ]
    assert offences == []


def test_the_letter_code_marks_nothing_safe():
    sources = [
        Path(settings.BASE_DIR) / "reports" / name for name in ("letters.py", "rendering.py", "services.py")
    ]
    assert not [
        path.name for path in sources if re.search(r"mark_safe|SafeString|format_html", path.read_text())
    ]


def test_an_over_long_statement_is_refused_at_intake(as_requester_api, policy):
    from tests.factories import api_intake

    too_long = "x" * (policy.statement_max_chars + 1)
    response = as_requester_api.post("/api/v1/cases/", api_intake(statement=too_long), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["statement"]
    assert "20,000" in response.json()["errors"]["statement"][0]
    assert not RebuttalCase.objects.exists()


@pytest.fixture
def as_requester_api(api_as, requester):
    return api_as(requester)
