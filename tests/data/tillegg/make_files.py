"""Generate the fictional supplementary test documents in this folder.

Fiktivt testmateriale – alle navn og steder er oppdiktet.

Writes, next to this script:
  - fjordvik-artikkel.html       (news-style HTML article with one table)
  - heias-program.docx           (project plan, Heading 1/2/3, bullet lists, one table)
  - veileder-samlokalisering.pdf (3-page guide with real, extractable text)

The other files in the folder (notat-styringsmote.txt, brukerundersokelse.md,
deltakere-tillegg.yaml, README.md) are written by hand and are not touched here.

Dependencies (install into a throw-away venv, NOT the project venv):
    python3 -m venv /tmp/gen-venv
    /tmp/gen-venv/bin/pip install fpdf2 python-docx
    # optional, for checking the PDF text: /tmp/gen-venv/bin/pip install pypdf
The PDF uses the DejaVu Sans TTF font for æøå (Debian/Ubuntu: apt-get install fonts-dejavu-core);
override the location with the environment variable DEJAVU_DIR.

Run:
    /tmp/gen-venv/bin/python tests/data/tillegg/make_files.py
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
FICTION = "Fiktivt testmateriale – alle navn og steder er oppdiktet."


# --------------------------------------------------------------------------- HTML

def write_html(path: Path) -> None:
    rows = [
        ("September 2024", "6 120", "1 340"),
        ("Oktober 2024", "7 480", "1 210"),
        ("November 2024", "7 950", "1 105"),
        ("Desember 2024", "5 310", "860"),
        ("Januar 2025", "8 240", "1 470"),
        ("Februar 2025", "8 015", "1 290"),
    ]
    table_rows = "\n".join(
        f"        <tr><td>{html.escape(m)}</td><td>{b}</td><td>{h}</td></tr>" for m, b, h in rows
    )
    services = [
        "utlån av bøker, lydbøker og film",
        "hjelp med digitale skjemaer og BankID",
        "veiledning om byggesak og eiendomsskatt",
        "utleie av møterom",
        "kopiering og utskrift",
    ]
    service_items = "\n".join(f"      <li>{html.escape(s)}</li>" for s in services)
    doc = f"""<!DOCTYPE html>
<html lang="nb">
<head>
  <meta charset="utf-8">
  <title>Bibliotek og servicekontor under samme tak i Fjordvik</title>
</head>
<body>
  <article>
    <p class="fiksjon"><strong>{FICTION}</strong></p>
    <h1>Bibliotek og servicekontor under samme tak i Fjordvik</h1>
    <p class="byline">Av Ragnhild Seim, Fjordvik-posten. Publisert 10. mars 2025.</p>
    <p class="ingress">Et halvt år etter åpningen har Fjordvik innbyggerhus blitt kommunens mest besøkte møteplass. Her deler Fjordvik bibliotek og servicekontoret skranke, lokaler og ansatte.</p>

    <h2>Fra analyse til vedtak</h2>
    <p>Før politikerne tok stilling, bestilte Fjordvik kommune en behovsanalyse fra firmaet Kvitberg Analyse AS. Analysen ble levert 20. oktober 2023 og kostet 420 000 kroner.</p>
    <p>Kvitberg Analyse AS anbefalte én felles skranke for bibliotek og servicekontor, meråpent bibliotek og flytting til det tidligere sparebankbygget i Strandgata 4.</p>
    <p>Kommunestyret i Fjordvik vedtok samlokaliseringen 12. desember 2023. Arbeidet har siden vært ledet av Sindre Vollan, som er enhetsleder for innbyggerservice.</p>
    <p>– Analysen ga oss et felles kunnskapsgrunnlag. Uten den hadde vi brukt mye lengre tid på å bli enige, sier Vollan.</p>

    <h2>Seminar med 85 deltakere</h2>
    <p>Seminaret «Ett hus – mange tjenester» ble arrangert av Kystbyenes bibliotekforum 14. mars 2024 på Fjordvik hotell. Det kom 85 deltakere fra 11 kommuner.</p>
    <p>Daglig leder Halvard Myrseth i Kystbyenes bibliotekforum åpnet seminaret. Biblioteksjef Torill Aasheim fortalte om hvordan de ansatte i Fjordvik bibliotek forberedte seg på å svare på spørsmål om kommunale tjenester.</p>

    <h2>Åpnet 2. september 2024</h2>
    <p>Fjordvik innbyggerhus åpnet 2. september 2024 i det tidligere sparebankbygget i Strandgata 4. Lokalene er på 1 450 kvadratmeter, og ombyggingen kostet 18,5 millioner kroner.</p>
    <p>I innbyggerhuset jobber 14 ansatte: ni fra biblioteket og fem fra servicekontoret.</p>
    <p>Innbyggerhuset tilbyr disse tjenestene:</p>
    <ul>
{service_items}
    </ul>
    <p>Betjent åpningstid er mandag–fredag kl. 10–18 og lørdag kl. 10–15. Med meråpent bibliotek kan innbyggere over 15 år bruke lokalene fra kl. 07 til 22 alle dager.</p>

    <h2>Besøkstall de første månedene</h2>
    <p>Tabellen viser antall besøkende i innbyggerhuset og antall henvendelser til servicekontoret per måned etter åpningen.</p>
    <table>
      <thead>
        <tr><th>Måned</th><th>Besøkende</th><th>Henvendelser til servicekontoret</th></tr>
      </thead>
      <tbody>
{table_rows}
      </tbody>
    </table>

    <h2>Veien videre</h2>
    <p>I januar 2025 ble det gjennomført en brukerundersøkelse blant dem som bruker innbyggerhuset. Kommunen skal evaluere hele ordningen høsten 2025.</p>
    <p>– Vi er ikke i mål. Mange vet fortsatt ikke at servicekontoret har flyttet, sier biblioteksjef Torill Aasheim.</p>
  </article>
</body>
</html>
"""
    path.write_text(doc, encoding="utf-8")


# --------------------------------------------------------------------------- DOCX

def write_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    cp = doc.core_properties
    cp.title = "Heiås kommune – prosjektplan"
    cp.author = "Heiås kommune (fiktiv)"
    cp.subject = FICTION
    fixed = _dt.datetime(2025, 2, 10, 12, 0, 0)
    cp.created = fixed
    cp.modified = fixed
    cp.last_modified_by = "make_files.py"
    cp.revision = 3

    def para(text: str, italic: bool = False) -> None:
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.italic = italic

    def bullets(items: list[str]) -> None:
        for item in items:
            doc.add_paragraph(item, style="List Bullet")

    doc.add_heading("Heiås kommune – prosjektplan", level=1)
    para(FICTION, italic=True)
    para("Prosjekt «Møteplass Heiås» – samlokalisering av Heiås bibliotek og Servicetorget "
         "i Heiås kulturhus. Versjon 3, revidert 10. februar 2025.")

    doc.add_heading("Bakgrunn og mål", level=2)
    para("Heiås kommune skal samle Heiås bibliotek og Servicetorget i første etasje i Heiås kulturhus. "
         "Prosjektet «Møteplass Heiås» varer fra januar 2024 til desember 2025.")
    para("Prosjektet har fire mål:")
    bullets([
        "Innbyggerne skal få svar på de vanligste spørsmålene ved én felles skranke.",
        "Ansatte i biblioteket og på Servicetorget skal kunne avlaste hverandre.",
        "Kulturhuset skal bli en møteplass som er åpen også på kveldstid.",
        "Erfaringene skal deles med andre kommuner i Fjellmark.",
    ])

    doc.add_heading("Organisering", level=2)
    para("Prosjektet er delt i to delprosjekter med hver sin delprosjektleder. I tillegg er det to "
         "arbeidsgrupper, en referansegruppe og to brukerrepresentanter. Referansegruppa møtes fire ganger i året.")

    doc.add_heading("Oppdragsgiver", level=3)
    bullets(["Randi Hagevik – Kommunalsjef, Kultur og innbyggertjenester, Heiås kommune"])

    doc.add_heading("Delprosjektledere", level=3)
    bullets([
        "Delprosjekt 1 «Felles skranke»: Solveig Tangen – Biblioteksjef, Heiås bibliotek",
        "Delprosjekt 2 «Lokaler og inventar»: Arild Kvamsdal – Enhetsleder, Eiendom (januar–august 2024)",
        "Delprosjekt 2 «Lokaler og inventar»: Marit Haugsrud – Rådgiver, Eiendom "
        "(fra september 2024, overtok etter Arild Kvamsdal)",
    ])

    doc.add_heading("Arbeidsgrupper", level=3)
    bullets([
        "Arbeidsgruppe opplæring: Even Storli – Konsulent, Servicetorget (leder fra mars 2024)",
        "Arbeidsgruppe kommunikasjon: Nora Bakkerud – Kommunikasjonsrådgiver, Kommunikasjonsavdelingen",
    ])

    doc.add_heading("Tjenestedesign og innleid kompetanse", level=3)
    bullets([
        "Tjenestedesigner: Henrik Solbakken – Digitaliseringsenheten (januar–juni 2024, sluttet i kommunen)",
        "Tjenestedesigner: Aud Fossheim – Digitaliseringsenheten (fra august 2024)",
        "Innleid konsulent: Tobias Wenger – Seniorrådgiver, Fjellbekk Rådgivning AS (oktober 2024 – mars 2025)",
    ])

    doc.add_heading("Referansegruppe", level=3)
    bullets([
        "Gunnar Lerstad – Leder, Heiås eldreråd",
        "Tone Brekkestø – Daglig leder, Heiås frivilligsentral",
        "Sigrid Holte – Rektor, Heiås ungdomsskole (fra januar 2025)",
    ])

    doc.add_heading("Brukerrepresentanter", level=3)
    bullets([
        "Amir Haddad – Heiås ungdomsråd",
        "Eli Furuseth – Rådet for personer med funksjonsnedsettelse (til 30. juni 2025)",
    ])

    doc.add_heading("Verneombud", level=3)
    bullets([
        "Even Storli – Konsulent, Servicetorget (verneombud for Servicetorget i hele prosjektperioden)",
    ])
    para("Even Storli har dermed to roller i prosjektet: han er verneombud og leder arbeidsgruppa for opplæring.")

    doc.add_heading("Fremdriftsplan", level=2)
    para("Prosjektet gjennomføres i fem faser. Tabellen viser periode og ansvarlig for hver fase.")
    phases = [
        ("Fase", "Periode", "Ansvarlig"),
        ("1. Forprosjekt og behovskartlegging", "januar – april 2024", "Solveig Tangen"),
        ("2. Ombygging av lokaler", "mai 2024 – februar 2025", "Arild Kvamsdal, deretter Marit Haugsrud"),
        ("3. Opplæring av ansatte", "november 2024 – mars 2025", "Even Storli"),
        ("4. Prøvedrift", "april – august 2025", "Solveig Tangen"),
        ("5. Evaluering og sluttrapport", "september – desember 2025", "Aud Fossheim"),
    ]
    table = doc.add_table(rows=len(phases), cols=3)
    table.style = "Table Grid"
    for r, row in enumerate(phases):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True

    doc.add_heading("Budsjett og finansiering", level=2)
    para("Prosjektets samlede budsjett er 3,4 millioner kroner. Fjellmark fylkeskommune bidrar med "
         "1,2 millioner kroner i utviklingsmidler. Resten dekkes av Heiås kommune.")

    doc.add_heading("Aktiviteter", level=2)
    bullets([
        "Studietur til Fjordvik innbyggerhus i oktober 2024.",
        "To innbyggerverksteder ledet av tjenestedesigner, i juni 2024 og februar 2025.",
        "Felles personalmøter for bibliotek og Servicetorget én gang i måneden.",
        "Nyhetsbrev til alle ansatte i kultur og innbyggertjenester hvert kvartal.",
    ])

    doc.add_heading("Risiko", level=2)
    bullets([
        "Forsinket ombygging kan utsette åpningen.",
        "Ansatte kan oppleve at kryssopplæringen kommer i tillegg til ordinære oppgaver.",
        "Innbyggere som ikke bruker biblioteket, kan ha vanskelig for å finne Servicetorget.",
    ])

    doc.save(path)


# --------------------------------------------------------------------------- PDF

def _font_dir() -> Path:
    candidates = [os.environ.get("DEJAVU_DIR", ""), "/usr/share/fonts/truetype/dejavu",
                  "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF"]
    for c in candidates:
        if c and (Path(c) / "DejaVuSans.ttf").is_file():
            return Path(c)
    raise SystemExit("DejaVuSans.ttf not found; install fonts-dejavu-core or set DEJAVU_DIR")


def write_pdf(path: Path) -> None:
    from fpdf import FPDF

    fonts = _font_dir()

    class Guide(FPDF):
        def footer(self) -> None:  # noqa: D401
            self.set_y(-15)
            self.set_font("DejaVu", size=8)
            self.cell(0, 8, f"Fiktivt testmateriale · Fjellmark fylkesbibliotek · side {self.page_no()} av 3",
                      align="C")

    pdf = Guide(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    bold = fonts / "DejaVuSans-Bold.ttf"
    pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else fonts / "DejaVuSans.ttf"))
    pdf.set_title("Veileder: Samlokalisering av bibliotek og innbyggertorg")
    pdf.set_author("Fjellmark fylkesbibliotek (fiktivt)")
    pdf.set_subject(FICTION)
    pdf.set_creation_date(_dt.datetime(2025, 5, 15, 12, 0, 0, tzinfo=_dt.timezone.utc))

    def h1(text: str) -> None:
        pdf.set_font("DejaVu", "B", 18)
        pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(3)

    def h2(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 14)
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)

    def h3(text: str) -> None:
        pdf.ln(1)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT", align="L")

    def p(text: str) -> None:
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)

    def items(lines: list[str], numbered: bool = False) -> None:
        pdf.set_font("DejaVu", "", 11)
        for i, line in enumerate(lines, 1):
            mark = f"{i}." if numbered else "•"
            pdf.set_x(25)
            pdf.multi_cell(0, 6, f"{mark} {line}", new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)

    # ---- page 1: planning
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, FICTION, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    h1("Veileder: Samlokalisering av bibliotek og innbyggertorg")
    p("Utgitt av Fjellmark fylkesbibliotek, mai 2025.")
    p("Veilederen bygger på erfaringene fra sju kommuner i Fjellmark som har samlokalisert "
      "bibliotek og innbyggertorg siden 2019.")
    h2("1 Planlegging")
    p("Sett av minst 12 måneder til planlegging før ombyggingen starter.")
    p("I de sju kommunene tok planleggingsfasen i snitt 14 måneder.")
    h3("Anbefalte steg")
    items([
        "Sørg for politisk forankring med et tydelig vedtak.",
        "Gjennomfør en behovsanalyse før lokalene velges.",
        "Involver ansatte, tillitsvalgte og verneombud fra starten.",
        "Planlegg én felles skranke med felles kø.",
        "La minst 40 prosent av publikumsarealet være fleksibel møteplass.",
    ], numbered=True)
    p("Den vanligste feilen er å planlegge lokalene før tjenestene. Bestem først hvilke "
      "tjenester som skal gis i skranken, og tilpass deretter rommene.")

    # ---- page 2: staff training and user survey
    pdf.add_page()
    h2("2 Opplæring av ansatte")
    p("Vi anbefaler minst 30 timer kryssopplæring per ansatt før åpning.")
    p("Da kan bibliotekansatte svare på de vanligste spørsmålene til innbyggertorget, og omvendt.")
    p("Fjellmark fylkesbibliotek arrangerte fire regionale kurssamlinger i 2024.")
    p("Kurset «Én skranke» ble ledet av rådgiver Kjersti Valand.")
    p("Til sammen 126 ansatte deltok på kurset.")
    h2("Brukerundersøkelse")
    p("Undersøkelsen ble gjennomført av Fjellmark høgskole.")
    p("Høgskolen samlet inn svarene i september og oktober 2024.")
    p("968 innbyggere svarte på undersøkelsen.")
    p("Disse sju kommunene var med i undersøkelsen:")
    items(["Storåsen", "Lindvik", "Brekkeby", "Solhaug", "Kvernvik", "Tindeland", "Moldås"])
    p("61 prosent ønsket lengre åpningstid.")
    p("47 prosent ønsket bedre hjelp med digitale tjenester.")

    # ---- page 3: evaluation
    pdf.add_page()
    h2("3 Evaluering")
    p("Evaluer samlokaliseringen etter 6 og 18 måneder.")
    p("Bruk de samme indikatorene begge gangene, slik at resultatene kan sammenlignes.")
    h3("Resultater fra de sju kommunene")
    p("Besøket økte i snitt med 23 prosent det første året.")
    p("Løst ved første kontakt økte fra 58 til 71 prosent.")
    p("Brukertilfredsheten var i snitt 5,1 på en skala fra 1 til 6.")
    p("Sykefraværet var uendret: 6,2 prosent før og etter.")
    h3("Anbefalte indikatorer")
    items([
        "besøkstall per måned",
        "antall henvendelser og andel løst ved første kontakt",
        "brukertilfredshet",
        "ansattes trivsel og sykefravær",
    ])
    p("Del resultatene med ansatte og politikere, og bruk dem når tjenestene justeres.")

    assert pdf.page_no() == 3, pdf.page_no()
    pdf.output(str(path))


def main() -> None:
    write_html(HERE / "fjordvik-artikkel.html")
    write_docx(HERE / "heias-program.docx")
    write_pdf(HERE / "veileder-samlokalisering.pdf")
    print("wrote fjordvik-artikkel.html, heias-program.docx, veileder-samlokalisering.pdf in", HERE)


if __name__ == "__main__":
    main()
