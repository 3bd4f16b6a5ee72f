"""The structured participant data: who took part, in which role, and when.

A participant file is YAML with ``kind: participants`` and a list of records, one
per person and role, validated by :class:`Participant`. Periods keep the source's
wording (``period``) beside their interpretation (``start``/``end``, YYYY or YYYY-MM).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from ingest.errors import CorpusError

YearMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def month_index(value: str, *, end: bool) -> int:
    """Months since year 0 for 'YYYY' or 'YYYY-MM'; a bare year spans January–December."""
    year, _, month = value.partition("-")
    return int(year) * 12 + (int(month) if month else (12 if end else 1)) - 1


class Period(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    start: YearMonth
    end: YearMonth


class Participant(BaseModel):
    """One person in one role, as the project material states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: Text
    role: Text
    title: Text | None = None
    unit: Text | None = None
    organisation: Text | None = None
    period: Text | None = Field(None, description="The period as the source writes it.")
    start: YearMonth | None = None
    end: YearMonth | None = None
    period_note: Text | None = Field(None, description="How the period was interpreted, where it needed judgement.")
    note: Text | None = Field(None, description="A remark the source adds (a spreadsheet's «Merknad» column).")
    section: Text = Field(description="Heading path of the section that names the person.")
    document: str = ""
    project: Period | None = Field(None, description="Set on loading: the project period of the record's own file.")

    @field_validator("role")
    @classmethod
    def _lower_role(cls, value: str) -> str:
        return value.lower()

    def months(self, project: Period) -> tuple[int, int]:
        """The months the role was held, as month indexes, within its own project's period
        (``project`` for records loaded before that was stored)."""
        project = self.project or project
        first, last = month_index(project.start, end=False), month_index(project.end, end=True)
        start = month_index(self.start, end=False) if self.start else first
        end = month_index(self.end, end=True) if self.end else last
        return max(start, first), min(end, last)

    def describe(self) -> str:
        """A short Norwegian sentence stating the record, used for search and display."""
        parts = [f"{self.name}: {self.role}"]
        job = ", ".join(x for x in (self.title, self.unit if self.unit and self.unit not in (self.title or "") else None, self.organisation) if x)
        if job:
            parts.append(f" – {job}")
        if self.period:
            parts.append(f" ({self.period})")
        return "".join(parts) + "." + (f" Merknad: {self.note}" if self.note else "")


class ParticipantFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    document: str | None = Field(None, description="The report file the records come from.")
    project_period: Period
    participants: list[Participant]


class ParticipantFileError(CorpusError):
    """A participant file that cannot be used. ``problem`` says what kind, so a UI can say it in its own
    language: "encoding", "yaml" (``line`` when known), "kind" (not a participant file), "duplicate"
    (``value`` = the id given twice) or "field" (a record or field the schema refuses)."""

    def __init__(self, message: str, problem: str, *, line: int | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.problem, self.line, self.value = problem, line, value


def is_participant_file(path: Path) -> bool:
    return path.suffix.lower() in {".yaml", ".yml"}


def load_participants(path: Path) -> ParticipantFile:
    """Read and validate one participant file; any problem names the file, record and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ParticipantFileError(f"{path}: not UTF-8 text; save it as UTF-8", "encoding") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        where = f" at line {line}" if line else ""
        problem = getattr(exc, "problem", exc)
        raise ParticipantFileError(f"{path}: malformed YAML{where}: {problem}", "yaml", line=line) from None
    if not isinstance(raw, dict) or raw.get("kind") != "participants":
        raise ParticipantFileError(
            f"{path}: not a participant file (expected 'kind: participants' and a 'participants' list)", "kind")
    records = raw.get("participants")
    if not isinstance(records, list) or not records:
        raise ParticipantFileError(f"{path}: 'participants' must be a non-empty list", "kind")
    ids = [r.get("id") for r in records if isinstance(r, dict) and r.get("id")]
    doubled = next((i for i in ids if ids.count(i) > 1), None)
    if doubled:
        raise ParticipantFileError(f"{path}: duplicate participant id '{doubled}'", "duplicate", value=str(doubled))
    try:
        parsed = ParticipantFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "participants" and isinstance(loc[1], int):
            record = records[loc[1]] if isinstance(records[loc[1]], dict) else {}
            label = record.get("id") or record.get("name") or f"#{loc[1] + 1}"
            field = ".".join(str(x) for x in loc[2:]) or "record"
            raise ParticipantFileError(f"{path}: participant {label}: field '{field}': {err['msg']}", "field") from None
        raise ParticipantFileError(f"{path}: field '{'.'.join(map(str, loc))}': {err['msg']}", "field") from None
    document = parsed.document or ""
    people = [p.model_copy(update={"document": document, "project": parsed.project_period}) for p in parsed.participants]
    for person in people:
        if person.start and person.end and month_index(person.start, end=False) > month_index(person.end, end=True):
            raise ParticipantFileError(
                f"{path}: participant {person.id}: 'start' {person.start} is after 'end' {person.end}", "field")
    return parsed.model_copy(update={"participants": people})
