"""Generate a deterministic Norwegian corpus for the ingest benchmark.

Markdown files of ten «pages» each (a page is one ``##`` section of 2,500–3,000
characters with a ``###`` subsection and a bullet list), written in the style of
the bundled project report from a small bokmål vocabulary. Same seed, same bytes.

    python scripts/make_corpus.py OUT_DIR --pages 1000
"""
from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

PAGE_CHARS = (2500, 3000)
PAGES_PER_FILE = 10

# --- vocabulary -------------------------------------------------------------------------

PLACES = [
    "Drammen", "Mysen", "Askim", "Svelvik", "Mjøndalen", "Larvik", "Holmestrand", "Kongsberg",
    "Asker", "Heggedal", "Slemmestad", "Sætre", "Skjønhaug", "Hokksund", "Tønsberg", "Sandefjord",
    "Horten", "Moss", "Sarpsborg", "Fredrikstad", "Halden", "Hønefoss", "Gjøvik", "Hamar",
    "Lillehammer", "Elverum", "Kongsvinger", "Notodden", "Skien", "Porsgrunn", "Arendal", "Grimstad",
    "Kristiansand", "Mandal", "Egersund", "Stavanger", "Haugesund", "Stord", "Voss", "Førde",
]
THEMES = [
    "Samorganisering og samlokalisering", "Ulike roller på samme møteplass", "Stedsutvikling",
    "Tjenestedesign i publikumstjenestene", "Frivillighet og lokalsamfunn", "Digital inkludering",
    "Åpne bibliotek og meråpne tider", "Kompetanseheving for ansatte", "Brukermedvirkning",
    "Arrangementer og formidling", "Innbyggerdialog", "Samarbeid med skoler", "Lokaler og inventar",
    "Veiledning i offentlige tjenester", "Lesestimulering for barn og unge", "Kultur og møteplass",
    "Nye arbeidsformer", "Evaluering og måling", "Kommunikasjon og synlighet", "Ledelse og styring",
]
SERVICES = [
    "biblioteket", "innbyggertorget", "servicetorget", "frivilligsentralen", "kulturskolen",
    "helsestasjonen for ungdom", "NAV-kontoret", "flyktningtjenesten", "skattekontoret",
    "ungdomsklubben", "voksenopplæringen", "seniorsenteret", "turistinformasjonen",
]
ACTORS = [
    "prosjektgruppa", "styringsgruppa", "arbeidsgruppa", "de ansatte", "bibliotekarene",
    "veilederne på innbyggertorget", "avdelingslederne", "tjenestedesignerne", "prosjektlederen",
    "prosjektkoordinatorene", "fylkesbiblioteket", "kommunedirektøren", "de frivillige",
    "brukerrådet", "ungdomsrådet", "eldrerådet",
]
USERS = [
    "innbyggerne", "brukerne", "barnefamiliene", "de eldre", "ungdommene", "studentene",
    "nyankomne flyktninger", "arbeidssøkerne", "pendlerne", "lag og foreninger", "skoleklassene",
    "de som mangler digital kompetanse",
]
ACTIVITIES = [
    "veiledning i digitale tjenester", "språkkafé", "leksehjelp", "strikkekafé", "foredrag",
    "lesesirkel", "dataklubb for seniorer", "skrivekurs", "forfatterbesøk", "konserter",
    "utstillinger", "åpen verksted", "hjelp med skattemeldingen", "søknad om bostøtte",
    "bytte av førerkort", "utlån av verktøy", "spillkveld", "sommerles", "pass og ID",
]
METHODS = [
    "brukerreiser", "intervjuer", "workshops", "spørreundersøkelser", "observasjon",
    "hospitering", "prototyping", "stedsanalyse", "kartlegging av arbeidsoppgaver",
    "felles opplæring", "rolleavklaringer", "månedlige fagmøter", "tjenestekart",
]
QUALITIES = [
    "tydelig", "fleksibel", "inkluderende", "helhetlig", "forutsigbar", "tilgjengelig",
    "effektiv", "trygg", "åpen", "lokal", "felles", "bærekraftig",
]
FINDINGS = [
    "samlokalisering alene ikke gir samorganisering",
    "felles opplæring gjør det lettere å hjelpe hverandre",
    "brukerne skiller sjelden mellom biblioteket og innbyggertorget",
    "skilting og plassering av skranker betyr mye for hvem som blir hjulpet",
    "ansatte trenger tid til å bli kjent med hverandres fagfelt",
    "lange åpningstider øker bruken blant pendlere",
    "frivillige tilbud fyller rommene på ettermiddagen",
    "en felles ledelse gjør det enklere å prioritere",
    "digitale tjenester krever mer veiledning enn forventet",
    "lokalene må tåle både stillhet og aktivitet",
    "samarbeid med skolene gir nye brukergrupper",
    "måling av besøk alene sier lite om kvaliteten i tilbudet",
]
MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"]
SEASONS = ["våren", "sommeren", "høsten", "vinteren"]

SENTENCES = [
    "{actor_cap} i {place} har arbeidet med {method} for å gi {users} et bedre tilbud ved {service}.",
    "I {place} ble {service} og {service2} samlokalisert {season} {year}.",
    "Erfaringene fra {place} viser at {finding}.",
    "Vi har sett at {finding}, særlig når {users} kommer innom på ettermiddagen.",
    "{users_cap} etterspør {activity} og {activity2}, og tilbudet i {place} er derfor utvidet.",
    "Gjennom {method} fikk {actor} innsikt i hva {users} trenger fra {service}.",
    "Det ble gjennomført {number} {method} i perioden {month} {year} til {month2} {year2}.",
    "Totalt deltok {number} ansatte fra {service} og {service2} i arbeidet.",
    "En viktig forutsetning var at {actor} fikk tid og rom til å prøve ut nye arbeidsformer.",
    "{actor_cap} anbefaler at andre kommuner starter med {method} før de flytter sammen.",
    "Besøkstallet økte med {percent} prosent etter at {service} fikk {quality} åpningstid.",
    "Tilbudet om {activity} i {place} samlet i snitt {number} deltakere hver uke.",
    "Når {service} og {service2} deler skranke, må rollefordelingen være {quality} for både ansatte og brukere.",
    "I {month} {year} la {actor} fram en rapport om {theme_lower}.",
    "Målet var at {users} skulle få {quality} og {quality2} hjelp på ett sted.",
    "{actor_cap} påpekte at {finding}.",
    "Et av funnene var at {users} ofte kommer for {activity}, men blir værende for {activity2}.",
    "Prosjektet har hatt kontakt med {place} kommune, som har organisert {service} på en annen måte.",
    "Ved {service} i {place} er det ansatt {number} medarbeidere i {percent} % stilling.",
    "Det viste seg at {method} ga bedre svar enn {method2} når vi ville forstå {users}.",
    "Lokalene i {place} ble bygget om {season} {year}, med egne soner for {activity} og {activity2}.",
    "Uten en {quality} ledelse blir samarbeidet mellom {service} og {service2} sårbart.",
    "{users_cap} i {place} ga tilbakemelding om at de ønsker mer {activity}.",
    "Vi har brukt {method} som metode for å kartlegge hvordan {service} brukes i {place}.",
    "Erfaringen er at {actor} må forankre endringene tidlig, ellers stopper arbeidet opp.",
    "Arbeidet med {theme_lower} i {place} startet {season} {year} og ble avsluttet i {month2} {year2}.",
    "For {users} er det viktig at hjelpen ved {service} er {quality} og lett å finne fram til.",
    "Både {actor} og {actor2} har vært involvert i planleggingen av {activity}.",
]
LIST_INTROS = [
    "Dette har vi prøvd ut i {place}:", "Tiltakene som ble gjennomført:", "Vi anbefaler følgende:",
    "Dette sa brukerne i {place}:", "Erfaringer fra arbeidsgruppa:", "Dette bør andre kommuner vurdere:",
]
LIST_ITEMS = [
    "{activity_cap} for {users} i {place}",
    "{method_cap} sammen med {actor}",
    "Felles skranke for {service} og {service2}",
    "{quality_cap} skilting i hele bygget",
    "{activity_cap} hver {weekday}",
    "Opplæring i {activity} for de ansatte ved {service}",
    "Egne møter mellom {actor} og {actor2}",
    "Evaluering av {activity} etter {number} uker",
]
HEADINGS = [
    "Erfaringer fra {place}", "{activity_cap} i {place}", "Samarbeid mellom {service} og {service2}",
    "Hvordan {users} bruker {service}", "Metode: {method}", "Organisering i {place}",
    "Roller og ansvar ved {service}", "Funn fra {season} {year}", "Lokaler og møteplass i {place}",
]
SUBHEADINGS = ["Tiltak", "Funn", "Anbefalinger", "Tilbakemeldinger", "Veien videre", "Erfaringer", "Status"]
PAIRED_SLOTS = {"service": SERVICES, "actor": ACTORS, "activity": ACTIVITIES, "method": METHODS, "quality": QUALITIES}
WEEKDAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"]


@dataclass(frozen=True)
class CorpusStats:
    files: int
    pages: int
    chars: int
    words: int


class _Writer:
    """Fills templates from the vocabulary with one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def fill(self, template: str, theme: str) -> str:
        pick = self.rng.choice
        year = self.rng.randint(2019, 2023)
        slots = {
            "place": pick(PLACES), "users": pick(USERS), "finding": pick(FINDINGS),
            "month": pick(MONTHS), "month2": pick(MONTHS),
            "season": pick(SEASONS), "year": year, "year2": year + self.rng.randint(0, 1),
            "number": self.rng.randint(2, 40), "percent": self.rng.choice([20, 25, 40, 50, 60, 80, 100]),
            "weekday": pick(WEEKDAYS), "theme_lower": theme.lower(),
        }
        for key, words in PAIRED_SLOTS.items():  # "{service} og {service2}" names two different ones
            slots[key], slots[f"{key}2"] = self.rng.sample(words, 2)
        for key in ("actor", "users", "activity", "method", "quality"):
            slots[f"{key}_cap"] = slots[key][0].upper() + slots[key][1:]
        return template.format(**slots)

    def paragraph(self, theme: str) -> str:
        count = self.rng.randint(3, 6)
        return " ".join(self.fill(self.rng.choice(SENTENCES), theme) for _ in range(count))

    def bullet_list(self, theme: str) -> str:
        intro = self.fill(self.rng.choice(LIST_INTROS), theme)
        items = [f"- {self.fill(self.rng.choice(LIST_ITEMS), theme)}" for _ in range(self.rng.randint(4, 7))]
        return intro + "\n\n" + "\n".join(items)

    def page(self, theme: str) -> str:
        """One ``##`` section: paragraphs, a ``###`` subsection with a list, then closing
        paragraphs grown sentence by sentence until the page reaches its drawn size."""
        target = self.rng.randint(PAGE_CHARS[0], PAGE_CHARS[1] - 150)  # the last sentence may overshoot
        blocks = [
            f"## {self.fill(self.rng.choice(HEADINGS), theme)}",
            self.paragraph(theme),
            self.paragraph(theme),
            f"### {self.rng.choice(SUBHEADINGS)}",
            self.bullet_list(theme),
        ]
        closing: list[str] = []
        while len(text := "\n\n".join(blocks + _paragraphs(closing))) < target:
            closing.append(self.fill(self.rng.choice(SENTENCES), theme))
        return text


def _paragraphs(sentences: list[str], per_paragraph: int = 4) -> list[str]:
    return [" ".join(sentences[i:i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)]


def write_corpus(folder: Path, pages: int, *, seed: int = 2023, pages_per_file: int = PAGES_PER_FILE) -> CorpusStats:
    """Write ``pages`` pages as Markdown files of ``pages_per_file`` pages into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(seed)
    files = chars = words = 0
    for number, start in enumerate(range(0, pages, pages_per_file), 1):
        theme = THEMES[(number - 1) % len(THEMES)]
        place = PLACES[(number * 7) % len(PLACES)]
        title = f"# {theme} i {place}"
        intro = writer.paragraph(theme)
        body = [writer.page(theme) for _ in range(min(pages_per_file, pages - start))]
        text = "\n\n".join([title, intro, *body]) + "\n"
        (folder / f"kapittel-{number:03d}.md").write_text(text, encoding="utf-8")
        files += 1
        chars += len(text)
        words += len(text.split())
    return CorpusStats(files=files, pages=pages, chars=chars, words=words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write the Markdown files into (created if missing)")
    parser.add_argument("--pages", type=int, default=1000, help="number of pages (default 1000)")
    parser.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")
    args = parser.parse_args(argv)
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    stats = write_corpus(args.out, args.pages, seed=args.seed)
    print(
        f"Wrote {stats.files} files, {stats.pages} pages, {stats.chars:,} characters "
        f"({stats.chars / stats.pages:,.0f} per page), {stats.words:,} words to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
