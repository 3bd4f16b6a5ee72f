"""Lager testfilene i denne mappen (oppdiktet materiale om Innbyggerhus Heggsund).

Kjør fra repoets rot:  .venv/bin/python tests/data/test-formater/make_files.py

Alt innhold er oppdiktet: kommunene Heggsund, Brattmo og Kvitlia, personene,
stedene og tallene finnes ikke. Skriptet er deterministisk: faste frø for støy
og skjevhet, faste dokumentdatoer og faste tidsstempler i zip-baserte filer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HER = Path(__file__).resolve().parent
FONTMAPPE = Path("/usr/share/fonts/truetype/dejavu")
FAST_TID = (2024, 10, 21, 12, 0, 0)

# ---------------------------------------------------------------------------
# 1. Skannet protokoll (bare bilder, ingen tekstlag)
# ---------------------------------------------------------------------------

DPI = 200
A4 = (1654, 2339)  # 210 x 297 mm ved 200 dpi
MARG_V, MARG_H, MARG_TOPP = 165, 165, 170

# Hver side er en liste av (stil, tekst). Stiler:
#   tittel, overskrift, sak, p, punkt (hengende innrykk), tom, signatur, stempel
SIDE_1 = [
    ("tittel", "HEGGSUND KOMMUNE"),
    ("overskrift", "MØTEPROTOKOLL – FORMANNSKAPET"),
    ("tom", ""),
    ("p", "Møtedato: 3. mai 2023"),
    ("p", "Tid: kl. 09.00–13.15"),
    ("p", "Møtested: Heggsund rådhus, formannskapssalen"),
    ("p", "Arkivsak: 23/00412"),
    ("tom", ""),
    ("p", "Til stede: Ragnhild Sæbø (ordfører, møteleder), Oddvar Kleppe "
          "(varaordfører), Siri Haugom, Bjørnar Tjelle, Anne Grete Fosse, "
          "Knut Ivar Bøe, Malin Rustad og Terje Lauvstad."),
    ("p", "Forfall: Liv Brennhaug."),
    ("p", "Møtende vara: Tormod Aasgard."),
    ("p", "Fra administrasjonen: kommunedirektør Henrik Solvang og "
          "kommunalsjef for kultur og innbyggerservice Marit Lunde."),
    ("p", "Protokollfører: Berit Nordhagen."),
    ("tom", ""),
    ("p", "Innkalling og saksliste ble godkjent uten merknader."),
    ("tom", ""),
    ("sak", "Sak 21/23 Samlokalisering av bibliotek, servicetorg og "
            "frivilligsentral – Innbyggerhus Heggsund"),
    ("p", "Kommunedirektørens forslag til vedtak ble lagt fram. Under "
          "debatten fremmet Siri Haugom et alternativt forslag om å beholde "
          "biblioteket i Heggsund skole og bare flytte servicetorget."),
    ("p", "Votering: Kommunedirektørens forslag ble vedtatt med 7 mot 2 "
          "stemmer. Haugom og Lauvstad stemte for det alternative forslaget."),
    ("tom", ""),
    ("p", "Vedtak:"),
    ("punkt", "1.|Heggsund folkebibliotek, servicetorget og Heggsund "
              "frivilligsentral samles i ett innbyggerhus i det tidligere "
              "meieribygget i Storgata 14."),
    ("punkt", "2.|Det settes av en investeringsramme på 18,4 millioner kroner "
              "til ombygging, fordelt over budsjettårene 2023 og 2024."),
    ("punkt", "3.|Kommunedirektøren oppnevner prosjektleder og styringsgruppe "
              "innen 1. juni 2023."),
    ("punkt", "4.|Innbyggerhuset skal være åpent for publikum senest "
              "1. september 2024."),
    ("punkt", "5.|Tillitsvalgte og verneombud skal delta i prosjektet fra "
              "oppstart."),
]

SIDE_2 = [
    ("p", "Møteprotokoll formannskapet 3. mai 2023 – side 2 av 2"),
    ("tom", ""),
    ("sak", "Sak 22/23 Åpningstider i overgangsperioden"),
    ("p", "Vedtak (enstemmig):"),
    ("p", "Servicetorget i rådhuset holder stengt på fredager fra 1. juni "
          "2023 og fram til innbyggerhuset åpner. Telefonen betjenes som før "
          "alle hverdager kl. 08.00–15.30. Biblioteket beholder dagens "
          "åpningstider."),
    ("tom", ""),
    ("sak", "Sak 23/23 Regionalt biblioteksamarbeid med Brattmo og Kvitlia"),
    ("p", "Vedtak (enstemmig):"),
    ("punkt", "1.|Heggsund kommune slutter seg til samarbeidsavtalen om et "
              "regionalt biblioteksamarbeid med Brattmo kommune og Kvitlia "
              "kommune fra 1. januar 2024."),
    ("punkt", "2.|Heggsunds andel av kostnadene er 145 000 kroner per år og "
              "dekkes innenfor rammen til kultur og innbyggerservice."),
    ("punkt", "3.|Brattmo kommune er administrativ vertskommune for "
              "samarbeidet."),
    ("tom", ""),
    ("sak", "Sak 24/23 Eventuelt"),
    ("p", "Knut Ivar Bøe spurte om frivilligsentralen får beholde det "
          "statlige tilskuddet etter samlokaliseringen. Kommunalsjef Marit "
          "Lunde svarte at tilskuddet følger frivilligsentralen og ikke "
          "påvirkes av flyttingen."),
    ("tom", ""),
    ("p", "Møtet ble hevet kl. 13.15."),
    ("tom", ""),
    ("p", "Protokollen godkjennes av møteleder og to valgte representanter."),
    ("tom", ""),
    ("p", "Heggsund, 8. mai 2023"),
    ("tom", ""),
    ("signatur", "Ragnhild Sæbø|Bjørnar Tjelle|Malin Rustad"),
    ("p", "ordfører"),
]

SIDE_3 = [  # vedlegg på nynorsk frå nabokommunen
    ("tittel", "KVITLIA KOMMUNE"),
    ("overskrift", "SÆRUTSKRIFT"),
    ("tom", ""),
    ("p", "Utval: Kommunestyret"),
    ("p", "Møtedato: 25. april 2023"),
    ("p", "Sak: 14/23 Regionalt biblioteksamarbeid – Brattmo, Heggsund og "
          "Kvitlia"),
    ("tom", ""),
    ("p", "Kommunestyret handsama saka i møtet 25. april 2023."),
    ("tom", ""),
    ("p", "Vedtak (samrøystes):"),
    ("punkt", "1.|Kvitlia kommune går inn i det regionale "
              "biblioteksamarbeidet saman med Brattmo kommune og Heggsund "
              "kommune frå 1. januar 2024."),
    ("punkt", "2.|Kvitlia kommune skal vere vertskommune for den felles "
              "bokbussen. Bokbussen skal ha fast stasjon ved Kvitlia "
              "kulturhus."),
    ("punkt", "3.|Kvitlia sin del av kostnadene er 210 000 kroner i året."),
    ("punkt", "4.|Avtalen kan seiast opp med tolv månaders varsel, tidlegast "
              "med verknad frå 1. januar 2027."),
    ("tom", ""),
    ("p", "Rett utskrift:"),
    ("p", "Kvitlia, 27. april 2023"),
    ("p", "Gunnhild Rørvik"),
    ("p", "utvalssekretær"),
    ("tom", ""),
    ("p", "Kopi til: Heggsund kommune, Brattmo kommune"),
    ("tom", ""),
    ("stempel", "MOTTATT HEGGSUND KOMMUNE|2. mai 2023"),
]

SIDER = [(SIDE_1, 11, 0.45), (SIDE_2, 22, -0.7), (SIDE_3, 33, 0.9)]


def _font(navn: str, storrelse: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTMAPPE / navn), storrelse)


def bryt_linjer(tekst: str, font: ImageFont.FreeTypeFont, bredde: int) -> list[str]:
    """Bryter tekst på mellomrom slik at hver linje er smalere enn bredde piksler."""
    linjer: list[str] = []
    naa = ""
    for ord_ in tekst.split():
        forsok = f"{naa} {ord_}".strip()
        if font.getlength(forsok) <= bredde or not naa:
            naa = forsok
        else:
            linjer.append(naa)
            naa = ord_
    if naa:
        linjer.append(naa)
    return linjer


def sidelinjer(side) -> list[str]:
    """Linjene slik de står på siden (brukes også for å sjekke kildeutdrag)."""
    vanlig = _font("DejaVuSans.ttf", 30)
    bredde = A4[0] - MARG_V - MARG_H
    ut: list[str] = []
    for stil, tekst in side:
        if stil == "punkt":
            nr, rest = tekst.split("|", 1)
            for i, linje in enumerate(bryt_linjer(rest, vanlig, bredde - 60)):
                ut.append((nr + " " if i == 0 else "") + linje)
        elif stil in ("signatur", "stempel"):
            ut.extend(tekst.split("|"))
        elif stil == "tom":
            continue
        else:
            ut.extend(bryt_linjer(tekst, vanlig, bredde))
    return ut


def _signaturkrusedull(tegn: ImageDraw.ImageDraw, x: int, y: int, rng) -> None:
    punkter = []
    for i in range(14):
        punkter.append((x + i * 17 + int(rng.integers(-4, 5)),
                        y + int(18 * np.sin(i * 1.3)) + int(rng.integers(-5, 6))))
    tegn.line(punkter, fill=40, width=3)


def tegn_side(side, frø: int, vinkel: float) -> Image.Image:
    rng = np.random.default_rng(frø)
    bilde = Image.new("L", A4, 255)
    tegn = ImageDraw.Draw(bilde)
    vanlig = _font("DejaVuSans.ttf", 30)
    fet = _font("DejaVuSans-Bold.ttf", 30)
    tittel = _font("DejaVuSans-Bold.ttf", 40)
    overskrift = _font("DejaVuSans-Bold.ttf", 34)
    bredde = A4[0] - MARG_V - MARG_H
    linjehoyde = 43
    y = MARG_TOPP
    for stil, tekst in side:
        if stil == "tom":
            y += linjehoyde // 2
        elif stil == "tittel":
            tegn.text((MARG_V, y), tekst, font=tittel, fill=15)
            y += 58
        elif stil == "overskrift":
            tegn.text((MARG_V, y), tekst, font=overskrift, fill=15)
            y += 52
        elif stil == "sak":
            for linje in bryt_linjer(tekst, fet, bredde):
                tegn.text((MARG_V, y), linje, font=fet, fill=20)
                y += linjehoyde
            y += 6
        elif stil == "p":
            for linje in bryt_linjer(tekst, vanlig, bredde):
                tegn.text((MARG_V, y), linje, font=vanlig, fill=25)
                y += linjehoyde
        elif stil == "punkt":
            nr, rest = tekst.split("|", 1)
            tegn.text((MARG_V, y), nr, font=vanlig, fill=25)
            for linje in bryt_linjer(rest, vanlig, bredde - 60):
                tegn.text((MARG_V + 60, y), linje, font=vanlig, fill=25)
                y += linjehoyde
        elif stil == "signatur":
            navn = tekst.split("|")
            kolonne = bredde // len(navn)
            for i, n in enumerate(navn):
                x = MARG_V + i * kolonne
                _signaturkrusedull(tegn, x + 10, y + 20, rng)
                tegn.line([(x, y + 62), (x + kolonne - 60, y + 62)], fill=60, width=2)
                tegn.text((x, y + 72), n, font=vanlig, fill=25)
            y += 72 + linjehoyde
        elif stil == "stempel":
            linjer = tekst.split("|")
            x0, y0 = MARG_V + 700, y + 10
            bredest = max(int(fet.getlength(l)) for l in linjer)
            tegn.rectangle([x0 - 20, y0 - 15, x0 + bredest + 20,
                            y0 + len(linjer) * linjehoyde + 10], outline=70, width=4)
            for i, l in enumerate(linjer):
                tegn.text((x0, y0 + i * linjehoyde), l, font=fet, fill=70)
            y += len(linjer) * linjehoyde + 40
        else:
            raise ValueError(stil)
    if y > A4[1] - 120:
        raise ValueError("teksten går utenfor siden")

    # "Skanning": litt skjev, mild uskarphet, lett støy og noen prikker.
    bilde = bilde.rotate(vinkel, resample=Image.BICUBIC, fillcolor=255)
    bilde = bilde.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.asarray(bilde).astype(np.float32)
    arr = arr * 0.96 + 6  # lett grå papirtone
    arr += rng.normal(0, 5, arr.shape)
    for _ in range(200):
        yy, xx = int(rng.integers(0, A4[1] - 3)), int(rng.integers(0, A4[0] - 3))
        arr[yy:yy + 2, xx:xx + 2] = rng.uniform(110, 190)
    arr[:, :18] -= 35  # skyggekant fra skannerlokket
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def lag_protokoll(sti: Path) -> None:
    sider = [tegn_side(s, f, v) for s, f, v in SIDER]
    fast = time.gmtime(dt.datetime(2023, 5, 8, 10, 30, tzinfo=dt.timezone.utc).timestamp())
    sider[0].save(sti, "PDF", save_all=True, append_images=sider[1:],
                  resolution=float(DPI), title="Skannet dokument",
                  creationDate=fast, modDate=fast, quality=60)


# ---------------------------------------------------------------------------
# 2. Deltakerliste i Excel
# ---------------------------------------------------------------------------

D = dt.datetime  # ekte datoceller der den som førte lista skrev inn en dato

DELTAKERE_HODE = ["Navn", "Rolle", "Stilling", "Enhet", "Kommune", "Fra", "Til", "Merknad"]
DELTAKERE = [
    ["Henrik Solvang", "Leder styringsgruppe", "Kommunedirektør",
     "Kommunedirektørens stab", "Heggsund", "juni 2023", None, None],
    ["Marit Lunde", "Prosjekteier", "Kommunalsjef",
     "Kultur og innbyggerservice", "Heggsund", "03.05.2023", None, None],
    ["Jon Erik Tveit", "Prosjektleder", "Spesialrådgiver",
     "Kommunedirektørens stab", "Heggsund", D(2023, 6, 1), D(2024, 3, 31),
     "Sluttet, ny jobb i Brattmo kommune"],
    ["Hilde Stakkeland", "Delprosjektleder bibliotek", "Biblioteksjef",
     "Heggsund folkebibliotek", "Heggsund", "juni 2023", "mars 2024", None],
    ["Hilde Stakkeland", "Prosjektleder", "Biblioteksjef",
     "Heggsund folkebibliotek", "Heggsund", "1.4.2024", None,
     "Overtok etter Jon Erik Tveit"],
    ["Geir Haugland", "Verneombud", "Bibliotekar",
     "Heggsund folkebibliotek", "Heggsund", "2023", "våren 2024", None],
    ["Geir Haugland", "Delprosjektleder bibliotek", "Bibliotekar",
     "Heggsund folkebibliotek", "Heggsund", "1.4.2024", None,
     "Overtok etter Hilde Stakkeland"],
    ["Sunniva Lid", "Verneombud", "Konsulent", "Servicetorget", "Heggsund",
     "mai 2024", None, None],
    ["Ahmed Karimi", "Delprosjektleder servicetorg", "Leder servicetorget",
     "Servicetorget", "Heggsund", "15.6.2023", None, None],
    ["Solveig Nyhus", "Delprosjektleder frivillighet", "Daglig leder",
     "Heggsund frivilligsentral", "Heggsund", "juni 2023", "desember 2023",
     "Permisjon"],
    ["Per Anders Myklebust", "Delprosjektleder frivillighet", "Fagkoordinator",
     "Heggsund frivilligsentral", "Heggsund", "01.2024", "08.2024",
     "Vikar for Solveig Nyhus"],
    ["Solveig Nyhus", "Delprosjektleder frivillighet", "Daglig leder",
     "Heggsund frivilligsentral", "Heggsund", "september 2024", None,
     "Tilbake fra permisjon"],
    ["Kari Oftedal", "Tillitsvalgt (Fagforbundet)", "Konsulent",
     "Servicetorget", "Heggsund", "2023", None, None],
    ["Turid Vassbotn", "Prosjektleder bygg", "Rådgiver eiendom",
     "Eiendomsavdelingen", "Heggsund", "august 2023", "september 2024",
     "Ombyggingen overlevert 15.8.2024"],
    ["Eirik Dahle", "Delprosjektleder digitale tjenester", "IKT-rådgiver",
     "IKT", "Heggsund", D(2023, 9, 1), None, None],
    ["Linnea Brekke", "Kommunikasjon", "Kommunikasjonsrådgiver",
     "Kommunedirektørens stab", "Heggsund", "våren 2024", None, None],
    ["Eli Sandnes", "Representant biblioteksamarbeidet", "Biblioteksjef",
     "Brattmo bibliotek", "Brattmo", "januar 2024", "31.3.2024", "Pensjonert"],
    ["Jon Erik Tveit", "Representant biblioteksamarbeidet", "Kultursjef",
     "Kultur og fritid", "Brattmo", "april 2024", None,
     "Overtok etter Eli Sandnes"],
    ["Oddny Hjelmeland", "Koordinator bokbuss", "Bibliotekar",
     "Kvitlia bibliotek", "Kvitlia", "15.1.2024", None, None],
    ["Randi Fossum", "Brukerrepresentant", "Leder",
     "Heggsund pensjonistforening", "Heggsund", "september 2023", None, None],
    ["Mats Lie Berntsen", "Brukerrepresentant ungdom", "Leder ungdomsrådet",
     "Ungdomsrådet", "Heggsund", "2023", "2024", None],
]

APNING_HODE = ["Dag", "Betjent bibliotek", "Meråpent bibliotek", "Servicetorg",
               "Frivilligsentral"]
APNING = [
    ["Mandag", "10–18", "07–23", "09–15", "10–15"],
    ["Tirsdag", "10–18", "07–23", "09–15", "10–19"],
    ["Onsdag", "10–15", "07–23", "09–15", "10–15"],
    ["Torsdag", "10–19", "07–23", "09–18", "10–15"],
    ["Fredag", "10–15", "07–23", "09–15", "stengt"],
    ["Lørdag", "11–15", "07–23", "stengt", "stengt"],
    ["Søndag", "stengt", "07–23", "stengt", "stengt"],
]


def lag_bemanning(sti: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ark = wb.active
    ark.title = "Prosjektdeltakere"
    ark.append(DELTAKERE_HODE)
    for rad in DELTAKERE:
        ark.append(rad)
    for celle in ark[1]:
        celle.font = Font(bold=True)
    for rad in ark.iter_rows(min_row=2):
        for celle in rad:
            if isinstance(celle.value, dt.datetime):
                celle.number_format = "DD.MM.YYYY"
    for kol, bredde in zip("ABCDEFGH", [22, 34, 26, 28, 11, 15, 15, 36]):
        ark.column_dimensions[kol].width = bredde
    ark.freeze_panes = "A2"

    ark2 = wb.create_sheet("Åpningstider")
    ark2.append(APNING_HODE)
    for rad in APNING:
        ark2.append(rad)
    for celle in ark2[1]:
        celle.font = Font(bold=True)
    for kol in "ABCDE":
        ark2.column_dimensions[kol].width = 20

    wb.properties.creator = "Heggsund kommune"
    wb.properties.title = "Deltakere Innbyggerhus Heggsund"
    wb.properties.created = dt.datetime(2024, 9, 2, 8, 0, 0)
    wb.save(sti)


# ---------------------------------------------------------------------------
# 3. Besøksstatistikk (CSV slik Excel eksporterer den: cp1252 og semikolon)
# ---------------------------------------------------------------------------

STAT_HODE = ["Kvartal", "Sted", "Besøkende", "Henvendelser", "Arrangementer", "Merknad"]
STATISTIKK = [
    ["2023 K1", "Biblioteket", 10240, 1310, 14, ""],
    ["2023 K1", "Servicetorget", 3120, 4870, 0, ""],
    ["2023 K1", "Frivilligsentralen", 1460, 610, 22, ""],
    ["2023 K2", "Biblioteket", 9875, 1205, 12, ""],
    ["2023 K2", "Servicetorget", 2980, 4615, 0, "Fredagsstengt fra 1. juni"],
    ["2023 K2", "Frivilligsentralen", 1390, 585, 25, ""],
    ["2023 K3", "Biblioteket", 7430, 980, 6, "Sommerstengt tre uker i juli"],
    ["2023 K3", "Servicetorget", 2410, 3990, 0, ""],
    ["2023 K3", "Frivilligsentralen", 980, 402, 9, ""],
    ["2023 K4", "Biblioteket", 10960, 1420, 19, ""],
    ["2023 K4", "Servicetorget", 2870, 4720, 1, ""],
    ["2023 K4", "Frivilligsentralen", 1620, 690, 31, ""],
    ["2024 K1", "Biblioteket", 10115, 1350, 16, ""],
    ["2024 K1", "Servicetorget", 3050, 5130, 0, ""],
    ["2024 K1", "Frivilligsentralen", 1510, 655, 27, ""],
    ["2024 K2", "Biblioteket", 9640, 1190, 11, ""],
    ["2024 K2", "Servicetorget", 2760, 4480, 2, ""],
    ["2024 K2", "Frivilligsentralen", 1445, 598, 24, ""],
    ["2024 K3", "Innbyggerhuset", 14870, 5930, 38, "Åpnet 26.08.2024; tall for 26.08.–30.09."],
    ["2024 K4", "Innbyggerhuset", 27410, 8260, 64, ""],
]


def lag_statistikk(sti: Path) -> None:
    buf = io.StringIO()
    skriver = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    skriver.writerow(STAT_HODE)
    skriver.writerows(STATISTIKK)
    sti.write_bytes(buf.getvalue().encode("cp1252"))


# ---------------------------------------------------------------------------
# 4. Handlingsplan (ODT)
# ---------------------------------------------------------------------------

# (nivå, tekst) for overskrifter, ("p", tekst) for avsnitt, ("liste", [..]) for punktlister
HANDLINGSPLAN = [
    ("tittel", "Handlingsplan for Innbyggerhus Heggsund 2024–2025"),
    ("p", "Vedtatt av formannskapet 12. juni 2024 (sak 38/24). Ansvarlig for "
          "planen: prosjektleder Hilde Stakkeland."),
    (1, "1 Bakgrunn"),
    ("p", "Formannskapet vedtok 3. mai 2023 å samle Heggsund folkebibliotek, "
          "servicetorget og Heggsund frivilligsentral i ett innbyggerhus i "
          "Storgata 14. Ombyggingen er i rute, og huset skal åpne 26. august "
          "2024. Denne handlingsplanen beskriver hvordan tjenestene skal "
          "utvikles de to første driftsårene."),
    (1, "2 Mål"),
    (2, "2.1 Hovedmål"),
    ("p", "Innbyggerne i Heggsund skal få hjelp med det meste på ett sted. "
          "Innen utgangen av 2025 skal minst 80 prosent av henvendelsene til "
          "servicetorget løses i første kontakt."),
    (2, "2.2 Delmål"),
    ("liste", [
        "Besøket i innbyggerhuset skal være minst 25 prosent høyere enn det "
        "samlede besøket på de tre gamle stedene i 2023.",
        "Antall registrerte frivillige skal øke fra 110 til 150.",
        "Alle ansatte i innbyggerhuset skal kunne gi grunnleggende digital "
        "veiledning innen 1. mars 2025.",
        "Ventetiden på telefon skal ikke overstige tre minutter i gjennomsnitt.",
    ]),
    (1, "3 Tiltak"),
    (2, "3.1 Bibliotek"),
    (3, "Tiltak B1 Meråpent bibliotek"),
    ("p", "Biblioteket utvides med meråpent tilbud alle dager kl. 07–23. "
          "Innbyggere over 15 år kan få adgang med lånekort og PIN-kode."),
    ("p", "Ansvarlig: Hilde Stakkeland. Frist: 26. august 2024."),
    (3, "Tiltak B2 Språkkafé"),
    ("p", "Språkkafé for voksne som lærer norsk, hver tirsdag kl. 17–19, i "
          "samarbeid med frivilligsentralen."),
    ("p", "Ansvarlig: Geir Haugland. Frist: 15. oktober 2024."),
    (2, "3.2 Servicetorg"),
    (3, "Tiltak S1 Digihjelp"),
    ("p", "Fast tilbud om hjelp med digitale tjenester (elektronisk ID, "
          "offentlige søknader og nettbank) tirsdager og torsdager kl. 10–14."),
    ("p", "Ansvarlig: Ahmed Karimi. Frist: 1. november 2024."),
    (3, "Tiltak S2 Felles sentralbord"),
    ("p", "Ett telefonnummer for bibliotek, servicetorg og frivilligsentral, "
          "med felles kø og tilbakeringing."),
    ("p", "Ansvarlig: Eirik Dahle. Frist: 31. desember 2024."),
    (2, "3.3 Frivillighet"),
    (3, "Tiltak F1 Frivillighetsbørs"),
    ("p", "En årlig frivillighetsbørs der lag og foreninger presenterer seg, "
          "første gang lørdag 5. oktober 2024."),
    ("p", "Ansvarlig: Solveig Nyhus. Frist: 5. oktober 2024."),
    (3, "Tiltak F2 Rekruttering av frivillige"),
    ("p", "Rekruttere 40 nye frivillige innen utgangen av 2025, blant annet "
          "gjennom samarbeid med Heggsund videregående skole."),
    ("p", "Ansvarlig: Solveig Nyhus. Frist: 31. desember 2025."),
    (2, "3.4 Felles tiltak"),
    (3, "Tiltak O1 Brukerundersøkelse"),
    ("p", "En brukerundersøkelse blant besøkende gjennomføres våren 2025. "
          "Resultatene legges fram for formannskapet."),
    ("p", "Ansvarlig: Linnea Brekke. Frist: 30. april 2025."),
    (1, "4 Økonomi"),
    ("p", "Driftsbudsjettet for innbyggerhuset er 11,2 millioner kroner i "
          "2025. Tiltakene B1, B2, S1, F1, F2 og O1 dekkes innenfor rammen. "
          "Tiltak S2 krever en engangsinvestering på 350 000 kroner til nytt "
          "telefonsystem."),
    (1, "5 Oppfølging og rapportering"),
    ("p", "Prosjektleder rapporterer status til styringsgruppen hver måned. "
          "Formannskapet får en skriftlig rapport to ganger i året, i juni og "
          "desember."),
    ("p", "Samarbeidspartnere i planperioden:"),
    ("liste", [
        "Brattmo kommune og Kvitlia kommune (regionalt biblioteksamarbeid)",
        "Heggsund pensjonistforening",
        "Heggsund Røde Kors",
        "Ungdomsrådet i Heggsund",
        "Heggsund videregående skole",
    ]),
]


def lag_handlingsplan(sti: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.style import (ListLevelProperties, ParagraphProperties, Style,
                           TextProperties)
    from odf.text import H, List, ListItem, ListLevelStyleBullet, ListStyle, P

    doc = OpenDocumentText()
    standard = Style(name="Standard", family="paragraph")
    standard.addElement(TextProperties(fontsize="11pt", fontname="Liberation Sans"))
    doc.styles.addElement(standard)
    tekst = Style(name="Text_20_body", displayname="Text body", family="paragraph",
                  parentstylename="Standard")
    tekst.addElement(ParagraphProperties(marginbottom="0.25cm"))
    doc.styles.addElement(tekst)
    tittel = Style(name="Title", family="paragraph", parentstylename="Standard")
    tittel.addElement(TextProperties(fontsize="20pt", fontweight="bold"))
    doc.styles.addElement(tittel)
    overskrifter = {}
    for nivaa, storrelse in ((1, "16pt"), (2, "13pt"), (3, "12pt")):
        s = Style(name=f"Heading_20_{nivaa}", displayname=f"Heading {nivaa}",
                  family="paragraph", parentstylename="Standard",
                  defaultoutlinelevel=str(nivaa))
        s.addElement(TextProperties(fontsize=storrelse, fontweight="bold"))
        s.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
        doc.styles.addElement(s)
        overskrifter[nivaa] = s
    punktstil = ListStyle(name="Punktliste")
    niva1 = ListLevelStyleBullet(level="1", bulletchar="•")
    niva1.addElement(ListLevelProperties(spacebefore="0.6cm", minlabelwidth="0.5cm"))
    punktstil.addElement(niva1)
    doc.automaticstyles.addElement(punktstil)

    for art, innhold in HANDLINGSPLAN:
        if art == "tittel":
            doc.text.addElement(P(stylename=tittel, text=innhold))
        elif art == "p":
            doc.text.addElement(P(stylename=tekst, text=innhold))
        elif art == "liste":
            liste = List(stylename=punktstil)
            for punkt in innhold:
                element = ListItem()
                element.addElement(P(stylename=tekst, text=punkt))
                liste.addElement(element)
            doc.text.addElement(liste)
        else:
            doc.text.addElement(H(outlinelevel=art, stylename=overskrifter[art],
                                  text=innhold))

    from odf.dc import Creator, Date, Title
    from odf.meta import CreationDate
    doc.meta.addElement(Title(text="Handlingsplan for Innbyggerhus Heggsund 2024–2025"))
    doc.meta.addElement(Creator(text="Hilde Stakkeland"))
    doc.meta.addElement(CreationDate(text="2024-06-05T09:00:00"))
    doc.meta.addElement(Date(text="2024-06-13T14:00:00"))
    doc.save(str(sti))


# ---------------------------------------------------------------------------
# 5. Orientering for formannskapet (PPTX)
# ---------------------------------------------------------------------------

LYSBILDER = [
    ("Innbyggerhus Heggsund – status",
     ["Orientering for formannskapet 22. oktober 2024",
      "Hilde Stakkeland, prosjektleder"], None),
    ("Innbyggerhuset er åpnet",
     ["Åpnet for publikum 26. august 2024 – før fristen 1. september",
      "Bibliotek, servicetorg og frivilligsentral under ett tak i Storgata 14",
      "Meråpent bibliotek alle dager kl. 07–23",
      "Ombyggingen ble overlevert 15. august 2024"],
     "Den offisielle åpningen ble foretatt av ordfører Ragnhild Sæbø. Om lag "
     "650 personer var innom på åpningsdagen, og barnekoret fra Heggsund skole "
     "sang."),
    ("Besøk og bruk de første ukene",
     ["14 870 besøkende fra åpningen til 30. september",
      "5 930 henvendelser til servicetorget",
      "38 arrangementer, blant annet språkkafé og Digihjelp",
      "Flest besøk på torsdager"],
     "Tallene er fra dørtelleren ved hovedinngangen. Om lag en firedel av "
     "besøkene skjer i meråpen tid, når huset er ubetjent."),
    ("Økonomi",
     ["Investeringsramme: 18,4 mill. kr",
      "Prognose: 19,1 mill. kr",
      "Forventet overskridelse: 0,7 mill. kr",
      "Driftsbudsjett 2025: 11,2 mill. kr"],
     "Overskridelsen skyldes i hovedsak at ventilasjonsanlegget i kjelleren "
     "måtte skiftes ut. Det ble oppdaget under rivearbeidet i januar 2024. "
     "Kommunedirektøren vil legge fram en sak om tilleggsbevilgning i "
     "november."),
    ("Regionalt biblioteksamarbeid",
     ["Brattmo, Heggsund og Kvitlia: felles bibliotekssystem fra 1. januar 2024",
      "Ett lånekort gjelder i alle tre kommunene",
      "Felles bokbuss med Kvitlia som vertskommune",
      "Utlån på tvers av kommunene: 2 340 bøker hittil i 2024"],
     "Bokbussen kommer til Heggsund annenhver onsdag og stopper ved Heggsund "
     "skole og Fjellstua omsorgssenter."),
    ("Utfordringer",
     ["Ventetid på telefon: i snitt 4,5 minutter (mål: under 3)",
      "For få parkeringsplasser ved Storgata 14",
      "Rekruttering av frivillige: 22 av 40 nye frivillige så langt"],
     "Eiendomsavdelingen undersøker om kommunen kan leie 15 parkeringsplasser "
     "bak samfunnshuset fra nyttår."),
    ("Videre arbeid",
     ["Felles sentralbord innen 31. desember 2024",
      "Brukerundersøkelse våren 2025",
      "Neste orientering for formannskapet: mars 2025"], None),
    ("Spørsmål?",
     ["Kontakt: Hilde Stakkeland, prosjektleder for Innbyggerhus Heggsund"], None),
]


def lag_presentasjon(sti: Path) -> None:
    from pptx import Presentation

    prs = Presentation()
    for i, (tittel, punkter, notat) in enumerate(LYSBILDER):
        if i == 0:
            lysbilde = prs.slides.add_slide(prs.slide_layouts[0])
            lysbilde.shapes.title.text = tittel
            lysbilde.placeholders[1].text = "\n".join(punkter)
        else:
            lysbilde = prs.slides.add_slide(prs.slide_layouts[1])
            lysbilde.shapes.title.text = tittel
            ramme = lysbilde.placeholders[1].text_frame
            ramme.text = punkter[0]
            for punkt in punkter[1:]:
                ramme.add_paragraph().text = punkt
        if notat:
            lysbilde.notes_slide.notes_text_frame.text = notat
    kp = prs.core_properties
    kp.title = "Innbyggerhus Heggsund – status"
    kp.author = "Hilde Stakkeland"
    kp.last_modified_by = "Hilde Stakkeland"
    kp.created = dt.datetime(2024, 10, 15, 9, 0, 0)
    kp.modified = dt.datetime(2024, 10, 21, 15, 30, 0)
    kp.revision = 3
    prs.save(sti)


# ---------------------------------------------------------------------------

def faste_tidsstempler(sti: Path, endret: str) -> None:
    """Skriver zip-fila på nytt med faste tidsstempler (samme rekkefølge og komprimering)."""
    with zipfile.ZipFile(sti) as z:
        innhold = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(sti, "w") as z:
        for info, data in innhold:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                              rb"\g<1>" + endret.encode() + rb"\2", data)
            ny = zipfile.ZipInfo(info.filename, date_time=FAST_TID)
            ny.compress_type = info.compress_type
            ny.external_attr = 0o644 << 16
            z.writestr(ny, data)


def main() -> None:
    lag_protokoll(HER / "protokoll-skannet.pdf")
    lag_bemanning(HER / "bemanning.xlsx")
    lag_statistikk(HER / "statistikk.csv")
    lag_handlingsplan(HER / "handlingsplan.odt")
    lag_presentasjon(HER / "orientering-formannskapet.pptx")
    faste_tidsstempler(HER / "bemanning.xlsx", "2024-09-02T08:00:00Z")
    faste_tidsstempler(HER / "handlingsplan.odt", "")
    faste_tidsstempler(HER / "orientering-formannskapet.pptx", "2024-10-21T15:30:00Z")
    print("Skrev filene i", HER)


if __name__ == "__main__":
    main()
