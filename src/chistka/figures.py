"""A chart as an HTML fragment that carries the numbers it plots, for every page chistka writes.

Under each chart a link gives the numbers behind it: a CSV of its traces (the trace's name, x and
y, z for a heat map, the error bars where there are any, and the fields of its `customdata` that
the trace names in `meta`, `CUSTOMDATA_NAMES`), inlined in the page as a `data:` link.
So a report stays one file that works offline, and the numbers go wherever the chart goes: a
run's report, an ensemble's, an experiment's, a comparison, a calibration or a sensitivity
analysis, in a browser or opened from disk.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

CONFIG = {"displaylogo": False, "responsive": True}
"""Plotly's options for every chart: no logo, resize with the window."""

LINK_TEXT = "The numbers plotted (CSV)"
"""The text of the link under each chart."""

CUSTOMDATA_NAMES = "customdata"
"""The key of a trace's `meta` that names the fields of each point's (or cell's) `customdata`:
``meta={"customdata": ["outcome", "unit"]}`` with ``customdata`` a list ``[code, unit]`` per
point gives the CSV the columns outcome and unit. A chart labelled in words so keeps the codes
that join its numbers with the files (the experiment's overview named its
outcomes in words only)."""


def plotted_numbers(fig: go.Figure) -> pd.DataFrame:
    """The figure's traces as one long table: trace, x, y (z for a heat map, the error bars).

    A heat map gives one row per cell; a bar or scatter trace one row per point, with its text
    where the trace gives each point one (an experiment's seeds: "seed 3") and the fields of its
    customdata that the trace names (`CUSTOMDATA_NAMES`). Traces with no points (layout helpers)
    give none.
    """
    frames = []
    for index, trace in enumerate(fig.data):
        name = trace.name if trace.name is not None else f"trace {index}"
        if trace.type == "heatmap":
            z = np.asarray(trace.z, dtype=float)
            rows, cols = z.shape
            x = _values(trace.x) or list(range(cols))
            y = _values(trace.y) or list(range(rows))
            frame = pd.DataFrame(
                {"x": np.tile(np.asarray(x, dtype=object), rows), "y": np.repeat(y, cols)}
            )
            frame["z"] = z.ravel()
            length = rows * cols
        else:
            columns = {axis: _values(getattr(trace, axis, None)) for axis in ("x", "y")}
            length = max((len(v) for v in columns.values() if v is not None), default=0)
            if length == 0:
                continue
            for axis in ("x", "y"):
                if columns[axis] is None:  # plotly counts the points from 0 on a missing axis
                    columns[axis] = list(range(length))
            for axis in ("x", "y"):
                error = getattr(trace, f"error_{axis}", None)
                if error is not None and error.array is not None:
                    columns[f"error_{axis}"] = _values(error.array)
            text = trace.text
            if text is not None and not isinstance(text, str) and len(text) == length:
                columns["text"] = _values(text)
            frame = pd.DataFrame(columns)
        for column, values in _named_customdata(trace, length).items():
            frame[column] = values
        frame.insert(0, "trace", name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["trace", "x", "y"])
    return pd.concat(frames, ignore_index=True)


def _named_customdata(trace: Any, length: int) -> dict[str, list[Any]]:
    """The fields of a trace's customdata that its meta names, a list of `length` values each.

    A heat map's customdata is a row of cells per row of z, each cell a list of the fields;
    another trace's a list of the fields per point. Nothing when the trace names none, or its
    customdata does not have one list of that many fields per point.
    """
    meta = trace.meta
    names = meta.get(CUSTOMDATA_NAMES) if isinstance(meta, dict) else None
    if not names or trace.customdata is None:
        return {}
    cells = np.asarray(trace.customdata, dtype=object)
    if cells.ndim < 2 or cells.shape[-1] != len(names):
        return {}
    cells = cells.reshape(-1, len(names))
    if len(cells) != length:
        return {}
    return {str(name): cells[:, i].tolist() for i, name in enumerate(names)}


def _values(values: Any) -> list[Any] | None:
    """A trace's array as a list (None when the trace has none)."""
    if values is None:
        return None
    return list(values)


def file_name(text: str) -> str:
    """A filename-safe name for `text`, for a chart's numbers named by what the chart shows.

    Runs of characters other than letters, digits, `_`, `.` and `-` become one `-`:
    "arrests_by_channel:testimony/1937" gives "arrests_by_channel-testimony-1937".
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "chart"


def numbers_link(fig: go.Figure, name: str) -> str:
    """A link that downloads the numbers the figure plots, as `name`.csv (a `data:` link)."""
    csv = plotted_numbers(fig).to_csv(index=False)
    encoded = base64.b64encode(csv.encode("utf-8")).decode("ascii")
    return (
        f'<p class="numbers"><a download="{name}.csv" data-numbers="{name}" '
        f'href="data:text/csv;base64,{encoded}">{LINK_TEXT}</a></p>'
    )


def figure_html(
    fig: go.Figure,
    div_id: str,
    *,
    include_plotlyjs: bool,
    height: int | None = None,
    name: str | None = None,
) -> str:
    """The figure as an HTML fragment (plotly.js inlined if asked), its numbers' link under it.

    `name` names the CSV (default: the div id).
    """
    fragment = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        div_id=div_id,
        default_height=f"{height}px" if height is not None else "100%",
        config=CONFIG,
    )
    return fragment + numbers_link(fig, name or div_id)
