"""The bundled corpus: the report and the participant records agree with each other."""
from __future__ import annotations

import re
from pathlib import Path

from ingest.participants import load_participants
from ingest.sources import split_sections

ROOT = Path(__file__).resolve().parent.parent
REPORT = (ROOT / "corpus/om-prosjektet.md").read_text()
PEOPLE = load_participants(ROOT / "corpus/deltakere.yaml")


def names_in_report() -> set[str]:
    """Person names as the report writes them: 'Role: Name –', '- Name –', and the author list."""
    names = set()
    for line in REPORT.splitlines():
        if m := re.match(r"^- (?:[\wæøåÆØÅ ]+: )?([A-ZÆØÅ][\wæøå]+(?: [A-ZÆØÅ][\wæøå]+)+) –", line):
            names.add(m.group(1))
    authors = REPORT.split("### Rapporten er skrevet av", 1)[1].strip().split("\n", 1)[0]
    names.update(n.strip() for n in re.split(r",|&", authors))
    return names


def test_every_person_in_the_report_is_in_the_records_and_back():
    """Everyone the report names has a participant record, and every record names someone in the report."""
    recorded = {p.name for p in PEOPLE.participants}
    assert names_in_report() == recorded


def test_each_record_points_at_a_section_that_names_the_person():
    """A record's section exists in the report and that section's text contains the person's name."""
    sections = {s.heading: s.text for s in split_sections(REPORT, "om-prosjektet.md")}
    for person in PEOPLE.participants:
        assert person.name in sections[person.section], person.id


def test_people_with_several_roles_have_a_record_per_role():
    """The project leader also wrote the report: two records, one per role."""
    roles = sorted(p.role for p in PEOPLE.participants if p.name == "Ina Synøve Borsheim")
    assert ["prosjektleder", "rapportforfatter"] == roles


def test_periods_keep_the_source_wording_and_the_interpretation():
    """«fra feb. S022» stays as written, is read as February 2022, and the typo is noted."""
    anne = next(p for p in PEOPLE.participants if p.name == "Anne Kaslegard")
    assert ("fra feb. S022", "2022-02", None) == (anne.period, anne.start, anne.end)
    assert "skrivefeil" in anne.period_note


def test_report_keeps_the_wording_of_the_source():
    """Every line of the seed text is in the Markdown report unchanged, apart from list bullets
    and the page's repeated lead line (which differs from the first only by a comma)."""
    seed = (ROOT.parent / "shared/seed/om-prosjektet.txt").read_text()
    flat = re.sub(r"\s+", " ", re.sub(r"(?m)^(- |#+ )", " ", REPORT).replace(",", ""))
    for line in seed.splitlines():
        line = re.sub(r"\s+", " ", line.replace("•", " ").replace(",", "")).strip().rstrip(":")
        for part in re.split(r"(?<=kommune) (?=Prosjektleder:)", line):
            assert part.strip() in flat, part
