"""Text for the scanned pages of a PDF: Tesseract's Norwegian model (Debian ``tesseract-ocr``
and ``tesseract-ocr-nor``) through pytesseract reads the picture on each page that has no text
layer. Results are cached by the file's hash, so reading the same file again costs nothing.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from ingest.errors import CorpusError
from ingest.settings import Settings

LANGUAGE = "nor"
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-nor (make setup does it)"


class OcrUnavailable(CorpusError):
    """A scanned PDF on a machine without Tesseract: the ingest leaves it out and goes on."""


def available() -> bool:
    if shutil.which("tesseract") is None:
        return False
    import pytesseract

    try:
        return LANGUAGE in pytesseract.get_languages()
    except pytesseract.TesseractError:
        return False


def ocr_pages(path: Path, pages: dict[int, object], settings: Settings) -> dict[int, str]:
    """The text of each scanned page (number -> pypdf page), read from the cache or by Tesseract,
    with progress per page on stderr; ``settings`` give the page limit and the cache folder."""
    import pytesseract

    if not available():
        raise OcrUnavailable(f"{path}: {len(pages)} scanned page(s) without a text layer need OCR, but Tesseract with "
                             f"Norwegian is not installed; install it with {INSTALL}")
    if len(pages) > settings.ocr_max_pages:
        raise CorpusError(f"{path}: {len(pages)} scanned pages need OCR, more than the limit of {settings.ocr_max_pages}; "
                          "set ASSISTANT_OCR_MAX_PAGES higher to read it (a few seconds per page) or split the PDF")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = settings.ocr_cache_dir / f"{digest}.json"
    try:
        known = {int(k): v for k, v in json.loads(cache.read_text()).items()}
    except (OSError, ValueError):
        known = {}
    todo = [n for n in sorted(pages) if n not in known]
    for done, number in enumerate(todo, 1):
        print(f"OCR {path.name}: side {number} ({done}/{len(todo)})", file=sys.stderr, flush=True)
        image = _page_image(pages[number])
        known[number] = pytesseract.image_to_string(image, lang=LANGUAGE) if image is not None else ""
    if todo:
        settings.ocr_cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".part")
        partial.write_text(json.dumps(known, ensure_ascii=False))
        partial.replace(cache)
    return {n: known[n] for n in pages}


def _page_image(page):
    """The largest picture on a scanned page (a scanner puts one per page)."""
    images = [image.image for image in page.images if image.image is not None]
    return max(images, key=lambda im: im.width * im.height) if images else None
