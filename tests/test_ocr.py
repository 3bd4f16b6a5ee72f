"""Scanned PDFs read with Tesseract's Norwegian model: text rendered from known sentences into a
page image at 200 dpi, with mild blur, noise and skew, reads back at ≥ 97 % word accuracy and is
cited by page; the result is cached by the file's hash; a page limit and a missing Tesseract each
give one line."""
from __future__ import annotations

import difflib
import time
from pathlib import Path

import pytest

from ingest.errors import CorpusError
from ingest.ocr import available
from ingest.sources import SourceFile, read_sections

SENTENCES = [
    "Referat fra møte i styringsgruppen for biblioteket i Testby.",
    "Til stede var Kari Nordmann, Ola Nordmann og Per Hansen.",
    "Styringsgruppen vedtok å utvide åpningstiden på lørdager fra høsten.",
    "Besøket på filialen på Nordby økte med tjue prosent i løpet av våren.",
    "Prosjektleder skal legge fram et forslag til budsjett før neste møte.",
    "Kommunestyret behandler saken om felles skranke i juni.",
]
DPI = 200


def render_scan(path: Path, pages: list[list[str]], seed: int = 1) -> None:
    """An image-only PDF as a scanner makes it: each page a 200 dpi picture of the lines,
    slightly rotated, blurred and speckled."""
    import random

    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", size=int(11 / 72 * DPI))
    images = []
    for lines in pages:
        page = Image.new("L", (int(8.27 * DPI), int(4 * DPI)), 255)
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines):
            draw.text((int(0.8 * DPI), int(0.6 * DPI) + i * int(0.3 * DPI)), line, font=font, fill=0)
        page = page.rotate(0.7, resample=Image.BICUBIC, fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))
        pixels = page.load()
        for _ in range(page.width * page.height // 200):
            x, y = rng.randrange(page.width), rng.randrange(page.height)
            pixels[x, y] = rng.choice((0, 255))
        images.append(page.convert("RGB"))
    images[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=images[1:])


def word_accuracy(expected: str, actual: str) -> float:
    want, got = expected.split(), actual.split()
    matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(want)


needs_tesseract = pytest.mark.skipif(not available(), reason="Tesseract with Norwegian is not installed (make setup)")


@needs_tesseract
def test_scanned_pages_are_read_with_norwegian_ocr_and_cited_by_page(tmp_path, monkeypatch, capsys):
    """Two scanned pages read at ≥ 97 % word accuracy, each section ending in «side N», with progress per
    page; reading the file again comes from the cache."""
    monkeypatch.setenv("ASSISTANT_OCR_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "referat.pdf"
    render_scan(path, [SENTENCES[:3], SENTENCES[3:]])
    started = time.perf_counter()
    sections = read_sections(SourceFile(path, "referat.pdf", ""))
    per_page = (time.perf_counter() - started) / 2
    text = {s.path[-1]: s.text for s in sections}
    accuracy = word_accuracy(" ".join(SENTENCES), " ".join([text["side 1"], text["side 2"]]))
    print(f"OCR word accuracy {accuracy:.3f}, {per_page:.1f} s per page")
    assert accuracy >= 0.97
    assert ["OCR referat.pdf: side 1 (1/2)", "OCR referat.pdf: side 2 (2/2)"] == capsys.readouterr().err.splitlines()
    again = time.perf_counter()
    assert sections == read_sections(SourceFile(path, "referat.pdf", ""))
    assert time.perf_counter() - again < 1.0
    assert "" == capsys.readouterr().err


@needs_tesseract
def test_page_limit_gives_one_line(tmp_path, monkeypatch):
    """More scanned pages than ASSISTANT_OCR_MAX_PAGES: one line saying the limit and how to raise it."""
    monkeypatch.setenv("ASSISTANT_OCR_MAX_PAGES", "1")
    path = tmp_path / "arkiv.pdf"
    render_scan(path, [SENTENCES[:1], SENTENCES[1:2]])
    with pytest.raises(CorpusError) as caught:
        read_sections(SourceFile(path, "arkiv.pdf", ""))
    assert (f"{path}: 2 scanned pages need OCR, more than the limit of 1; set ASSISTANT_OCR_MAX_PAGES higher to read "
            "it (a few seconds per page) or split the PDF") == str(caught.value)


def test_without_tesseract_the_scan_is_skipped_and_the_rest_ingested(tmp_path, monkeypatch, model_dir, capsys):
    """No Tesseract: the scanned PDF gets one line telling how to install it; the other document is ingested (exit 0)."""
    import ingest.ocr
    from ingest.__main__ import main

    monkeypatch.setattr(ingest.ocr, "available", lambda: False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notat.md").write_text("# Notat\n\nMøtet ble holdt i Testby.\n")
    render_scan(corpus / "referat.pdf", [SENTENCES[:1]])
    code = main(["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--quiet"])
    out, err = capsys.readouterr()
    assert 0 == code and "Ingested 1 documents" in out
    assert ["skipped referat.pdf: 1 scanned page(s) without a text layer need OCR, but Tesseract with Norwegian is not "
            "installed; install it with apt-get install tesseract-ocr tesseract-ocr-nor (make setup does it)"] == err.splitlines()
