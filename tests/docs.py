"""Small real documents for the ingest tests: PDFs and Word files built in code."""
from __future__ import annotations

import zipfile
from pathlib import Path

# Font sizes of what a page item is: body text, and headings of two levels.
BODY, H1, H2 = 11, 18, 14
TABLE_COLUMNS = (72, 270, 420)  # x of each table column on the page


def write_pdf(path: Path, lines: list[str], title: str = "Testrapport") -> None:
    """A minimal, valid one-page PDF with the given text lines (Helvetica, WinAnsi)."""
    write_pdf_pages(path, [lines], title)


def write_pdf_pages(path: Path, pages: list[list], title: str = "Testrapport") -> None:
    """A PDF with one page per list. An item is a line of body text (str), a heading
    (``("#", text)`` or ``("##", text)``) or a table row (a list of cell texts, each in
    its column)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font = _add(objects, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for items in pages:
        ops, y = [], 760
        for item in items:
            if isinstance(item, list):
                cells = zip(TABLE_COLUMNS, item)
                ops += [f"BT /F1 {BODY} Tf 1 0 0 1 {x} {y} Tm ({_escape(cell)}) Tj ET" for x, cell in cells]
                y -= BODY * 1.5
                continue
            size, text = (H1 if item[0] == "#" else H2, item[1]) if isinstance(item, tuple) else (BODY, item)
            y -= size * 0.6 if size != BODY else 0
            ops.append(f"BT /F1 {size} Tf 1 0 0 1 72 {y:.0f} Tm ({_escape(text)}) Tj ET")
            y -= size * 1.5
        stream = "\n".join(ops).encode("cp1252")
        contents = _add(objects, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(_add(objects, (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>").encode()))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    info = _add(objects, b"<< /Title (" + _escape(title).encode("cp1252") + b") >>")
    _write_objects(path, objects, info)


def write_scanned_pdf(path: Path, pages: int = 2) -> None:
    """A PDF whose pages are only a picture (as a scanner makes them): no text layer."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    pixels = bytes(range(256)) * 64  # a 128 x 128 grey picture
    image = _add(objects, b"<< /Type /XObject /Subtype /Image /Width 128 /Height 128 /ColorSpace /DeviceGray "
                          b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream")
    kids = []
    for _ in range(pages):
        stream = b"q 540 0 0 720 36 36 cm /Im1 Do Q"
        contents = _add(objects, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(_add(objects, (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R "
            f"/Resources << /XObject << /Im1 {image} 0 R >> >> >>").encode()))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    _write_objects(path, objects, None)


def write_encrypted_pdf(path: Path, lines: list[str], user_password: str, owner_password: str = "eier") -> None:
    """A PDF encrypted with pypdf's writer (RC4, which needs no extra package); an empty
    user password opens it without asking, as PDFs that only forbid printing or editing do."""
    from pypdf import PdfReader, PdfWriter

    plain = path.with_suffix(".plain.pdf")
    write_pdf(plain, lines)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _add(objects: list[bytes], body: bytes) -> int:
    objects.append(body)
    return len(objects)


def _write_objects(path: Path, objects: list[bytes], info: int | None) -> None:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer_info = f" /Info {info} 0 R" if info else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def write_docx(path: Path, title: str, sections: list[tuple[str, list]]) -> None:
    """A Word document with a title and Heading 1 sections holding paragraphs, bullet
    items ("- text") and tables (a list of rows, the first the header)."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for item in paragraphs:
            if isinstance(item, list):
                table = document.add_table(rows=len(item), cols=len(item[0]))
                for r, row in enumerate(item):
                    for c, value in enumerate(row):
                        table.cell(r, c).text = value
            elif item.startswith("- "):
                document.add_paragraph(item[2:], style="List Bullet")
            else:
                document.add_paragraph(item)
    document.save(str(path))


def write_zip_bomb_docx(path: Path, unpacked_mb: int = 300) -> None:
    """A real Word file whose main part is replaced by ``unpacked_mb`` MB of zeros: the
    file is a few hundred KB, the part it declares hundreds of MB."""
    plain = path.with_suffix(".plain.docx")
    write_docx(plain, "Rapport", [("Innledning", ["Et kort avsnitt."])])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in source.infolist():
            if part.filename != "word/document.xml":
                bomb.writestr(part, source.read(part))
                continue
            with bomb.open("word/document.xml", "w", force_zip64=True) as out:
                block = b"\0" * 2**20
                for _ in range(unpacked_mb):
                    out.write(block)
    plain.unlink()
