"""Stage 2, lookup: questions about people in roles («Hvem var prosjektleder i 2022?») are answered from
the participant records, which keep what needs structure (time filters, lists, counts, successors).
A question that names things the records do not hold but the text does goes on to the text."""
from __future__ import annotations

from assistant.models import Turn
from assistant.people import PeopleResult
from assistant.pipeline.case import Case, Tools
from assistant.pipeline.understand import generic_stems
from assistant.query import parse


def lookup(tools: Tools, case: Case) -> PeopleResult | None:
    """The records' answer, or None when the question goes to the material: it is not about people in
    roles, or it names things the records do not hold but the text does («Hvem arrangerte seminaret?»)."""
    context = context_names(tools, case.turns)
    result = tools.people.answer(case.query, context)
    if result is None and case.followup:
        result = tools.people.answer(parse(case.standalone), context)
    if result is None:
        return result
    leftover = tools.people.unexplained(case.query, generic_stems())
    if any(map(tools.retriever.text_holds, leftover)):
        return None  # the text speaks of it («Hvem skrev referatet?»): retrieval answers
    if result.abstained:
        return result
    if leftover and tools.people.names_asked(case.query):
        # Something about a named person that neither the records nor the text hold
        # (an e-mail address, a salary): describing their role would not answer it.
        return PeopleResult(None, (), abstained=True)
    return result


def context_names(tools: Tools, turns: list[Turn]) -> list[str]:
    """People named in the latest turn that names anyone (the assistant's answer first)."""
    for turn in reversed(turns):
        names = tools.people.names_in(turn.content)
        if names:
            return names
    return []
