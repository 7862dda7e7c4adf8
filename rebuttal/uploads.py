"""Inspection of uploaded appraisals and evidence: only PDF, DOCX, PNG and JPEG are kept.

The type is decided from the bytes (magic numbers and structure), never from the file name or the
browser's MIME type, both of which the uploader controls; the name must merely agree with the
contents. Files that can carry active content or hide a second file (scripts and launch actions in
PDFs, macros and embedded objects in Word documents, data after the end of an image) are refused.
The views also serve attachments with ``X-Content-Type-Options: nosniff`` and as downloads, so a
browser never second-guesses the type recorded here. Pure functions: no models, no database.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

ACCEPTED = "PDF, Word (.docx), PNG or JPEG"
MESSAGES = {
    "empty": "The file is empty. Please check it and upload it again.",
    "type_not_allowed": f"This type of file is not accepted. Please upload a {ACCEPTED} file.",
    "archive": f"Compressed archives (such as .zip) are not accepted. Please upload each {ACCEPTED} file.",
    "encrypted": "Password-protected files are not accepted. Please remove the password and upload it again.",
    "active_content": "The file contains scripts, macros, automatic actions or attached files, which are "
    "not accepted. Please save it again as a plain PDF or Word document and upload that.",
    "polyglot": "The file contains extra data after the end of the image, which can hide another file. "
    "Please save the image again and upload the new copy.",
    "damaged": "The file appears to be damaged and cannot be opened. Please check it and upload it again.",
}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# kind: (canonical content type, canonical extension, what to call it in a message)
KINDS = {
    "pdf": ("application/pdf", ".pdf", "a PDF"),
    "docx": (DOCX_TYPE, ".docx", "a Word document"),
    "png": ("image/png", ".png", "a PNG image"),
    "jpeg": ("image/jpeg", ".jpg", "a JPEG image"),
}
KIND_BY_EXTENSION = {".pdf": "pdf", ".docx": "docx", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}

MAX_NAME_LENGTH = 200
# An inner dot-segment that is itself a known extension: a "double extension" ("scan.pdf.exe").
DOUBLE_EXTENSION = re.compile(
    r"\.\s*(exe|js|html?|php|bat|cmd|sh|scr|vbs|jar|msi|com|ps1|svg|hta|lnk|dll|wsf|xml"
    r"|pdf|docx?|docm|png|jpe?g|gif|zip|rar|7z|gz|tar)\s*\.",
    re.IGNORECASE,
)
# Control, format (bidi overrides, zero-width), surrogate, line and paragraph separator characters
# could hide the real extension or break the Content-Disposition header.
BAD_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

MAX_PIXELS = 50_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_EXPANDED = 200 * 1024 * 1024
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
NESTED_ARCHIVES = (".zip", ".rar", ".7z", ".gz", ".jar")
# PDF names that run code, act by themselves or send data, and names that carry files or forms.
PDF_ACTION_NAMES = {"JavaScript", "JS", "OpenAction", "AA", "Launch", "SubmitForm", "ImportData"}
ACTIVE_PDF_NAMES = frozenset(PDF_ACTION_NAMES | {"EmbeddedFile", "EmbeddedFiles", "XFA", "RichMedia"})
PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
PDF_STREAM_BODY = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
# In JPEG entropy-coded data, FF 00 is an escaped FF and FF D0-D7 are restart markers.
JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Empty or spanned zip, gzip, rar, 7z, bzip2, xz, zstd, cab (a zip with entries is looked at as DOCX).
ARCHIVE_MAGIC = (b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")
ARCHIVE_MAGIC += (b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"MSCF")


class UploadRefused(ValueError):
    """The file is refused; str(exc) is the message shown to the user, .code a short machine code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES[code])
        self.code = code


@dataclass(frozen=True)
class Inspected:
    kind: str  # "pdf" | "docx" | "png" | "jpeg"
    content_type: str
    extension: str
    display_name: str
    size: int
    sha256: str


def check_filename(name: str) -> str:
    """Return the name unchanged if it is a plain name with a single, accepted extension."""
    if not name or not name.strip():
        raise UploadRefused("bad_name", "The file has no name. Please name it and upload it again.")
    problem = _name_problem(name)
    if problem:
        raise UploadRefused("bad_name", f"The file name is not acceptable: {problem}.")
    if "." not in name or name[name.rindex(".") :].lower() not in KIND_BY_EXTENSION:
        raise UploadRefused("type_not_allowed")
    return name


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    if "/" in name or "\\" in name or ".." in name:
        return "it must not contain slashes, backslashes or '..'"
    if any(unicodedata.category(char) in BAD_NAME_CATEGORIES for char in name):
        return "it contains invisible or control characters"
    if name.startswith(".") or name.endswith((".", " ")):
        return "it must not start with a dot or end with a dot or a space"
    stem, _, last = name.rpartition(".")
    # "report.pdf.pdf" is a common accident, not a disguise: the repeated ending is allowed.
    if stem.lower().endswith("." + last.lower()):
        name = stem
    if DOUBLE_EXTENSION.search(name):
        return "it has more than one file-type ending (such as .pdf.exe); keep only the last one"
    return None


def inspect_upload(*, name: str, fileobj: BinaryIO, max_bytes: int) -> Inspected:
    """Check an upload's name, size and contents; return what it is, or raise UploadRefused."""
    check_filename(name)
    try:
        fileobj.seek(0)  # whoever looked at the file before (a form, a sniffer) may have moved it
        data = _read_at_most(fileobj, max_bytes + 1)
    finally:
        fileobj.seek(0)
    if not data:
        raise UploadRefused("empty")
    if len(data) > max_bytes:
        raise UploadRefused("too_large", f"The file is larger than the {_megabytes(max_bytes)} limit.")
    kind = _detect_kind(data, max_bytes)
    _check_kind_matches_name(kind, name)
    if kind == "pdf":
        _check_pdf(data)
    elif kind in ("png", "jpeg"):
        _check_image(data, kind)
    content_type, extension, _ = KINDS[kind]
    digest = hashlib.sha256(data).hexdigest()
    return Inspected(kind, content_type, extension, display_name=name, size=len(data), sha256=digest)


def _read_at_most(fileobj: BinaryIO, limit: int) -> bytes:
    """Read up to `limit` bytes; read() may return short chunks, so loop until EOF or the limit."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0 and (chunk := fileobj.read(min(remaining, 1_048_576))):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{max(round(size / 1_048_576, 1), 0.1):g} MB"


def _detect_kind(data: bytes, max_bytes: int) -> str:
    """The kind from the leading bytes; a ZIP is a Word document only if its structure says so."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        _check_docx(data, max_bytes)
        return "docx"
    if data.startswith(ARCHIVE_MAGIC) or data[257:262] == b"ustar":
        raise UploadRefused("archive")
    # An encrypted .docx is an OLE compound file holding an "EncryptionInfo" stream.
    if data.startswith(OLE_SIGNATURE) and "EncryptionInfo".encode("utf-16-le") in data:
        raise UploadRefused("encrypted")
    raise UploadRefused("type_not_allowed")


def _check_kind_matches_name(kind: str, name: str) -> None:
    ending = name[name.rindex(".") :]
    if KIND_BY_EXTENSION[ending.lower()] != kind:
        _, extension, label = KINDS[kind]
        raise UploadRefused(
            "type_mismatch",
            f"The file's contents are {label} but its name ends in {ending}. "
            f"Please rename it to end in {extension}, or upload the intended file.",
        )


def _check_pdf(data: bytes) -> None:
    # A ZIP is read from its end-of-central-directory record at the end of the file, so an
    # appended archive is found there; searching the whole file for "PK" would match by
    # chance inside compressed streams of genuine PDFs.
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise UploadRefused("polyglot", "The PDF also contains a hidden archive, which is not accepted.")
    # pypdf raises many exception types on hostile input; all of them mean "cannot be read".
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        active = set() if encrypted else _pdf_parsed_active_names(reader)
    except Exception as exc:
        raise UploadRefused("damaged") from exc
    if encrypted:
        raise UploadRefused("encrypted")
    if pages < 1:
        raise UploadRefused("damaged")
    if active or _pdf_raw_active_names(data):
        raise UploadRefused("active_content")


def _pdf_raw_active_names(data: bytes) -> set[str]:
    """Active names in the raw bytes outside stream bodies, with #xx escapes decoded (/J#61vaScript)."""
    # Stream bodies are skipped: compressed data would match by chance; the parsed walk covers them.
    text = PDF_STREAM_BODY.sub(b" ", data)
    unescape = re.compile(rb"#([0-9A-Fa-f]{2})")
    names = {
        unescape.sub(lambda m: bytes.fromhex(m[1].decode()), raw).decode("latin-1")
        for raw in PDF_NAME.findall(text)
    }
    return names & ACTIVE_PDF_NAMES


def _pdf_parsed_active_names(reader: PdfReader) -> set[str]:
    """Active names among the keys and name values of every indirect object, object streams included."""
    refs = [IndirectObject(num, gen, reader) for gen, entries in reader.xref.items() for num in entries]
    refs += [IndirectObject(num, 0, reader) for num in reader.xref_objStm]
    found: set[str] = set()
    for item in [reader.trailer, *refs]:
        # References inside an object are not followed: every indirect object is in the list anyway.
        stack = [item.get_object()]
        while stack:
            value = stack.pop()
            if isinstance(value, DictionaryObject):  # streams included
                found.update(str(key).lstrip("/") for key in value)
                stack.extend(value.values())
            elif isinstance(value, ArrayObject):
                stack.extend(value)
            elif isinstance(value, NameObject):
                found.add(str(value).lstrip("/"))
    return found & ACTIVE_PDF_NAMES


def _check_image(data: bytes, kind: str) -> None:
    try:
        with Image.open(io.BytesIO(data), formats=["PNG" if kind == "png" else "JPEG"]) as image:
            pixels = image.width * image.height
            if pixels <= MAX_PIXELS:
                image.verify()
    except Image.DecompressionBombError:
        pixels = MAX_PIXELS + 1
    except Exception as exc:  # Pillow raises many types on damaged input
        raise UploadRefused("damaged") from exc
    if pixels > MAX_PIXELS:
        raise UploadRefused("too_large", f"The image has more than {MAX_PIXELS // 1_000_000} million pixels.")
    end = _png_end(data) if kind == "png" else _jpeg_end(data)
    if end is None:
        raise UploadRefused("damaged")
    if end < len(data):
        raise UploadRefused("polyglot")


def _png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, walking the chunks from the signature."""
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        chunk_type = data[offset + 4 : offset + 8]
        offset += 12 + length
        if chunk_type == b"IEND":
            return offset if offset <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI of the main image (an EOI inside a skipped segment does not count)."""
    offset = 2
    while offset + 2 <= len(data):
        marker = data[offset + 1]
        if data[offset] != 0xFF:
            return None
        if marker == 0xD9:
            return offset + 2
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:  # fill byte, markers without length
            offset += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if length < 2:
            return None
        offset += 2 + length
        if marker == 0xDA:  # entropy-coded data follows, up to the next marker
            following = JPEG_MARKER.search(data, offset)
            offset = following.start() if following else len(data)
    return None


def _check_docx(data: bytes, max_bytes: int) -> None:
    """A bounded look at the ZIP directory and [Content_Types].xml; no other part is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception as exc:  # BadZipFile, but also struct and value errors on crafted directories
        raise UploadRefused("damaged") from exc
    limit = min(20 * max_bytes, MAX_ZIP_EXPANDED)
    if len(entries) > MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > limit:
        raise UploadRefused("too_large", f"The document expands to over {_megabytes(limit)} when opened.")
    for entry in entries:
        _check_docx_entry(entry)
    if "[Content_Types].xml" not in archive.namelist():
        raise UploadRefused("archive")
    content_types = _read_content_types(archive)
    if any("macroenabled" in value.lower() for value in content_types):
        raise UploadRefused("active_content")
    if WORD_MAIN not in content_types:
        raise UploadRefused("type_not_allowed")
    if "word/document.xml" not in archive.namelist():
        raise UploadRefused("damaged")


def _check_docx_entry(entry: zipfile.ZipInfo) -> None:
    name = entry.filename.lower().replace("\\", "/")
    if name.startswith("/") or re.match(r"[a-z]:", name) or ".." in name.split("/"):
        raise UploadRefused("damaged")
    if entry.flag_bits & 0x1:
        raise UploadRefused("encrypted")
    if name.endswith("vbaproject.bin") or name.startswith(("word/embeddings/", "word/activex/")):
        raise UploadRefused("active_content")
    if name.endswith(NESTED_ARCHIVES):
        raise UploadRefused("archive")


def _read_content_types(archive: zipfile.ZipFile) -> list[str]:
    """The ContentType values of [Content_Types].xml, read with a size cap and no DTD allowed."""
    try:
        with archive.open("[Content_Types].xml") as handle:
            raw = handle.read(1_048_577)
        if len(raw) > 1_048_576 or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
            raise ValueError("oversized, or declares a DTD")
        root = ET.fromstring(raw)
    except Exception as exc:
        raise UploadRefused("damaged") from exc
    return [element.get("ContentType", "") for element in root.iter()]
