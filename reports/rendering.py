"""Turning a letter's HTML into a PDF/A-3u with WeasyPrint, safely and quickly.

Safety: WeasyPrint fetches every URL a document names (images, stylesheets,
fonts). ``AssetFetcher`` serves only files inside ``ASSETS_DIR`` (the project's
fonts and images) and refuses everything else: http(s), data:, ftp, any
``file:`` outside the folder (``..`` and symlinks are resolved first), and
redirects (there are none to follow: nothing is fetched from a network). Case
text reaches the HTML only through autoescaped template variables, so a
statement that contains markup is printed, never parsed as markup.

Speed: one ``FontConfiguration`` and the parsed letter stylesheet are built once
per process and reused by every render (building them is most of the fixed
cost of a small document).
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = (Path(__file__).resolve().parent / "letter_assets").resolve()
BASE_URL = ASSETS_DIR.as_uri() + "/"
STYLESHEET = ASSETS_DIR / "letter.css"
# Archived letters: PDF/A-3 with Unicode text (searchable, copyable) for long-term keeping.
PDF_VARIANT = "pdf/a-3u"


class AssetFetcher(URLFetcher):
    """A URL fetcher that serves the project's letter assets and nothing else.

    Every URL asked for is recorded in ``requested`` and every refusal in
    ``refused``, so a test can show that rendering hostile text fetched nothing.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        self.requested.append(url)
        path = self._asset_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"Letters may only use the project's own assets; refused {url[:200]!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    @staticmethod
    def _asset_path(url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_file() or not path.is_relative_to(ASSETS_DIR):
            return None
        return path


@dataclass
class Renderer:
    """What every render of this process shares: fonts and the parsed stylesheet."""

    font_config: FontConfiguration = field(default_factory=FontConfiguration)
    stylesheet: CSS | None = None

    def __post_init__(self) -> None:
        self.stylesheet = CSS(
            filename=str(STYLESHEET),
            base_url=BASE_URL,
            url_fetcher=AssetFetcher(),
            font_config=self.font_config,
        )

    def pdf(self, html: str, *, fetcher: AssetFetcher | None = None) -> bytes:
        """The PDF/A-3u of ``html`` (title and language come from its ``<title>`` and ``lang``)."""
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher or AssetFetcher())
        return document.write_pdf(
            stylesheets=[self.stylesheet],
            font_config=self.font_config,
            pdf_variant=PDF_VARIANT,
        )


_local = threading.local()


def renderer() -> Renderer:
    """This thread's renderer, built on first use (FontConfiguration is not shared across threads)."""
    current = getattr(_local, "renderer", None)
    if current is None:
        current = _local.renderer = Renderer()
    return current


def reset_renderer() -> None:
    """Forget this thread's renderer (a forked worker process builds its own)."""
    _local.renderer = None


def render_pdf(html: str, *, fetcher: AssetFetcher | None = None) -> bytes:
    return renderer().pdf(html, fetcher=fetcher)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
