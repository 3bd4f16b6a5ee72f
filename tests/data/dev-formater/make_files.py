"""Lager det oppdiktede dev-materialet i tests/data/dev-formater/.

Alt innhold er fiktivt (kommuner, personer, steder, tall). Skriptet er
deterministisk: faste frø for støy/skjevhet og faste tidsstempler i zip-baserte
filer, slik at en ny kjøring gir de samme filene.

Kjøres med:  nice -n 19 .venv/bin/python tests/data/dev-formater/make_files.py
"""
from __future__ import annotations

import csv
import datetime as dt
import random
import re
import zipfile
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FIXED_ZIP_TIME = (2025, 9, 1, 12, 0, 0)
FIXED_DT = dt.datetime(2025, 9, 1, 12, 0, 0)


# ---------------------------------------------------------------------------
# Hjelpere
# ---------------------------------------------------------------------------

def normalize_zip(path: Path, fix_modified: bool = False) -> None:
    """Skriver zip-arkivet på nytt med faste tidsstempler (samme rekkefølge og komprimering).

    fix_modified: openpyxl setter «modified» til klokka ved lagring; den byttes ut her.
    """
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info.filename)) for info in zin.infolist()]
    if fix_modified:
        stamp = FIXED_DT.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        items = [(info, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                               rb"\g<1>" + stamp + rb"\g<2>", data)
                  if info.filename == "docProps/core.xml" else data)
                 for info, data in items]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in items:
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = 3
            zout.writestr(new, data)
    tmp.replace(path)


# ---------------------------------------------------------------------------
# 1. Skannet referat (bare bilder, ingen tekstlag)
# ---------------------------------------------------------------------------

HEAD = "VASSBYGD KOMMUNE  ·  ORMELID KOMMUNE"
PROJECT = "Prosjekt «Ett torg» – felles bibliotek og innbyggertorg"

# Hver side: liste av (stil, tekst). Stiler: h = overskrift, b = fet, t = tekst,
# gap = tom linje, sig = signaturfelt (to navn + roller)
PAGES = [
    [
        ("b", "REFERAT FRA STYRINGSGRUPPEMØTE 2/2024"),
        ("gap", ""),
        ("t", "Dato: 14. mars 2024, kl. 09.00–11.30"),
        ("t", "Sted: Tindevik rådhus, møterom Fjorden"),
        ("t", "Til stede: Ingvild Sæterøy (leder), Arnfinn Lauvås, Ragnhild Fossnes, "
              "Kjetil Aamodt (tillitsvalgt), Hilde Brattvåg (prosjektleder, referent)"),
        ("t", "Forfall: ingen"),
        ("gap", ""),
        ("b", "Sak 05/24 Prosjektbudsjett 2024"),
        ("t", "Prosjektleder la fram forslag til budsjett for 2024. Samlet ramme er "
              "3 850 000 kroner. Vassbygd kommune dekker 62 prosent og Ormelid kommune "
              "38 prosent av egenandelen. Fylkeskommunen har gitt et tilskudd på "
              "600 000 kroner til kompetanseheving for de ansatte."),
        ("t", "Vedtak: Styringsgruppen vedtar prosjektbudsjettet for 2024 som foreslått."),
        ("gap", ""),
        ("b", "Sak 06/24 Ombygging av lokaler i Tindevik"),
        ("t", "Det kom inn tre tilbud på ombygging av første etasje i Tindevik bibliotek. "
              "Heggnes Bygg AS hadde laveste pris med 1 240 000 kroner eks. mva."),
        ("t", "Vedtak: Tilbudet fra Heggnes Bygg AS godtas. Arbeidet skal være ferdig "
              "innen 15. august 2024."),
        ("gap", ""),
        ("b", "Sak 07/24 Åpningsdato"),
        ("t", "Vedtak: Det felles innbyggertorget åpner mandag 2. september 2024, både "
              "i Tindevik og i Lauvstad."),
        ("gap", ""),
        ("b", "Sak 08/24 Eventuelt"),
        ("t", "Prosjektleder Hilde Brattvåg går ut i permisjon fra 1. juni 2024. "
              "Styringsgruppen ber kommunedirektøren i Vassbygd peke ut en ny "
              "prosjektleder innen 15. april 2024."),
        ("gap", ""),
        ("t", "Tindevik, 14. mars 2024"),
        ("sig", ("Ingvild Sæterøy", "leder", "Hilde Brattvåg", "referent")),
    ],
    [
        ("b", "REFERAT FRA STYRINGSGRUPPEMØTE 4/2024"),
        ("gap", ""),
        ("t", "Dato: 21. november 2024, kl. 13.00–15.30"),
        ("t", "Sted: Lauvstad kommunehus, kommunestyresalen"),
        ("t", "Til stede: Ingvild Sæterøy (leder), Arnfinn Lauvås, Ragnhild Fossnes, "
              "Tor Einar Moldestad (prosjektleder, referent), Nora Vikeså (sak 12/24)"),
        ("t", "Forfall: Kjetil Aamodt"),
        ("gap", ""),
        ("b", "Sak 12/24 Erfaringer fra de første månedene"),
        ("t", "Nora Vikeså orienterte. Innbyggertorget i Tindevik tok imot 3 410 "
              "henvendelser i september og oktober. Den vanligste henvendelsen var hjelp "
              "med BankID og digital post. Ventetiden i Tindevik var i snitt 7 minutter."),
        ("t", "Vedtak: Orienteringen tas til etterretning."),
        ("gap", ""),
        ("b", "Sak 13/24 Åpningstider i Lauvstad"),
        ("t", "Vedtak: Lauvstad filial holder åpent på lørdager kl. 10–14 fra "
              "11. januar 2025."),
        ("gap", ""),
        ("b", "Sak 14/24 Bemanning"),
        ("t", "Det er behov for mer bemanning i Lauvstad i ettermiddagstimene."),
        ("t", "Vedtak: Det opprettes en ny stilling som servicetorgmedarbeider i "
              "60 prosent i Lauvstad. Kostnaden på 410 000 kroner per år dekkes av "
              "Ormelid kommune."),
        ("gap", ""),
        ("b", "Sak 15/24 Budsjett 2025"),
        ("t", "Prosjektleder la fram forslag til budsjett for 2025 på 4 120 000 kroner."),
        ("t", "Vedtak: Styringsgruppen slutter seg til forslaget. Endelig budsjett "
              "vedtas av kommunestyrene i desember."),
        ("gap", ""),
        ("t", "Lauvstad, 21. november 2024"),
        ("sig", ("Ingvild Sæterøy", "leder", "Tor Einar Moldestad", "referent")),
    ],
    [
        ("b", "REFERAT FRA STYRINGSGRUPPEMØTE 2/2025"),
        ("gap", ""),
        ("t", "Dato: 12. juni 2025, kl. 10.00–12.00"),
        ("t", "Sted: Tindevik bibliotek, lesesalen"),
        ("t", "Til stede: Ingvild Sæterøy (leder), Marte Skogheim, Kjetil Aamodt, "
              "Tor Einar Moldestad (prosjektleder, referent), Birgitte Lunde-Ramstad "
              "(ekstern evaluator, sak 08/25)"),
        ("t", "Forfall: Ragnhild Fossnes"),
        ("gap", ""),
        ("b", "Sak 07/25 Ny representant fra Ormelid"),
        ("t", "Marte Skogheim erstatter Arnfinn Lauvås i styringsgruppen fra april 2025. "
              "Styringsgruppen takker Arnfinn Lauvås for innsatsen."),
        ("gap", ""),
        ("b", "Sak 08/25 Midtveisevaluering"),
        ("t", "Birgitte Lunde-Ramstad la fram resultater fra brukerundersøkelsen i mai. "
              "Undersøkelsen fikk 412 svar, og 87 prosent var fornøyd eller svært fornøyd "
              "med innbyggertorget. Flest ønsket lengre åpningstid på kveldstid."),
        ("t", "Vedtak: Orienteringen tas til etterretning."),
        ("gap", ""),
        ("b", "Sak 09/25 Videreføring"),
        ("t", "Vedtak: Styringsgruppen anbefaler at innbyggertorget blir en fast ordning "
              "fra 1. januar 2026. Saken legges fram for begge kommunestyrene i "
              "september 2025."),
        ("gap", ""),
        ("b", "Sak 10/25 Meråpent bibliotek i Lauvstad"),
        ("t", "Vedtak: Lauvstad filial får meråpent bibliotek fra 1. oktober 2025. "
              "Kostnaden er beregnet til 285 000 kroner."),
        ("gap", ""),
        ("t", "Neste møte: 4. september 2025."),
        ("gap", ""),
        ("t", "Tindevik, 12. juni 2025"),
        ("sig", ("Ingvild Sæterøy", "leder", "Tor Einar Moldestad", "referent")),
    ],
]

DPI = 200
PAGE_W, PAGE_H = 1654, 2339  # A4 ved 200 dpi
MARGIN_X, MARGIN_TOP = 160, 150
FONT_PX = 30
LINE_H = 44


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    words, lines, cur = text.split(" "), [], ""
    for w in words:
        cand = w if not cur else cur + " " + w
        if draw.textlength(cand, font=font) <= width:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def _scribble(draw: ImageDraw.ImageDraw, x: int, y: int, rng: random.Random) -> None:
    pts, cx = [], x
    for _ in range(14):
        cx += rng.randint(12, 26)
        pts.append((cx, y + rng.randint(-22, 22)))
    draw.line(pts, fill=30, width=3, joint="curve")


def render_page(items, page_no: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("L", (PAGE_W, PAGE_H), 255)
    d = ImageDraw.Draw(img)
    reg = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), FONT_PX)
    bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), FONT_PX)
    small = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 24)
    width = PAGE_W - 2 * MARGIN_X
    y = MARGIN_TOP
    d.text((MARGIN_X, y), HEAD, font=bold, fill=0)
    y += LINE_H
    d.text((MARGIN_X, y), PROJECT, font=reg, fill=0)
    y += LINE_H
    d.line([(MARGIN_X, y + 6), (PAGE_W - MARGIN_X, y + 6)], fill=0, width=2)
    y += LINE_H
    for style, text in items:
        if style == "gap":
            y += LINE_H // 2
        elif style == "sig":
            n1, r1, n2, r2 = text
            y += 40
            x2 = MARGIN_X + 760
            _scribble(d, MARGIN_X + 10, y + 20, rng)
            _scribble(d, x2 + 10, y + 20, rng)
            y += 60
            d.line([(MARGIN_X, y), (MARGIN_X + 560, y)], fill=0, width=2)
            d.line([(x2, y), (x2 + 560, y)], fill=0, width=2)
            y += 10
            d.text((MARGIN_X, y), f"{n1} (sign.)", font=reg, fill=0)
            d.text((x2, y), f"{n2} (sign.)", font=reg, fill=0)
            y += LINE_H
            d.text((MARGIN_X, y), r1, font=reg, fill=0)
            d.text((x2, y), r2, font=reg, fill=0)
            y += LINE_H
        else:
            font = bold if style == "b" else reg
            for line in _wrap(d, text, font, width):
                d.text((MARGIN_X, y), line, font=font, fill=0)
                y += LINE_H
    if y > PAGE_H - 150:
        raise ValueError(f"side {page_no} er for lang ({y}px)")
    d.text((PAGE_W // 2 - 60, PAGE_H - 110), f"Side {page_no} av {len(PAGES)}", font=small, fill=0)

    # «Skanning»: liten skjevhet, mild uskarphet, lett støy
    angle = rng.uniform(-1.0, 1.0)
    img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(radius=0.6))
    # lett støy: jevnt fordelt rundt ±9 grånivåer, fra et fast frø
    noise = Image.frombytes("L", img.size, rng.randbytes(img.size[0] * img.size[1]))
    noise = noise.point(lambda v: v * 19 // 256)
    img = img.point(lambda v: int(v * 0.95) + 9)
    return ImageChops.subtract(img, noise)


def make_scanned_pdf() -> None:
    pages = [render_page(items, i + 1, 1700 + i) for i, items in enumerate(PAGES)]
    out = HERE / "referat-styringsgruppe-skannet.pdf"
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=DPI,
                  title="Referat styringsgruppe Ett torg (skannet)",
                  creationDate=FIXED_DT.timetuple(), modDate=FIXED_DT.timetuple())


# ---------------------------------------------------------------------------
# 2. Deltakerliste (xlsx)
# ---------------------------------------------------------------------------

PEOPLE_HEADER = ["Navn", "Rolle", "Stilling", "Enhet", "Organisasjon", "Fra", "Til", "Merknad"]
PEOPLE = [
    ["Ingvild Sæterøy", "Styringsgruppeleder", "Kommunedirektør", "Kommunedirektørens kontor",
     "Vassbygd kommune", "høsten 2023", "31.12.2025", ""],
    ["Ragnhild Fossnes", "Styringsgruppemedlem", "Økonomisjef", "Økonomiavdelingen",
     "Vassbygd kommune", "høsten 2023", "2025", ""],
    ["Arnfinn Lauvås", "Styringsgruppemedlem", "Kommunalsjef kultur", "Kultur og fritid",
     "Ormelid kommune", "høsten 2023", "mars 2025", "Gikk av med pensjon"],
    ["Marte Skogheim", "Styringsgruppemedlem", "Kommunalsjef kultur og innbyggerservice",
     "Kultur og fritid", "Ormelid kommune", "april 2025", "31.12.2025",
     "Erstattet Arnfinn Lauvås"],
    ["Hilde Brattvåg", "Prosjektleder", "Biblioteksjef", "Tindevik bibliotek",
     "Vassbygd kommune", "høsten 2023", "31.5.2024", "Permisjon juni–juli 2024"],
    ["Hilde Brattvåg", "Fagansvarlig bibliotek", "Biblioteksjef", "Tindevik bibliotek",
     "Vassbygd kommune", "08.2024", "31.12.2025", ""],
    ["Tor Einar Moldestad", "Arbeidsgruppemedlem", "Rådgiver økonomi", "Økonomiavdelingen",
     "Vassbygd kommune", "høsten 2023", "mai 2024", "Økonomi og budsjett"],
    ["Tor Einar Moldestad", "Prosjektleder", "Rådgiver", "Kommunedirektørens stab",
     "Vassbygd kommune", "1.6.2024", "", "Overtok etter Hilde Brattvåg"],
    ["Kjetil Aamodt", "Tillitsvalgt", "Bibliotekar", "Lauvstad bibliotek",
     "Ormelid kommune", "1.3.2024", "31.12.2025", ""],
    ["Espen Kvalsund", "Verneombud", "Bibliotekar", "Tindevik bibliotek",
     "Vassbygd kommune", "2024", "2025", ""],
    ["Oddvar Tjelle", "Arbeidsgruppemedlem", "Arkivleder", "Dokumentsenteret",
     "Ormelid kommune", "1.3.2024", "31.8.2024", "Arkiv og personvern"],
    ["Jørund Helleland", "Arbeidsgruppemedlem", "IKT-rådgiver", "Digitalisering",
     "Vassbygd kommune", "mars 2024", "juni 2025", "Timebestilling og skjermer"],
    ["Linnea Haugsbø", "Kommunikasjon", "Kommunikasjonsrådgiver", "Kommunikasjonsavdelingen",
     "Vassbygd kommune", "1.3.2024", "31.12.2024", "Åpningen og nettsider"],
    ["Sunniva Rørvik", "Arbeidsgruppemedlem", "Servicetorgmedarbeider", "Servicetorget",
     "Ormelid kommune", "03.2024", "08.2024", ""],
    ["Sunniva Rørvik", "Teamleder innbyggertorg Lauvstad", "Servicetorgmedarbeider",
     "Servicetorget", "Ormelid kommune", "09.2024", "31.12.2025", ""],
    ["Nora Vikeså", "Teamleder innbyggertorg Tindevik", "Servicetorgleder", "Servicetorget",
     "Vassbygd kommune", dt.datetime(2024, 9, 2), "31.12.2025", ""],
    ["Birgitte Lunde-Ramstad", "Ekstern evaluator", "Seniorrådgiver", "",
     "Nordvest analyse AS", "jan. 2025", "31.10.2025", "Midtveis- og sluttevaluering"],
]


def make_xlsx() -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Deltakere"
    ws.append(PEOPLE_HEADER)
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in PEOPLE:
        ws.append(row)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, dt.datetime):
                c.number_format = "DD.MM.YYYY"
    widths = [24, 32, 36, 28, 22, 14, 12, 32]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A2"
    wb.properties.creator = "Prosjektkontoret Ett torg"
    wb.properties.title = "Deltakerliste Ett torg"
    wb.properties.created = FIXED_DT
    wb.properties.modified = FIXED_DT
    wb.properties.lastModifiedBy = "Prosjektkontoret Ett torg"
    out = HERE / "deltakerliste.xlsx"
    wb.save(out)
    normalize_zip(out, fix_modified=True)


# ---------------------------------------------------------------------------
# 3. Besøkstall (csv)
# ---------------------------------------------------------------------------

CSV_HEADER = ["Måned", "Avdeling", "Besøkende", "Henvendelser innbyggertorg", "Utlån",
              "Arrangementer"]
MONTHS = ["september 2024", "oktober 2024", "november 2024", "desember 2024",
          "januar 2025", "februar 2025", "mars 2025", "april 2025", "mai 2025",
          "juni 2025", "juli 2025", "august 2025"]
# (besøkende, henvendelser, utlån, arrangementer)
TINDEVIK = [(6120, 1780, 5430, 6), (5870, 1630, 5210, 8), (5540, 1410, 4980, 7),
            (4310, 1120, 4150, 9), (5260, 1530, 4870, 5), (5380, 1460, 4920, 6),
            (5720, 1390, 5340, 8), (5010, 1260, 4610, 6), (4890, 1310, 4450, 7),
            (4260, 1080, 3920, 4), (3150, 690, 3480, 2), (4980, 1270, 4560, 5)]
LAUVSTAD = [(1840, 520, 1610, 2), (1790, 495, 1580, 3), (1650, 430, 1490, 2),
            (1260, 350, 1230, 4), (2010, 610, 1720, 3), (2140, 640, 1810, 3),
            (2230, 585, 1900, 4), (2050, 540, 1760, 2), (1980, 515, 1690, 3),
            (1570, 410, 1380, 1), (445, 95, 510, 0), (1690, 455, 1450, 2)]


def make_csv() -> None:
    out = HERE / "besokstall.csv"
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(CSV_HEADER)
        for m, t, l in zip(MONTHS, TINDEVIK, LAUVSTAD):
            w.writerow([m, "Tindevik hovedbibliotek", *t])
            w.writerow([m, "Lauvstad filial", *l])


def year_totals() -> dict[str, int]:
    rows = TINDEVIK + LAUVSTAD
    return {
        "besok": sum(r[0] for r in rows),
        "henv": sum(r[1] for r in rows),
        "utlan": sum(r[2] for r in rows),
        "arr": sum(r[3] for r in rows),
    }


def nb(n: int) -> str:
    """Tall med mellomrom som tusenskille (norsk skrivemåte)."""
    return f"{n:,}".replace(",", " ")


# ---------------------------------------------------------------------------
# 4. Arbeidsplan (odt, nynorsk)
# ---------------------------------------------------------------------------

def make_odt() -> None:
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TextProperties
    from odf.text import H, List, ListItem, P

    doc = OpenDocumentText()
    h1 = Style(name="Heading 1", family="paragraph", defaultoutlinelevel="1")
    h1.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    h1.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
    h2 = Style(name="Heading 2", family="paragraph", defaultoutlinelevel="2")
    h2.addElement(TextProperties(fontsize="14pt", fontweight="bold"))
    h2.addElement(ParagraphProperties(margintop="0.3cm", marginbottom="0.15cm"))
    body = Style(name="Text body", family="paragraph")
    body.addElement(ParagraphProperties(marginbottom="0.2cm"))
    for s in (h1, h2, body):
        doc.styles.addElement(s)

    def heading(level: int, text: str) -> None:
        doc.text.addElement(H(outlinelevel=level, stylename=h1 if level == 1 else h2, text=text))

    def para(text: str) -> None:
        doc.text.addElement(P(stylename=body, text=text))

    def bullets(items: list[str]) -> None:
        lst = List()
        for it in items:
            li = ListItem()
            li.addElement(P(stylename=body, text=it))
            lst.addElement(li)
        doc.text.addElement(lst)

    heading(1, "Arbeidsplan 2025 for «Ett torg»")
    para("Denne arbeidsplanen gjeld for det felles innbyggjartorget til Vassbygd kommune og "
         "Ormelid kommune i perioden 1. januar til 31. desember 2025. Planen er utarbeidd av "
         "prosjektleiar Tor Einar Moldestad i samarbeid med teamleiarane i Tindevik og Lauvstad.")
    heading(2, "Mål for 2025")
    para("Hovudmålet er at innbyggjarane skal få hjelp på éin stad, anten dei kjem for å låne "
         "bøker eller for å få rettleiing om kommunale tenester.")
    bullets([
        "Minst 90 prosent av førespurnadene skal løysast ved første kontakt.",
        "Gjennomsnittleg ventetid i innbyggjartorget skal vere under 10 minutt.",
        "Dei to bibliotekstadene skal ha minst 60 000 besøk til saman i 2025.",
    ])
    heading(2, "Tiltak og fristar")
    bullets([
        "Opplæring i BankID-rettleiing for alle tilsette. Frist: 28. februar 2025. "
        "Ansvarleg: Nora Vikeså.",
        "Felles vaktliste for Tindevik og Lauvstad. Frist: 15. mars 2025. "
        "Ansvarleg: Nora Vikeså og Sunniva Rørvik.",
        "Ny løysing for timebestilling på nett. Frist: 30. april 2025. "
        "Ansvarleg: Jørund Helleland.",
        "Språkkafé i Lauvstad kvar tysdag frå 14. januar 2025. Ansvarleg: Sunniva Rørvik.",
        "Brukarundersøking i mai 2025. Ansvarleg: Birgitte Lunde-Ramstad.",
        "Midtvegsrapport til styringsgruppa. Frist: 1. juni 2025. "
        "Ansvarleg: Tor Einar Moldestad.",
    ])
    heading(2, "Roller og ansvar")
    para("Prosjektleiar Tor Einar Moldestad har det overordna ansvaret for planen og "
         "rapporterer til styringsgruppa. Nora Vikeså leier teamet i Tindevik, og Sunniva "
         "Rørvik leier teamet i Lauvstad. Hilde Brattvåg har det faglege ansvaret for "
         "bibliotektenestene på begge stadene.")
    heading(2, "Rapportering")
    para("Teamleiarane rapporterer tal på besøk, førespurnader og utlån kvar månad, seinast "
         "den 5. i påfølgjande månad. Tala blir samla i ei felles oversikt som "
         "styringsgruppa får før kvart møte.")
    heading(2, "Risiko")
    para("Den største risikoen er sårbar bemanning i Lauvstad, der teamet er lite og eitt "
         "sjukefråvær merkast med ein gong. Tiltaket er ei felles vaktliste og høve til å "
         "låne tilsette frå Tindevik. Ein annan risiko er at den nye løysinga for "
         "timebestilling ikkje blir ferdig innan fristen.")

    out = HERE / "arbeidsplan.odt"
    doc.save(str(out))
    normalize_zip(out)


# ---------------------------------------------------------------------------
# 5. Presentasjon for kommunestyret (pptx)
# ---------------------------------------------------------------------------

def make_pptx() -> None:
    from pptx import Presentation
    from pptx.util import Pt

    tot = year_totals()
    prs = Presentation()
    slides = [
        ("«Ett torg» – felles bibliotek og innbyggertorg",
         ["Orientering til kommunestyrene i Vassbygd og Ormelid",
          "September 2025"],
         "Presenteres av prosjektleder Tor Einar Moldestad sammen med styringsgruppeleder "
         "Ingvild Sæterøy."),
        ("Bakgrunn",
         ["Forprosjekt startet høsten 2023",
          "To kommuner – ett felles tilbud til innbyggerne",
          "Bibliotek og servicetorg samlokalisert i Tindevik og Lauvstad",
          "Felles innbyggertorg åpnet 2. september 2024"],
         None),
        ("Første driftsår i tall (sep. 2024 – aug. 2025)",
         [f"{nb(tot['besok'])} besøk i de to bibliotekene",
          f"{nb(tot['henv'])} henvendelser i innbyggertorget",
          f"{nb(tot['utlan'])} utlån",
          f"{tot['arr']} arrangementer"],
         "Tallene for juli er lave i Lauvstad fordi filialen var stengt i tre uker "
         "i fellesferien. Lørdagsåpningen fra januar ga tydelig flere besøk i Lauvstad."),
        ("Hva innbyggerne spør om",
         ["BankID og digital post: 41 prosent",
          "Byggesak og eiendom: 14 prosent",
          "Helse og omsorg: 12 prosent",
          "Skatt og NAV-veiledning: 9 prosent",
          "Annet: 24 prosent"],
         "Vi fikk bare tre skriftlige klager i løpet av året, og alle gjaldt ventetid "
         "ved BankID-hjelp."),
        ("Hva innbyggerne sier",
         ["Brukerundersøkelse i mai 2025: 412 svar",
          "87 prosent fornøyd eller svært fornøyd",
          "Mest etterspurt: lengre åpent på kveldstid"],
         None),
        ("Økonomi",
         ["Budsjett 2024: 3,85 mill. kroner",
          "Budsjett 2025: 4,12 mill. kroner",
          "Fast ordning fra 2026: 3,6 mill. kroner per år",
          "Kostnadene deles mellom Vassbygd og Ormelid etter innbyggertall"],
         "Fylkeskommunen har signalisert et nytt tilskudd på 300 000 kroner for 2026, "
         "men dette er ikke bekreftet skriftlig."),
        ("Anbefaling",
         ["Innbyggertorget videreføres som fast ordning fra 1. januar 2026",
          "Meråpent bibliotek i Lauvstad fra 1. oktober 2025",
          "Sluttrapport fra evalueringen 31. oktober 2025"],
         "Hvis kommunestyrene sier nei, avvikles innbyggertorget 31. desember 2025, og de "
         "ansatte går tilbake til sine tidligere enheter."),
        ("Spørsmål?",
         ["Kontakt: prosjektleder Tor Einar Moldestad",
          "E-post: ett.torg@vassbygd.kommune.example"],
         None),
    ]
    for i, (title, lines, notes) in enumerate(slides):
        layout = prs.slide_layouts[0] if i == 0 else prs.slide_layouts[1]
        s = prs.slides.add_slide(layout)
        s.shapes.title.text = title
        body = s.placeholders[1].text_frame
        body.text = lines[0]
        for line in lines[1:]:
            p = body.add_paragraph()
            p.text = line
        if i > 0:
            for p in body.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(24)
        if notes:
            s.notes_slide.notes_text_frame.text = notes
    cp = prs.core_properties
    cp.title = "Ett torg – orientering til kommunestyrene"
    cp.author = "Tor Einar Moldestad"
    cp.last_modified_by = "Tor Einar Moldestad"
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.revision = 1
    out = HERE / "presentasjon-kommunestyret.pptx"
    prs.save(str(out))
    normalize_zip(out)


# ---------------------------------------------------------------------------
# 6. Budsjett 2025 (ods)
# ---------------------------------------------------------------------------

BUDGET_HEADER = ["Post", "Vassbygd (kr)", "Ormelid (kr)", "Sum (kr)"]
BUDGET = [
    ("Lønn innbyggertorg", 1550000, 950000),
    ("Ombygging og inventar", 180000, 120000),
    ("IKT og timebestilling", 260000, 160000),
    ("Opplæring", 120000, 80000),
    ("Markedsføring", 90000, 60000),
    ("Ekstern evaluering", 330000, 220000),
]


def make_ods() -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    t = Table(name="Budsjett 2025")

    def text_cell(s: str) -> TableCell:
        c = TableCell(valuetype="string")
        c.addElement(P(text=s))
        return c

    def num_cell(n: int) -> TableCell:
        c = TableCell(valuetype="float", value=str(n))
        c.addElement(P(text=nb(n)))
        return c

    row = TableRow()
    for h in BUDGET_HEADER:
        row.addElement(text_cell(h))
    t.addElement(row)
    sv = so = 0
    for post, v, o in BUDGET:
        row = TableRow()
        row.addElement(text_cell(post))
        for n in (v, o, v + o):
            row.addElement(num_cell(n))
        t.addElement(row)
        sv += v
        so += o
    row = TableRow()
    row.addElement(text_cell("Sum"))
    for n in (sv, so, sv + so):
        row.addElement(num_cell(n))
    t.addElement(row)
    assert sv + so == 4_120_000, sv + so
    doc.spreadsheet.addElement(t)
    out = HERE / "budsjett.ods"
    doc.save(str(out))
    normalize_zip(out)


def main() -> None:
    make_scanned_pdf()
    make_xlsx()
    make_csv()
    make_odt()
    make_pptx()
    make_ods()
    print("Ferdig:", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix not in (".py", ".md"))))


if __name__ == "__main__":
    main()
