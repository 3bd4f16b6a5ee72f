"""The «Hvem gjorde hva» timeline: one horizontal bar per person and role across the
project period, grouped by role, coloured by organisation, with the source's own wording
of the period on hover. Open-ended periods run to the project's end (or from its start),
as ``Participant.months`` reads them for the answers too. Pure Plotly, no Gradio.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go

from ingest.participants import Participant, Period, month_index
from ui import render

# Colour-blind-safe qualitative palette (Plotly's «Safe», from CARTO); grey for «Ikke oppgitt».
PALETTE = ["#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99", "#999933", "#882255", "#661100"]
NO_ORGANISATION_COLOUR = "#9ca3af"
ROW_PX = 26  # bar height plus gap: readable labels without scrolling for ~20 records
MONTHS = ["jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."]


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _span(people: Sequence[Participant], project: Period | None) -> Period | None:
    """The whole project's period: the one given, else the union of the records' own."""
    if project is not None:
        return project
    periods = [p.project for p in people if p.project is not None]
    if not periods:
        return None
    start = min(periods, key=lambda x: month_index(x.start, end=False)).start
    end = max(periods, key=lambda x: month_index(x.end, end=True)).end
    return Period(start=start, end=end)


def bars(people: Sequence[Participant], project: Period | None = None) -> list[dict]:
    """One bar per record, grouped by role (roles in order of first mention), earliest first
    within a role: role, name, organisation, first day, day after the last month, hover text."""
    span = _span(people, project)
    if span is None:
        return []
    order = {role: i for i, role in enumerate(dict.fromkeys(p.role for p in people))}
    out = []
    for p in people:
        first, last = p.months(span)
        if last < first:
            continue
        row = render.participant_row(p)
        role, period = row[1], row[5]
        hover = [f"<b>{html.escape(p.name)}</b>", html.escape(role)]
        job = ", ".join(x for x in (p.title, p.organisation) if x)
        if job:
            hover.append(html.escape(job))
        hover.append(f"Periode i kilden: «{html.escape(period)}»")
        if p.period_note:
            hover.append(html.escape(p.period_note))
        if not p.end:
            hover.append("(uten oppgitt slutt: vist til prosjektets slutt)")
        out.append({
            "role": role,
            "name": p.name,
            "organisation": p.organisation or render.NO_ORGANISATION,
            "start": _month_start(first),
            "end": _month_start(last + 1),
            "hover": "<br>".join(hover),
            "_order": (order[p.role], first, p.name),
        })
    out.sort(key=lambda b: b["_order"])
    return out


def figure(people: Sequence[Participant], project: Period | None = None) -> go.Figure:
    """The timeline for ``people`` (already filtered); an empty figure says so in Norwegian."""
    rows = bars(people, project)
    fig = go.Figure()
    organisations = list(dict.fromkeys(b["organisation"] for b in sorted(rows, key=lambda b: b["organisation"] == render.NO_ORGANISATION)))
    colours = {}
    for i, org in enumerate(o for o in organisations if o != render.NO_ORGANISATION):
        colours[org] = PALETTE[i % len(PALETTE)]
    colours[render.NO_ORGANISATION] = NO_ORGANISATION_COLOUR
    # Every bar keeps its place on the axis whichever trace (organisation) draws it.
    categories = [[b["role"] for b in rows], [b["name"] for b in rows]]
    for org in organisations:
        mine = [b for b in rows if b["organisation"] == org]
        fig.add_trace(go.Bar(
            orientation="h",
            name=org,
            y=[[b["role"] for b in mine], [b["name"] for b in mine]],
            base=[b["start"].isoformat() for b in mine],
            x=[_milliseconds(b["start"], b["end"]) for b in mine],
            marker_color=colours[org],
            hovertext=[b["hover"] for b in mine],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    span = _span(people, project)
    layout = dict(
        barmode="overlay",
        height=max(220, 110 + ROW_PX * len(rows)),
        margin=dict(l=10, r=10, t=30, b=40),
        legend=dict(title=dict(text="Organisasjon"), orientation="h", yanchor="bottom", y=1.0, x=0),
        xaxis=dict(type="date", showgrid=True, gridcolor="#e5e7eb"),
        yaxis=dict(type="multicategory", autorange="reversed", categoryorder="array", categoryarray=categories),
        hoverlabel=dict(align="left"),
        plot_bgcolor="white",
        separators=", ",
    )
    if span is not None:
        layout["xaxis"]["range"] = [_month_start(month_index(span.start, end=False)).isoformat(),
                                    _month_start(month_index(span.end, end=True) + 1).isoformat()]
        layout["xaxis"]["tickvals"], layout["xaxis"]["ticktext"] = _ticks(span)
    if not rows:
        layout["annotations"] = [dict(text="Ingen oppføringer passer filtrene.", showarrow=False,
                                      xref="paper", yref="paper", x=0.5, y=0.5)]
        layout["yaxis"] = dict(visible=False)
    fig.update_layout(**layout)
    return fig


def _milliseconds(start: date, end: date) -> float:
    return (end - start).days * 86_400_000


def _ticks(span: Period) -> tuple[list[str], list[str]]:
    """Norwegian month labels every six months (Plotly's own are English)."""
    first, last = month_index(span.start, end=False), month_index(span.end, end=True) + 1
    values, labels = [], []
    for m in range(first - first % 6, last + 1, 6):
        d = _month_start(m)
        values.append(d.isoformat())
        labels.append(f"{MONTHS[d.month - 1]} {d.year}")
    return values, labels
