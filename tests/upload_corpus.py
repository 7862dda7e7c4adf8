"""Benign and hostile uploads, built in memory, for testing rebuttal.uploads (and the views using it).

`benign_files()` gives real documents and images that must be accepted; `hostile_files(max_bytes)`
gives (name, content, expected refusal code) for everything that must be refused.
"""

from __future__ import annotations

import io
import random
import tarfile
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


# --- PDF ------------------------------------------------------------------------------------


def pypdf_document(pages: int = 3) -> bytes:
    """A multi-page PDF with text, written by pypdf (compressed content streams)."""
    writer = PdfWriter()
    font = writer._add_object(  # noqa: SLF001 - pypdf has no public helper for a shared font
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 14 Tf 72 770 Td (Performance appraisal, page {number}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(content)  # noqa: SLF001
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page.compress_content_streams()
    writer.add_metadata({"/Title": "Évaluation annuelle 2024", "/Author": "HR"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_from_objects(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A classic PDF (xref table) from object bodies numbered 1..n; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def hand_pdf(catalog_extra: bytes = b"", page_extra: bytes = b"", more: tuple[bytes, ...] = ()) -> bytes:
    """A one-page hand-written PDF; extra dictionary entries and objects (numbered from 6) may be added."""
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
            _stream(b"BT /F1 12 Tf 72 770 Td (Evidence for the rebuttal) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *more,
        ]
    )


def pdf_with_script_in_object_stream() -> bytes:
    """JavaScript in objects packed into a Flate-compressed /ObjStm, indexed by a compressed xref stream.

    No active name appears in the raw bytes; only a parser that opens object streams finds it.
    """
    packed = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 7 0 R >> >>",
        6: b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
        7: b"<< /Names [(run) 6 0 R] >>",
    }
    bodies, offset = b"", 0
    offsets = []
    for body in packed.values():
        offsets.append(offset)
        bodies += body + b" "
        offset += len(body) + 1
    header = b" ".join(b"%d %d" % (number, off) for number, off in zip(packed, offsets, strict=True)) + b" "
    objstm = zlib.compress(header + bodies)
    plain = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        4: _stream(b"BT ET"),
        5: b"<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (len(header), len(objstm), objstm),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    where = {}
    for number, body in plain.items():
        where[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for number in range(1, 9):
        if number in where:
            rows.append(b"\x01" + where[number].to_bytes(4, "big") + b"\x00\x00")
        elif number in packed:
            rows.append(b"\x02" + (5).to_bytes(4, "big") + list(packed).index(number).to_bytes(2, "big"))
        else:  # object 8 is the xref stream itself
            rows.append(b"\x01" + xref_at.to_bytes(4, "big") + b"\x00\x00")
    table = zlib.compress(b"".join(rows))
    out += (
        b"8 0 obj\n<< /Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
        b"stream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % (len(table), table, xref_at)
    )
    return bytes(out)


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pypdf_document(1))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- Word, images, archives ------------------------------------------------------------------


def docx(
    main_type: str = WORD_MAIN,
    extra: dict[str, bytes] | None = None,
    document: bool = True,
    content_types: bool = True,
) -> bytes:
    """A minimal Word document as Word writes it: content types, relationships, document part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if content_types:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/word/document.xml" ContentType="{main_type}"/></Types>',
            )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument"/></Relationships>',
        )
        if document:
            archive.writestr(
                "word/document.xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                "<w:body><w:p><w:r><w:t>Je conteste mon évaluation 2024.</w:t></w:r></w:p></w:body>"
                "</w:document>",
            )
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_expanding_to(size: int) -> bytes:
    """A Word document whose one extra part really inflates to `size` bytes of zeros (a small zip bomb)."""
    buffer = io.BytesIO(docx())
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/fill.bin", "w") as part,
    ):
        for start in range(0, size, 1_048_576):
            part.write(bytes(min(1_048_576, size - start)))
    return buffer.getvalue()


def image(kind: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    picture = Image.new("RGB", size, (30, 120, 200))
    for x in range(size[0]):  # some detail, so the compressed data is not trivial
        picture.putpixel((x, x % size[1]), (255, (x * 7) % 256, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format=kind, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header (with a correct CRC) claims another size: a decompression bomb's header."""
    data = bytearray(image("PNG"))
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes(data[24:29])
    data[12:29] = ihdr
    data[29:33] = zlib.crc32(ihdr).to_bytes(4, "big")
    return bytes(data)


def plain_zip(entries: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (entries or {"evidence.txt": b"hello"}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tar_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("evidence.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


def ole_file(encrypted: bool) -> bytes:
    """The start of an OLE compound file (legacy .doc, or an encrypted .docx's container)."""
    stream_name = "EncryptionInfo" if encrypted else "WordDocument"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream_name.encode("utf-16-le") + bytes(512)


# --- The corpora -----------------------------------------------------------------------------


def benign_files() -> list[tuple[str, bytes]]:
    jpeg = image("JPEG", quality=85)
    # A comment segment holding a whole small JPEG: its EOI must not be taken for the end of the file.
    thumbnail = image("JPEG", size=(8, 8))
    jpeg_with_thumbnail = (
        jpeg[:2] + b"\xff\xfe" + (len(thumbnail) + 2).to_bytes(2, "big") + thumbnail + jpeg[2:]
    )
    return [
        ("Évaluation 2024.pdf", pypdf_document(3)),
        ("Appraisal.2024.final.pdf", hand_pdf()),
        ("Rebuttal letter - J. Smith.docx", docx()),
        ("Mémo RH (version 2).DOCX", docx(extra={"word/media/image1.png": image("PNG")})),
        ("capture d'écran.png", image("PNG")),
        ("scan page 1.JPG", jpeg),
        ("photo-évidence.jpeg", image("JPEG", progressive=True)),
        ("camera photo.jpg", jpeg_with_thumbnail),
        ("notes_2024-05-01.jpg", image("JPEG", restart_marker_blocks=1)),
    ]


def hostile_files(max_bytes: int) -> list[tuple[str, bytes, str]]:
    pdf = hand_pdf()
    png, jpeg = image("PNG"), image("JPEG")
    zipped = plain_zip()
    garbage = random.Random(7).randbytes(2_000)
    docx_limit = min(20 * max_bytes, 200 * 1024 * 1024)
    page_action = b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /%s /F (x) >> >>]"
    return [
        # size
        ("large.pdf", b"%PDF-1.7\n" + bytes(max_bytes), "too_large"),
        ("empty.pdf", b"", "empty"),
        # not an accepted type, whatever the name says
        ("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "type_not_allowed"),
        (
            "drawing.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "type_not_allowed",
        ),
        ("notes.pdf", b"Just some plain text.\n", "type_not_allowed"),
        ("animation.png", b"GIF89a" + bytes(20), "type_not_allowed"),
        (
            "invoice.pdf",
            b"MZ\x90\x00" + bytes(60) + b"This program cannot be run in DOS mode",
            "type_not_allowed",
        ),
        ("tool.png", b"\x7fELF\x02\x01\x01" + bytes(60), "type_not_allowed"),
        ("late-header.pdf", b"<html>" + pdf, "type_not_allowed"),
        ("old word.docx", ole_file(encrypted=False), "type_not_allowed"),
        (
            "sheet.docx",
            docx(main_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
            "type_not_allowed",
        ),  # fmt: skip
        ("notes.txt", b"hello", "type_not_allowed"),
        # contents and name disagree
        ("photo.pdf", png, "type_mismatch"),
        ("letter.docx", pdf, "type_mismatch"),
        ("letter.pdf", docx(), "type_mismatch"),
        ("picture.png", jpeg, "type_mismatch"),
        # PDF active content
        ("js.pdf", hand_pdf(b"/Names << /JavaScript 6 0 R >>", more=(b"<< /Names [] >>",)), "active_content"),
        (
            "js-annot.pdf",
            hand_pdf(page_extra=b"/Annots [<< /Subtype /Link /A << /JS (x) >> >>]"),
            "active_content",
        ),
        ("open.pdf", hand_pdf(b"/OpenAction << /S /URI /URI (http://example.com) >>"), "active_content"),
        ("launch.pdf", hand_pdf(page_extra=page_action % b"Launch"), "active_content"),
        (
            "attach.pdf",
            hand_pdf(b"/Names << /EmbeddedFiles 6 0 R >>", more=(_stream(b"MZ", b"/Type /EmbeddedFile "),)),
            "active_content",
        ),  # fmt: skip
        (
            "form.pdf",
            hand_pdf(b"/AcroForm << /Fields [] /XFA 6 0 R >>", more=(_stream(b"<xdp/>"),)),
            "active_content",
        ),
        (
            "hex.pdf",
            hand_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
            "active_content",
        ),
        ("page-aa.pdf", hand_pdf(page_extra=b"/AA << /O << /S /URI /URI (http://x) >> >>"), "active_content"),
        ("submit.pdf", hand_pdf(page_extra=page_action % b"SubmitForm"), "active_content"),
        ("import.pdf", hand_pdf(page_extra=page_action % b"ImportData"), "active_content"),
        (
            "media.pdf",
            hand_pdf(page_extra=b"/Annots [<< /Subtype /RichMedia /Rect [0 0 9 9] >>]"),
            "active_content",
        ),
        ("objstm.pdf", pdf_with_script_in_object_stream(), "active_content"),
        # PDF damaged or encrypted
        ("locked.pdf", encrypted_pdf(), "encrypted"),
        ("truncated.pdf", pdf[:80], "damaged"),
        ("garbage.pdf", b"%PDF-1.4\n" + garbage, "damaged"),
        (
            "no pages.pdf",
            pdf_from_objects([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
            "damaged",
        ),  # fmt: skip
        # polyglots
        ("pdf-zip.pdf", pdf + zipped, "polyglot"),
        ("pdf-zip-inside.pdf", hand_pdf(more=(_stream(zipped),)), "polyglot"),
        ("after-iend.png", png + b"<?php system($_GET['c']); ?>", "polyglot"),
        ("zip-after-iend.png", png + zipped, "polyglot"),
        ("zip-after-eoi.jpg", jpeg + zipped, "polyglot"),
        ("zip-then-eoi.jpg", jpeg + zipped + b"\xff\xd9", "polyglot"),
        # images damaged or too big
        ("cut.png", png[:-20], "damaged"),
        ("bad-crc.png", png[:40] + bytes([png[40] ^ 0xFF]) + png[41:], "damaged"),
        ("cut.jpg", jpeg[: len(jpeg) // 2], "damaged"),
        ("bomb.png", png_claiming(10_000, 6_000), "too_large"),
        # archives and Word documents that are not plain Word documents
        ("evidence.pdf", zipped, "archive"),
        ("renamed zip.docx", plain_zip({"word/document.xml": b"<x/>"}), "archive"),
        ("evidence.docx", b"\x1f\x8b\x08\x00" + bytes(20), "archive"),
        ("evidence-rar.pdf", b"Rar!\x1a\x07\x01\x00" + bytes(20), "archive"),
        ("evidence-7z.pdf", b"7z\xbc\xaf\x27\x1c" + bytes(20), "archive"),
        ("evidence-tar.pdf", tar_archive(), "archive"),
        ("evidence-bz2.png", b"BZh91AY&SY" + bytes(20), "archive"),
        ("evidence-xz.jpg", b"\xfd7zXZ\x00" + bytes(20), "archive"),
        ("nested.docx", docx(extra={"word/media/payload.zip": zipped}), "archive"),
        ("no body.docx", docx(document=False), "damaged"),
        ("broken.docx", docx()[:200], "damaged"),
        ("traversal.docx", docx(extra={"../../evil.sh": b"rm -rf /"}), "damaged"),
        ("absolute.docx", docx(extra={"/etc/cron.d/x": b"* * * * * x"}), "damaged"),
        ("macros.docx", docx(MACRO_MAIN, extra={"word/vbaProject.bin": b"\x00" * 16}), "active_content"),
        ("macro type.docx", docx(MACRO_MAIN), "active_content"),
        ("ole.docx", docx(extra={"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}), "active_content"),
        ("activex.docx", docx(extra={"word/activeX/activeX1.xml": b"<ax/>"}), "active_content"),
        ("bomb.docx", docx_expanding_to(docx_limit + 1), "too_large"),
        ("many parts.docx", docx(extra={f"word/media/{n}.xml": b"" for n in range(2_001)}), "too_large"),
        ("dtd.docx", _docx_with_doctype(), "damaged"),
        ("locked.docx", ole_file(encrypted=True), "encrypted"),
        # names (the contents are a valid PDF)
        ("", pdf, "bad_name"),
        ("../evidence.pdf", pdf, "bad_name"),
        ("..\\evidence.pdf", pdf, "bad_name"),
        ("/etc/passwd.pdf", pdf, "bad_name"),
        ("folder\\evidence.pdf", pdf, "bad_name"),
        ("invoice\u202efdp.exe", pdf, "bad_name"),
        ("report\u202egnp.pdf", pdf, "bad_name"),
        ("report\u200b.pdf", pdf, "bad_name"),
        ("evidence\x00.pdf", pdf, "bad_name"),
        ("evidence\r\nX-Header: 1.pdf", pdf, "bad_name"),
        ("scan.pdf.exe", pdf, "bad_name"),
        ("photo.php.png", png, "bad_name"),
        ("letter.html.pdf", pdf, "bad_name"),
        (".htaccess.pdf", pdf, "bad_name"),
        ("evidence.pdf.", pdf, "bad_name"),
        ("a" * 296 + ".pdf", pdf, "bad_name"),
    ]


def _docx_with_doctype() -> bytes:
    """[Content_Types].xml with an entity declaration (the start of a "billion laughs" attack)."""
    buffer = io.BytesIO(docx())
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">]><Types>'
            f'<Override PartName="/word/document.xml" ContentType="{WORD_MAIN}"/>&a;</Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


# --- Shared helpers for the document tests ----------------------------------------------------


def pdf_of_size(size: int) -> bytes:
    """A valid one-page PDF padded with an unused stream to exactly ``size`` bytes (for size limits)."""
    pad = max(size - len(hand_pdf(more=(_stream(b""),))), 0)
    for _ in range(3):  # the stream's /Length gains digits as the padding grows
        data = hand_pdf(more=(_stream(b" " * pad),))
        if len(data) == size:
            return data
        pad += size - len(data)
    raise ValueError(f"cannot pad a PDF to exactly {size} bytes")
