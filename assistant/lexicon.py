"""A small Norwegian lexicon: nynorsk and English words mapped to the bokmål words the
material uses, role vocabulary (leder/leiar/ledet, koordinerte, skrev …), question
words, and month and season names. Domain vocabulary only; nothing here names a
person, place or answer from the material.
"""
from __future__ import annotations

# Whole words or phrases (lower-case) → bokmål replacement, applied before analysis.
SYNONYMS: dict[str, str] = {
    # nynorsk
    "kven": "hvem", "kva": "hva", "kor": "hvor", "korleis": "hvordan", "kvifor": "hvorfor", "kvar": "hvor",
    "kva for": "hvilke", "kva slags": "hvilke", "når vart": "når ble", "vart": "ble", "ikkje": "ikke",
    "leiar": "leder", "leiarar": "ledere", "leia": "ledet", "leidde": "ledet", "prosjektleiar": "prosjektleder",
    "prosjektleiaren": "prosjektlederen", "prosjekteigar": "prosjekteier", "eigar": "eier",
    "tilsette": "ansatte", "tilsett": "ansatt", "deltakarane": "deltakerne", "deltakarar": "deltakere",
    "delte": "delt", "skreiv": "skrev", "forfattar": "forfatter", "forfattarar": "forfattere",
    "styringsgruppa": "styringsgruppa", "kommunar": "kommuner", "kommunane": "kommunene", "besøkte dei": "besøkte de",
    "dei": "de", "ho": "hun", "han": "han", "vitja": "besøkte", "vitje": "besøke", "gjennomført": "gjennomført",
    "kostnad": "kostet", "pengar": "penger", "støtta": "støttet", "sat": "satt", "jobba": "jobbet", "arbeidde": "jobbet",
    # English
    "who": "hvem", "what": "hva", "when": "når", "where": "hvor", "why": "hvorfor", "how many": "hvor mange",
    "which": "hvilke", "project manager": "prosjektleder", "project leader": "prosjektleder",
    "project lead": "prosjektleder", "project owner": "prosjekteier", "owner": "eier", "owned": "eide", "owns": "eier",
    "led": "ledet", "managed": "ledet", "coordinated": "koordinerte",
    "steering group": "styringsgruppa", "steering committee": "styringsgruppa", "board": "styringsgruppa",
    "coordinator": "koordinator", "coordinators": "koordinatorer", "project coordinator": "prosjektkoordinator",
    "project coordinators": "prosjektkoordinatorer", "author": "forfatter", "authors": "forfattere",
    "wrote": "skrev", "written": "skrevet", "report": "rapporten", "municipality": "kommune",
    "municipalities": "kommuner", "visited": "besøkte", "visit": "besøk", "library": "bibliotek",
    "libraries": "bibliotek", "funded": "støttet", "financed": "støttet", "funding": "støtte",
    "groups": "grupper", "group": "gruppe", "employees": "ansatte", "staff": "ansatte", "cost": "kostet",
    "budget": "budsjett", "mayor": "ordfører", "worked": "jobbet", "work": "jobbet", "role": "rolle",
    "period": "periode", "started": "begynte", "start": "begynte", "began": "begynte", "left": "sluttet",
    "quit": "sluttet", "ended": "sluttet", "stopped": "sluttet", "members": "medlemmer", "member": "medlem",
    "project": "prosjektet", "collaborated": "samarbeidet", "cooperated": "samarbeidet",
    "collaboration": "samarbeid", "cooperation": "samarbeid", "partners": "samarbeidspartnere", "the": "", "was": "var", "were": "var", "in": "i", "of": "av", "and": "og",
    "head of department": "avdelingsleder", "department head": "avdelingsleder", "county librarian": "fylkesbiblioteksjef",
    "citizen service": "innbyggertorg", "citizen services": "innbyggertorg", "she": "hun", "he": "han",
    "her": "henne", "him": "ham", "they": "de", "them": "dem", "did": "", "does": "", "do": "", "is": "er",
    "are": "er", "run": "gjennomført", "take place": "gjennomført", "took place": "gjennomført",
    "carried out": "gjennomført", "samarbeidde": "samarbeidet",
}

# Role concepts: words in a question (folded, stemmed by the caller) that point at a
# project role. Keys are matched against the role strings in the participant data,
# so a new role in new data is found by its own words without code changes.
ROLE_CUES: dict[str, tuple[str, ...]] = {
    "prosjekteier": ("prosjekteier", "eier av prosjektet", "eide prosjektet", "eier prosjektet"),
    "prosjektleder": ("prosjektleder", "prosjektledelse", "ledet prosjektet", "leder for prosjektet"),
    "rapportforfatter": ("rapportforfatter", "forfatter", "forfattere", "skrev", "skrevet", "skreiv", "rapporten skrevet"),
    "styringsgruppa": ("styringsgruppa", "styringsgruppe", "styringsgruppen", "styringsgrupper"),
    "prosjektkoordinator": ("prosjektkoordinator", "koordinator", "koordinatorer", "koordinerte", "koordinere", "koordinering"),
}

# Interrogatives (bokmål after normalisation): a question holding none of them is a yes/no
# question; one starting again after «og» begins a second question.
QUESTION_WORDS = (
    "hvem", "hva", "hvor", "hvordan", "hvorfor", "hvilke", "hvilken", "hvilket", "når",
)

WHO_WORDS = ("hvem", "hvilke personer", "hvilken person", "navn på", "navnet på")
COUNT_WORDS = ("hvor mange", "antall")
# Words that frame a question about people in roles without naming what it is about.
PEOPLE_FRAME = ("andre", "underveis", "senere", "tidligere", "roller", "med", "medlem", "medlemmer", "personer")
PERSON_ABOUT = ("rolle", "roller", "jobbet", "arbeidet", "jobb", "stilling", "tittel", "arbeidssted", "leder for", "ansvar", "gjorde")

MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "februar": 2, "feb": 2, "february": 2, "mars": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "october": 10,
    "november": 11, "nov": 11, "desember": 12, "des": 12, "december": 12,
}

# Seasons as (first month, last month); winter of a year is its first two months.
SEASONS = {
    "vår": (3, 5), "våren": (3, 5), "spring": (3, 5),
    "sommer": (6, 8), "sommaren": (6, 8), "sommeren": (6, 8), "summer": (6, 8),
    "høst": (9, 11), "høsten": (9, 11), "hausten": (9, 11), "haust": (9, 11), "autumn": (9, 11), "fall": (9, 11),
    "vinter": (1, 2), "vinteren": (1, 2), "winter": (1, 2),
}

START_WORDS = ("begynte", "startet", "kom inn", "tiltrådte", "ble med", "byrja", "starta")
END_WORDS = ("sluttet", "slutta", "gikk ut", "fratrådte", "avsluttet", "forlot")

# Personal pronouns that point back to someone named earlier in the conversation.
PRONOUNS_ONE = ("hun", "han", "hen", "henne", "ham", "hans", "hennes", "vedkommende", "personen")
PRONOUNS_MANY = ("de", "dem", "deres", "disse", "av dem", "av disse")

# Things one may ask about a person that participant records never hold: asking for
# them is answered with an honest "not in the material", not with the person's role.
UNKNOWN_PERSON_ATTRIBUTES = (
    "telefon", "telefonnummer", "mobil", "mobilnummer", "e-post", "epost", "e-postadresse", "mail", "email",
    "adresse", "lønn", "løn", "alder", "gammel", "født", "fødselsdato", "bor", "hobby", "utdanning", "sivilstand",
)

MONTH_NAMES = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember")

# Words that carry the shape of a question rather than its subject ("Hvor holder X til?",
# "Hva finnes i Y?"); they are left out when judging whether a passage covers the question.
GENERIC_WORDS = (
    "holde", "holder", "holdt", "holdes", "til", "finnes", "fins", "fantes", "ligger", "lå", "skjedde", "skjer",
    "gjorde", "gjør", "gjøre", "gjort", "bidro", "bidra", "bidratt", "få", "fikk", "fått", "gå", "gikk", "kom",
    "komme", "type", "slags", "mange", "mye", "lenge", "egentlig", "daglig", "fortell", "forklar", "beskriv",
    "vite", "vet", "kjenner", "står", "sto", "stått", "nevnt", "nevnes", "oppgitt", "materialet", "rapporten",
    "prosjektet", "prosjekt", "varte", "vare", "vart", "pågikk", "holdt på",
)

# What kind of answer a question wants, recognised by its opening words; a sentence
# that holds that kind of thing (a date, a number, a name) is more likely the answer.
ANSWER_TYPES = (
    ("count", ("hvor mange", "hvor stor", "hvor mye", "antall")),
    ("when", ("når", "hvor lenge", "hvilket år", "hvilken periode", "hvilken dato")),
    ("who", ("hvem",)),
    ("where", ("hvor",)),
)
NUMBER_WORDS = ("to", "tre", "fire", "fem", "seks", "sju", "syv", "åtte", "ni", "ti", "elleve", "tolv", "halv", "hel")

# Verbs that say someone took part, not what they did: ignored when matching a question
# against titles, units and organisations («Hvem jobbet i Drammen kommune?»).
PEOPLE_VERBS = (
    "jobbet", "jobber", "jobba", "arbeidet", "arbeider", "satt", "sitter", "deltok", "deltatt", "delta",
    "representerte", "representerer", "kom", "kommer", "fra",
)

# Negation words (folded): «… som ikke var fra X» keeps the records that do not match X.
NEGATIONS = ("ikke", "ikkje", "not", "inte", "ikke")

# «Hvem av A og B begynte først?»: word → (what is compared, min|max, Norwegian verb phrase).
COMPARATIVES = {
    "forst": ("start", "min", "begynte først"), "tidligst": ("start", "min", "begynte tidligst"),
    "sist": ("start", "max", "begynte sist"), "senest": ("start", "max", "begynte senest"),
    "lengst": ("length", "max", "var med lengst"), "kortest": ("length", "min", "var med kortest"),
}

# Phrases that ask who came after someone in a role.
SUCCESSION_WORDS = ("tok over", "overtok", "erstattet", "etterfulgte", "etterfølger", "etterfølgeren", "took over", "replaced")

# Asking for a reason: the participant records never hold one.
REASON_WORDS = ("hvorfor", "why", "varfor", "hvorfor")
