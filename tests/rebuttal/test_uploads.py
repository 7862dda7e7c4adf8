"""Upload inspection: benign documents pass, hostile files are refused with the right code and a
plain message, and the inspector never fails in any other way."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebuttal.uploads import (
    Inspected,
    UploadRefused,
    _pdf_parsed_active_names,
    _pdf_raw_active_names,
    check_filename,
    inspect_upload,
)
from tests.upload_corpus import benign_files, hand_pdf, hostile_files, pdf_with_script_in_object_stream

MAX_BYTES = 1_048_576
BENIGN = benign_files()
HOSTILE = hostile_files(MAX_BYTES)
EXPECTED_KIND = {".pdf": "pdf", ".docx": "docx", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
# What a message must never show a user: reprs, tracebacks, exception names, bytes, markup.
NOISE = re.compile(r"Traceback|Exception|Error\b|File \"|b'|\\x|0x|<[a-zA-Z/]|\{|\}|None")


def _readable_id(name: str) -> str:
    shown = name.encode("unicode_escape").decode("ascii") or "(empty name)"
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _inspect(name: str, content: bytes) -> Inspected:
    return inspect_upload(name=name, fileobj=io.BytesIO(content), max_bytes=MAX_BYTES)


class CountingReader(io.RawIOBase):
    """An endless stream of "%PDF-" then zeros that counts the bytes handed out."""

    def __init__(self) -> None:
        self.handed_out = 0
        self.rewound = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the inspector must never ask for the whole stream"
        chunk = (b"%PDF-" + bytes(size))[:size] if self.handed_out == 0 else bytes(size)
        self.handed_out += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        self.rewound = (offset, whence) == (0, 0)
        return 0


def test_corpus_has_at_least_35_distinct_hostile_cases():
    assert len(HOSTILE) >= 35
    assert len({(name, content) for name, content, _ in HOSTILE}) == len(HOSTILE)
    assert len({name for name, _ in BENIGN}) == len(BENIGN) >= 4


@pytest.mark.parametrize(("name", "content"), BENIGN, ids=[_readable_id(name) for name, _ in BENIGN])
def test_benign_file_is_accepted(name, content):
    result = _inspect(name, content)

    kind = EXPECTED_KIND[name[name.rindex(".") :].lower()]
    assert result.kind == kind
    assert (
        result.content_type
        == {
            "pdf": "application/pdf",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "png": "image/png",
            "jpeg": "image/jpeg",
        }[kind]
    )
    assert result.extension == {"pdf": ".pdf", "docx": ".docx", "png": ".png", "jpeg": ".jpg"}[kind]
    assert result.display_name == name
    assert result.size == len(content)
    assert result.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    HOSTILE,
    ids=[f"{code}:{_readable_id(name)}" for name, _, code in HOSTILE],
)
def test_hostile_file_is_refused_with_a_plain_message(name, content, code):
    with pytest.raises(UploadRefused) as refused:
        _inspect(name, content)

    assert refused.value.code == code
    message = str(refused.value)
    assert message[0].isupper()
    assert message.endswith(".")
    assert not NOISE.search(message), message


def test_a_refusal_is_a_value_error_carrying_its_code():
    with pytest.raises(ValueError, match="empty") as refused:
        _inspect("empty.pdf", b"")
    assert refused.value.code == "empty"


def test_too_large_message_names_the_limit_in_megabytes():
    with pytest.raises(UploadRefused, match=r"20 MB") as refused:
        inspect_upload(
            name="big.pdf", fileobj=io.BytesIO(bytes(20 * MAX_BYTES + 1)), max_bytes=20 * MAX_BYTES
        )
    assert refused.value.code == "too_large"


def test_mismatch_message_names_the_detected_type_and_the_name_ending():
    png = dict(BENIGN)["capture d'écran.png"]
    with pytest.raises(UploadRefused, match=r"contents are a PNG image but its name ends in \.pdf"):
        _inspect("scan.pdf", png)


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "refused"])
def test_inspect_upload_reads_from_the_start_and_rewinds_the_file(accepted):
    content = BENIGN[0][1] if accepted else b"<html></html>"
    fileobj = io.BytesIO(content)
    fileobj.seek(7)

    try:
        result = inspect_upload(name="report.pdf", fileobj=fileobj, max_bytes=MAX_BYTES)
    except UploadRefused:
        assert not accepted
    else:
        assert accepted
        assert result.size == len(content)

    assert fileobj.tell() == 0
    assert fileobj.read() == content


def test_an_oversize_stream_is_not_read_past_the_limit():
    stream = CountingReader()

    with pytest.raises(UploadRefused) as refused:
        inspect_upload(name="huge.pdf", fileobj=stream, max_bytes=MAX_BYTES)

    assert refused.value.code == "too_large"
    assert stream.handed_out == MAX_BYTES + 1
    assert stream.rewound


def test_short_reads_are_collected_up_to_the_whole_file():
    class Trickle(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            return super().read(min(size, 100))

    content = BENIGN[0][1]
    result = inspect_upload(name="report.pdf", fileobj=Trickle(content), max_bytes=MAX_BYTES)
    assert result.size == len(content)


def test_the_raw_scan_decodes_hex_escaped_pdf_names():
    pdf = hand_pdf(b"/OpenAct#69on 6 0 R", more=(b"<< /S /J#61vaScript /J#53 (x) >>",))

    assert _pdf_raw_active_names(pdf) == {"OpenAction", "JavaScript", "JS"}
    assert _pdf_raw_active_names(hand_pdf()) == set()


def test_a_script_inside_a_compressed_object_stream_is_found_by_the_parser():
    from pypdf import PdfReader

    pdf = pdf_with_script_in_object_stream()

    assert b"JavaScript" not in pdf  # invisible to any byte scan ...
    assert _pdf_raw_active_names(pdf) == set()
    assert _pdf_parsed_active_names(PdfReader(io.BytesIO(pdf))) == {"JavaScript", "JS"}  # ... but not here


@pytest.mark.parametrize(
    "name",
    [
        "Évaluation 2024.pdf",
        "Appraisal.2024.final.pdf",
        "J. Smith – rebuttal.docx",
        "IMG_0001.JPEG",
        "a" * 196 + ".png",
    ],
)
def test_check_filename_returns_an_acceptable_name_unchanged(name):
    assert check_filename(name) is name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("evidence.exe", "type_not_allowed"),
        ("evidence", "type_not_allowed"),
        ("evidence.pdf .exe", "bad_name"),
        ("evidence.PDF.png", "bad_name"),
        ("evidence\u2028.pdf", "bad_name"),
        ("evidence\u2066.pdf", "bad_name"),
        ("   ", "bad_name"),
    ],
)
def test_check_filename_refuses(name, code):
    with pytest.raises(UploadRefused) as refused:
        check_filename(name)
    assert refused.value.code == code


MAGIC_PREFIXES = [
    b"",
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    BENIGN[0][1][:200],
    BENIGN[4][1][:60],
]


@settings(max_examples=300, deadline=None)
@given(
    name=st.one_of(st.text(max_size=60), st.sampled_from(["x.pdf", "x.png", "x.jpg", "x.docx", "x.jpeg"])),
    prefix=st.sampled_from(MAGIC_PREFIXES),
    body=st.binary(max_size=2_000),
    max_bytes=st.integers(min_value=0, max_value=4_000),
)
def test_inspection_returns_a_result_or_a_refusal_and_nothing_else(name, prefix, body, max_bytes):
    content = prefix + body
    try:
        outcome: Inspected | UploadRefused = inspect_upload(
            name=name, fileobj=io.BytesIO(content), max_bytes=max_bytes
        )
    except UploadRefused as refused:
        outcome = refused

    if isinstance(outcome, UploadRefused):
        assert outcome.code
        assert str(outcome)
    else:
        assert 0 < outcome.size <= max_bytes
        assert outcome.sha256 == hashlib.sha256(content).hexdigest()


@settings(max_examples=200, deadline=None)
@given(
    original=st.sampled_from(BENIGN),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)), max_size=4
    ),
    cut=st.floats(0.05, 1),
)
def test_damaged_copies_of_real_files_are_accepted_or_refused_and_nothing_else(original, edits, cut):
    name, content = original
    damaged = bytearray(content[: max(1, int(len(content) * cut))])
    for where, replacement in edits:
        at = int(where * len(damaged))
        damaged[at : at + len(replacement)] = replacement
    try:
        outcome: Inspected | UploadRefused = _inspect(name, bytes(damaged))
    except UploadRefused as refused:
        outcome = refused

    assert isinstance(outcome, Inspected | UploadRefused)
    assert outcome.code if isinstance(outcome, UploadRefused) else outcome.size == len(damaged)
