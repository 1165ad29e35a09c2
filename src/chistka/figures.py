"""A chart as an HTML fragment that carries the numbers it plots, for every page chistka writes.

Under each chart a link gives the numbers behind it: a CSV of its traces (the trace's name, x and
y, z for a heat map, a shaded band's low and high, the error bars where there are any, and the
fields of its `customdata` that the trace names in `meta`, `CUSTOMDATA_NAMES`), inlined in the
page as a `data:` link. So a report stays one file that works offline, and the numbers go
wherever the chart goes: a run's report, an ensemble's, an experiment's, a comparison, a
calibration or a sensitivity analysis, in a browser or opened from disk.

Every chart is laid out here for any width, from a phone's 400 px to a desktop's
(`responsive_layout`): its title is HTML above it (it wraps; plotly's title is cut at the right
and the modebar sat on it), its legend is under the plot (a legend at the right squeezed a plot
to 60 px), the axes make room for their labels, and long category labels wrap. The modebar's
camera still downloads the chart with its title (`IMAGE_SCRIPT`), as a PNG named by the title.
"""

from __future__ import annotations

import base64
import html
import json
import re
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}
"""Plotly's options for every chart: no logo, resize with the window, and no "Share chart"
button (plotly.js 3 shows one by default, which uploads the chart's data to Plotly Cloud: a
report is read offline and its data stay with its reader); per chart, the name of its image
(`toImageButtonOptions`)."""

IMAGE_SCRIPT = """<script>
(function () {
  // The modebar's camera, downloading the chart with its title: the title is HTML above the
  // chart on the page (figure_html), so plotly's own button gave an image without it.
  if (!window.Plotly || window.chistkaImageFigure) return;
  function wrap(text, chars) {
    var lines = [], line = "";
    text.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > chars) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) lines.push(line);
    return lines;
  }
  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  // The chart as the image gives it: the figure on screen, its title above the plot, taller by
  // the title's lines so that the plot keeps its size.
  window.chistkaImageFigure = function (gd) {
    var image = gd.chistkaImage || {title: [], filename: "chart"};
    var width = Math.round(gd.getBoundingClientRect().width) || 700;
    var height = gd.layout.height || gd.clientHeight || 450;
    var main = image.title[0] ? wrap(image.title[0], Math.floor((width - 16) / 9.5)) : [];
    var sub = image.title[1] ? wrap(image.title[1], Math.floor((width - 16) / 6.7)) : [];
    var lines = main.map(escape).concat(sub.map(function (line) {
      return '<span style="font-size:12px">' + escape(line) + "</span>";
    }));
    var layout = Object.assign({}, gd.layout, {width: width, height: height});
    if (lines.length) {
      layout.height = height + 22 * main.length + 16 * sub.length;
      layout.margin = Object.assign({}, gd.layout.margin, {t: 8});
      layout.title = {
        text: lines.join("<br>"), font: {size: 17}, automargin: true,
        x: 0, xref: "container", xanchor: "left", y: 1, yref: "paper", yanchor: "bottom",
        pad: {l: 8, b: 12}
      };
    }
    var copy = typeof structuredClone === "function" ? structuredClone : function (x) { return x; };
    return {data: copy(gd.data), layout: copy(layout), config: {}};
  };
  window.chistkaDownloadImage = function (gd) {
    var filename = (gd.chistkaImage || {}).filename || "chart";
    return Plotly.downloadImage(window.chistkaImageFigure(gd), {format: "png", filename: filename});
  };
  Plotly.setPlotConfig({
    modeBarButtonsToRemove: ["toImage"],
    modeBarButtonsToAdd: [{
      name: "toImageTitled", title: "Download plot as a PNG", icon: Plotly.Icons.camera,
      click: function (gd) { window.chistkaDownloadImage(gd); }
    }]
  });
})();
</script>"""
"""Once a page, after plotly.js: the modebar's camera downloads the chart with its title.

Plotly's own button (toImage) gives the chart as drawn, and a chart's title is HTML above it
(`title_html`), so the image had none (QA 44). This button draws a copy of the chart with the
title (`image_spec`: its lines, wrapped to the chart's width) above the plot and downloads it
as a PNG of the chart's width; the chart on the page keeps no title of plotly's.
"""

LINK_TEXT = "The numbers plotted (CSV)"
"""The text of the link under each chart."""

CUSTOMDATA_NAMES = "customdata"
"""The key of a trace's `meta` that names the fields of each point's (or cell's) `customdata`:
``meta={"customdata": ["outcome", "unit"]}`` with ``customdata`` a list ``[code, unit]`` per
point gives the CSV the columns outcome and unit. A chart labelled in words so keeps the codes
that join its numbers with the files (the experiment's overview named its
outcomes in words only)."""

ERROR_NAMES = ("error_x", "error_y")
"""Keys of a trace's `meta` that say what its error bars are: ``meta={"error_y": "the record's
accepted range"}`` gives the CSV the columns "the record's accepted range: low" and "...: high",
the ends of each bar. A bar named by nothing gives its plotly arrays as they are (`error_y`, the
length above the point, and `error_y_minus` below it where that differs), which a reader of the
CSV could not interpret (QA 44: the record's tolerance read as a bare `error_y`)."""

LEGEND = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "y": 0,
    "yanchor": "bottom",
    "yref": "container",
}
"""Every chart's legend: in rows under the plot, at the foot of the chart (plotly makes room).

A legend at the right took most of a 400 px wide chart; one at a fixed distance under the plot
(`y=-0.15` of the plot's height) ran into the x axis's title at some heights.
"""

MARGIN = {"t": 32, "b": 8, "l": 8, "r": 8}
"""Every chart's margins: room for the modebar above the plot; the axes widen the others as their
labels need (`automargin`)."""

LABEL_WIDTH = {"x": 14, "y": 22}
"""Characters on one line of a category's label on the x and the y axis; longer ones wrap.

On the x axis of a 400 px chart long labels collided (the risk by rank tier); on the y axis
they took half the width (the experiment's arms).
"""


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
        band = _band(trace)
        if band is not None:
            frames.append(band.assign(trace=name)[["trace", "x", "y", "low", "high"]])
            continue
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
                columns.update(_error_columns(trace, axis, columns[axis]))
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


def _band(trace: Any) -> pd.DataFrame | None:
    """A shaded band's low and high at each x, or None for a trace that is not one.

    A band is drawn as one closed shape (`fill="toself"`): along the x values at one edge and
    back along them at the other. Its numbers were that outline, the upper values then the lower
    ones under one name, which a reader of the CSV could not tell apart (QA 44).
    """
    if trace.type != "scatter" or trace.fill != "toself" or trace.x is None or trace.y is None:
        return None
    x, y = list(trace.x), np.asarray(trace.y, dtype=float)
    half = len(x) // 2
    if len(x) != len(y) or len(x) % 2 or half == 0 or x[:half] != x[half:][::-1]:
        return None
    first, second = y[:half], y[half:][::-1]
    return pd.DataFrame(
        {
            "x": x[:half],
            "y": np.nan,
            "low": np.fmin(first, second),
            "high": np.fmax(first, second),
        }
    )


def _error_columns(trace: Any, axis: str, points: list[Any] | None) -> dict[str, list[Any]]:
    """The columns of a trace's error bars on `axis`: their ends, named by the trace's meta.

    With a name (`ERROR_NAMES`), the ends of each bar, "NAME: low" and "NAME: high"; without,
    plotly's lengths above (`error_y`) and, where they differ, below (`error_y_minus`).
    """
    error = getattr(trace, f"error_{axis}", None)
    if error is None or error.array is None:
        return {}
    above = np.asarray(error.array, dtype=float)
    below = above if error.arrayminus is None else np.asarray(error.arrayminus, dtype=float)
    meta = trace.meta if isinstance(trace.meta, dict) else {}
    meaning = meta.get(f"error_{axis}")
    if meaning and points is not None and len(points) == len(above):
        try:
            centre = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            centre = None
        if centre is not None:
            return {
                f"{meaning}: low": list(centre - below),
                f"{meaning}: high": list(centre + above),
            }
    columns = {f"error_{axis}": list(above)}
    if error.arrayminus is not None and not np.array_equal(above, below, equal_nan=True):
        columns[f"error_{axis}_minus"] = list(below)
    return columns


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


def responsive_layout(fig: go.Figure) -> None:
    """Lay the figure out for any width: legend under the plot, axes that make room, labels wrapped.

    Applied to every chart chistka draws (`figure_html`), so that no chart lays itself out for
    one width. A heat map's colour bar lies under the map too, leaving its cells the width.
    """
    fig.update_layout(legend=LEGEND, margin=MARGIN)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    for trace in fig.data:
        if trace.type == "heatmap" and trace.showscale is not False:
            trace.colorbar.update(
                orientation="h",
                x=0.5,
                xanchor="center",
                len=0.9,
                y=0,
                yanchor="bottom",
                yref="container",
            )
            trace.colorbar.thickness = 14
    for axis, labels in _category_labels(fig).items():
        width = LABEL_WIDTH[axis[0]]
        if any(len(label) > width for label in labels):
            fig.layout[axis].update(
                tickmode="array",
                tickvals=labels,
                ticktext=[wrap_label(label, width) for label in labels],
            )


def wrap_label(label: str, width: int) -> str:
    """A label broken into lines of at most `width` characters (plotly's `<br>`), at spaces."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def _category_labels(fig: go.Figure) -> dict[str, list[str]]:
    """Each axis's category labels (text values of its traces) that no caller has labelled.

    Keyed by the layout's name of the axis (`xaxis`, `yaxis2`); an axis with tick text of its
    own, or with values that are not all text (numbers, dates), has none.
    """
    labels: dict[str, list[str]] = {}
    for trace in fig.data:
        for letter in ("x", "y"):
            values = _values(getattr(trace, letter, None))
            if not values or not all(isinstance(v, str) for v in values):
                continue
            reference = getattr(trace, f"{letter}axis", None) or letter
            axis = f"{letter}axis{reference[1:]}"
            if fig.layout[axis].ticktext is not None or fig.layout[axis].type == "date":
                continue
            found = labels.setdefault(axis, [])
            found.extend(v for v in dict.fromkeys(values) if v not in found)
    return {axis: found for axis, found in labels.items() if not any(_is_date(v) for v in found)}


def _is_date(text: str) -> bool:
    """Whether a text value is a date (`1937-01-01`), which plotly reads as one, not a category."""
    return re.fullmatch(r"\d{4}(-\d{2}){0,2}([ T][\d:.]+)?", text) is not None


def title_html(fig: go.Figure, heading: str = "") -> str:
    """The figure's title as HTML to go above it, taken out of the figure; "" if it has none.

    The first line is the title, the rest (plotly's `<br>`, `<sup>`) a subtitle under it. A first
    line the same as `heading`, the heading the chart sits under, is not repeated. In HTML the
    title wraps at any width; plotly's was cut at the right of a narrow chart (QA 44).
    """
    text = fig.layout.title.text
    fig.layout.title.text = None
    if not text:
        return ""
    main, _, rest = str(text).partition("<br>")
    main, rest = _plain(main), _plain(rest)
    lines = (
        [] if main == heading.strip() else [f'<span class="chart-main">{html.escape(main)}</span>']
    )
    if rest:
        lines.append(f'<span class="chart-subtitle">{html.escape(rest)}</span>')
    if not lines:
        return ""
    return '<p class="chart-title">' + "<br>".join(lines) + "</p>"


def image_spec(title: Any, name: str) -> dict[str, Any]:
    """What the camera's image of a chart carries (`IMAGE_SCRIPT`): its title and file name.

    The title as plain text, its first line and the rest (the subtitle), whole even where the
    page's heading says the same (an image goes without the page); the file name is the title's
    first line made safe (`file_name`), or `name` for a chart with no title.
    """
    main, _, rest = str(title or "").partition("<br>")
    main, rest = _plain(main), _plain(rest)
    lines = [main, rest] if rest else [main] if main else []
    return {"title": lines, "filename": file_name(main) if main else name}


def _plain(text: str) -> str:
    """Plotly's title markup as plain text: line breaks as spaces, tags dropped."""
    text = re.sub(r"<br\s*/?>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def figure_html(
    fig: go.Figure,
    div_id: str,
    *,
    include_plotlyjs: bool,
    height: int | None = None,
    name: str | None = None,
    heading: str = "",
) -> str:
    """The figure as an HTML fragment (plotly.js inlined if asked), its numbers' link under it.

    Its title goes above it in HTML (`title_html`; `heading` is the heading it sits under) and
    it is laid out for any width (`responsive_layout`); the modebar's camera downloads it with
    its title (`image_spec`; `IMAGE_SCRIPT` goes after plotly.js, with the first chart of a
    page). `name` names the CSV (default: the div id). The figure passed in is left as it was.
    """
    fig = go.Figure(fig)
    image = image_spec(fig.layout.title.text, name or div_id)
    caption = title_html(fig, heading)
    responsive_layout(fig)
    spec = json.dumps(image).replace("<", "\\u003c")  # no "</script>" in the page's script
    fragment = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height=f"{height}px" if height is not None else "100%",
        config={**CONFIG, "toImageButtonOptions": {"filename": image["filename"]}},
        post_script=f'document.getElementById("{div_id}").chistkaImage = {spec};',
    )
    plotlyjs = (
        '<script>window.PlotlyConfig = {MathJaxConfig: "local"};</script>'
        f'<script charset="utf-8">{get_plotlyjs()}</script>{IMAGE_SCRIPT}'
        if include_plotlyjs
        else ""
    )
    return plotlyjs + caption + fragment + numbers_link(fig, name or div_id)
