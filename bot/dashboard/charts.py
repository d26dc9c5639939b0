"""The dashboard's charts: Plotly figures built from the ledger's figures, and the scripts
that draw them, served by this server (a browser never fetches code from another host).

Figures are Plotly's JSON (data, layout, config), written into the page as inert JSON blocks;
``charts.js`` hands each to plotly.js, which ships inside the ``plotly`` package.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import metadata, resources
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from bot.ledger.figures import Hotspot, WeekPoint
from rules.principles import PRINCIPLES

router = APIRouter()

# One colour per principle, in the catalogue's order, everywhere on the dashboard.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79",
)  # fmt: skip
COLOURS = dict(zip(PRINCIPLES, PALETTE, strict=False))
ADDED, PAID_OFF = "#cf222e", "#1a7f37"
TREEMAP_FILES = 60
CONFIG = {"responsive": True, "displayModeBar": False}
# Weeks by their Monday, as dates: plotly picks readable ticks at any width.
WEEK_AXIS = {"type": "date", "tickformat": "%b %d", "hoverformat": "week of %b %d, %Y"}


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "autosize": True,
        "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
        "legend": {"orientation": "h", "y": -0.25},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    } | extra


def trend(weeks: tuple[WeekPoint, ...]) -> dict[str, Any]:
    """Open findings at the end of each week, stacked by principle. Weeks before the first
    analysis are left blank (nothing was measured), on an axis that still spans them all."""
    measured = [point for point in weeks if point.known]
    starts = _starts(weeks)
    present = [p for p in PRINCIPLES if any(point.open_by_principle.get(p) for point in weeks)]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "stackgroup": "open",
            "name": principle,
            "x": _starts(tuple(measured)),
            "y": [point.open_by_principle.get(principle, 0) for point in measured],
            "line": {"color": COLOURS[principle], "width": 1},
        }
        for principle in present
    ]
    axis = WEEK_AXIS | {"range": [starts[0], starts[-1]]} if starts else WEEK_AXIS
    layout = _layout(320, yaxis={"rangemode": "tozero"}, xaxis=axis)
    return {"data": data, "layout": layout, "config": CONFIG}


def flow(weeks: tuple[WeekPoint, ...]) -> dict[str, Any]:
    """Debt added and paid off each week."""
    starts = _starts(weeks)
    data = [
        {"type": "bar", "name": "added", "x": starts, "y": [p.added for p in weeks],
         "marker": {"color": ADDED}},
        {"type": "bar", "name": "paid off", "x": starts, "y": [p.paid_off for p in weeks],
         "marker": {"color": PAID_OFF}},
    ]  # fmt: skip
    layout = _layout(260, barmode="group", xaxis=WEEK_AXIS)
    return {"data": data, "layout": layout, "config": CONFIG}


def _starts(weeks: tuple[WeekPoint, ...]) -> list[str]:
    return [point.start.date().isoformat() for point in weeks]


def principles(by_principle: dict[str, int]) -> dict[str, Any]:
    """Open findings per principle, most first."""
    ordered = sorted(by_principle.items(), key=lambda item: item[1])
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": [count for _, count in ordered],
            "y": [slug for slug, _ in ordered],
            "marker": {"color": [COLOURS.get(slug, "#7f7f7f") for slug, _ in ordered]},
        }
    ]
    height = 60 + 28 * max(len(ordered), 1)
    layout = _layout(height, margin={"l": 170, "r": 10, "t": 10, "b": 30}, showlegend=False)
    return {"data": data, "layout": layout, "config": CONFIG}


def hotspots(spots: tuple[Hotspot, ...]) -> dict[str, Any]:
    """The files holding most open findings, as a treemap by folder."""
    ids, labels, parents, values = ["."], ["repository"], [""], [0]
    folders: dict[str, int] = {}
    for spot in spots[:TREEMAP_FILES]:
        parent = "."
        parts = spot.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in folders:
                folders[folder] = len(ids)
                ids.append(folder)
                labels.append(parts[depth - 1] + "/")
                parents.append(parent)
                values.append(0)
            values[folders[folder]] += spot.findings
            parent = folder
        ids.append(spot.path)
        labels.append(parts[-1])
        parents.append(parent)
        values.append(spot.findings)
        values[0] += spot.findings
    data = [
        {
            "type": "treemap",
            "ids": ids,
            "labels": labels,
            "parents": parents,
            "values": values,
            "branchvalues": "total",
            # Darker where more debt sits.
            "marker": {"colors": values, "colorscale": "OrRd", "showscale": False},
            "hovertemplate": "%{id}<br>%{value} open<extra></extra>",
        }
    ]
    layout = _layout(380, margin={"l": 0, "r": 0, "t": 0, "b": 0})
    return {"data": data, "layout": layout, "config": CONFIG}


def embed(chart_id: str, figure: dict[str, Any], label: str) -> str:
    """The chart's place in the page and its figure as an inert JSON block. Escaping ``<``
    keeps any text in the figure (file names, titles) from closing the block."""
    text = json.dumps(figure, separators=(",", ":")).replace("<", "\\u003c")
    return (
        f'<div class="chart" id="{chart_id}" role="img" aria-label="{label}"></div>'
        f'<script type="application/json" data-chart="{chart_id}">{text}</script>'
    )


def scripts() -> str:
    return (
        f'<script src="/dashboard/static/plotly-{_plotly_version()}.min.js" defer></script>'
        '<script src="/dashboard/static/charts.js" defer></script>'
    )


CHARTS_JS = """\
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("script[data-chart]").forEach(function (block) {
    var figure = JSON.parse(block.textContent);
    var target = document.getElementById(block.dataset.chart);
    Plotly.newPlot(target, figure.data, figure.layout, figure.config).then(function () {
      target.dataset.drawn = "true";
    });
  });
});
"""
YEAR = "public, max-age=31536000, immutable"


@router.get("/dashboard/static/charts.js", include_in_schema=False)
def charts_js() -> PlainTextResponse:
    return PlainTextResponse(
        CHARTS_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=3600"}
    )


@router.get("/dashboard/static/plotly-{version}.min.js", include_in_schema=False)
def plotly_js(version: str, request: Request) -> Response:
    if version != _plotly_version():
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"cache-control": YEAR, "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            _plotly_gzip(),
            media_type="text/javascript",
            headers=headers | {"content-encoding": "gzip"},
        )
    return Response(_plotly_source(), media_type="text/javascript", headers=headers)


@cache
def _plotly_version() -> str:
    return metadata.version("plotly")


@cache
def _plotly_source() -> bytes:
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@cache
def _plotly_gzip() -> bytes:
    return gzip.compress(_plotly_source(), compresslevel=6)
