"""Every chart chistka draws carries the numbers it plots (chistka.figures).

The QA of session 39 found the charts of a run's and an ensemble's report without any way back
to their data; each page that draws charts now gives, under each, a CSV of its traces.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka import figures as shared
from chistka.figures import CUSTOMDATA_NAMES, LINK_TEXT, figure_html, file_name, plotted_numbers
from chistka.report.common import FigureRenderer

LINK = re.compile(
    r'<a download="([^"]+)\.csv" data-numbers="[^"]+" href="data:text/csv;base64,([^"]+)"'
)


def numbers_in_page(text: str) -> list[tuple[str, pd.DataFrame]]:
    """The numbers links of a page: (name, the CSV read back), in page order."""
    return [
        (name, pd.read_csv(io.StringIO(base64.b64decode(encoded).decode("utf-8"))))
        for name, encoded in LINK.findall(text)
    ]


def assert_every_chart_has_its_numbers(text: str) -> None:
    """As many numbers links as charts, each a table of traces (empty where a chart is)."""
    charts = text.count('class="plotly-graph-div"')
    found = numbers_in_page(text)
    assert charts > 0 and len(found) == charts
    for name, frame in found:
        assert list(frame.columns[:3]) == ["trace", "x", "y"], name
    assert any(len(frame) for _, frame in found)


def plotted_figures(text: str) -> list[dict]:
    """Each chart of a page as plotly draws it: its data and layout (the page's JSON read back)."""
    decoder = json.JSONDecoder()
    figures = []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', text):
        data, end = decoder.raw_decode(text, call.end())
        between = re.match(r"\s*,\s*", text[end:])
        assert between is not None
        layout, _ = decoder.raw_decode(text, end + between.end())
        figures.append({"data": data, "layout": layout})
    return figures


def assert_every_chart_fits_any_width(text: str) -> None:
    """Every chart of a page laid out for a 400 px screen as for a desktop (QA 44).

    No title inside the plot (plotly cut it at the right, under the modebar; it is HTML above
    the chart), the legend in rows at the foot of the chart (at the right it squeezed the plot to
    60 px), axes that make room for their labels, category labels wrapped.
    """
    figures = plotted_figures(text)
    assert figures and len(figures) == text.count('class="plotly-graph-div"')
    for figure in figures:
        layout = figure["layout"]
        assert not layout.get("title", {}).get("text"), layout["title"]
        legend = layout["legend"]
        assert (legend["orientation"], legend["yref"], legend["y"]) == ("h", "container", 0)
        axes = {key: axis for key, axis in layout.items() if re.fullmatch(r"[xy]axis\d*", key)}
        assert axes and all(axis.get("automargin") for axis in axes.values()), axes
        for key, axis in axes.items():
            for label in axis.get("ticktext") or []:
                width = shared.LABEL_WIDTH[key[0]]
                assert all(len(line) <= width for line in str(label).split("<br>")), label
        for trace in figure["data"]:
            if trace["type"] == "heatmap":
                assert trace["colorbar"]["orientation"] == "h"


def test_a_chart_is_laid_out_for_a_narrow_screen_and_its_title_is_html_above_it():
    """QA 44 at 400 px: a legend at the right crushed the reproduction number's chart to 60 px,
    every plotly title was cut at the right under the modebar, and long category labels
    collided or took half the width."""
    fig = go.Figure()
    fig.add_bar(x=["rank and file", "cell secretaries of the district party"], y=[1, 2], name="a")
    fig.add_bar(
        y=["No halt, operations to the end of 1940", "short"], x=[1, 2], orientation="h", name="b"
    )
    fig.add_heatmap(z=[[1, 2]], x=["p", "q"], y=["r"], colorbar={"title": "change"})
    fig.update_layout(title="Risk of arrest<br><sup>share of the group &amp; its tier</sup>")
    text = figure_html(fig, "chart-0", include_plotlyjs=False)
    assert text.startswith(
        '<p class="chart-title"><span class="chart-main">Risk of arrest</span><br>'
        '<span class="chart-subtitle">share of the group &amp; its tier</span></p>'
    )
    assert_every_chart_fits_any_width(text)
    (drawn,) = plotted_figures(text)
    assert drawn["layout"]["xaxis"]["ticktext"][:2] == [
        "rank and file",
        "cell<br>secretaries of<br>the district<br>party",
    ]
    assert drawn["layout"]["yaxis"]["ticktext"][0] == "No halt, operations to<br>the end of 1940"
    assert drawn["data"][2]["colorbar"]["title"]["text"] == "change"  # kept, only moved
    assert fig.layout.title.text.startswith("Risk of arrest")  # the figure passed is left as it was
    under = figure_html(fig, "chart-1", include_plotlyjs=False, heading="Risk of arrest")
    assert "chart-main" not in under and "chart-subtitle" in under  # the heading is not repeated
    dates = go.Figure(go.Scatter(x=["1937-01-01", "1938-01-01"], y=[1, 2]))
    assert (
        "ticktext"
        not in plotted_figures(figure_html(dates, "d", include_plotlyjs=False))[0]["layout"][
            "xaxis"
        ]
    )


def image_of(text: str, div_id: str) -> tuple[dict, dict]:
    """What a chart's fragment gives the modebar's camera: plotly's config (its last argument to
    newPlot) and the title and file name the page sets on the chart for its image."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', text)
    assert call is not None
    decoder = json.JSONDecoder()
    end = call.end()
    for _ in range(3):  # data, layout, config
        value, end = decoder.raw_decode(text, end)
        end += re.match(r"\s*,?\s*", text[end:]).end()
    set_on_chart = f'document.getElementById("{div_id}").chistkaImage = '
    start = text.index(set_on_chart) + len(set_on_chart)
    return value, decoder.raw_decode(text, start)[0]


def test_a_charts_image_carries_its_title_and_is_named_by_it():
    """Since the title went above the chart in HTML (QA 44), the modebar's camera gave a PNG
    with no title, named plot-image.png. The page's button (IMAGE_SCRIPT, once, after plotly.js)
    draws the chart with its whole title, the file named by it; the chart keeps none."""
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    fig.update_layout(title="Risk of arrest: <b>1937</b><br><sup>share &lt; 1 of the group</sup>")
    first = figure_html(fig, "chart-0", include_plotlyjs=True, heading="Risk of arrest: 1937")
    config, image = image_of(first, "chart-0")
    assert image == {
        "title": ["Risk of arrest: 1937", "share < 1 of the group"],
        "filename": "Risk-of-arrest-1937",
    }
    assert config["toImageButtonOptions"] == {"filename": "Risk-of-arrest-1937"}
    assert "chart-main" not in first  # the page's heading says it, the image does
    assert "share \\u003c 1" in first  # no "</script>" from a title in the page's script
    plotly = first.index("plotly.js v")
    assert plotly < first.index("Plotly.setPlotConfig") < first.index("Plotly.newPlot(")
    assert first.count("<script") == 4  # PlotlyConfig, plotly.js, the button, the chart
    assert_every_chart_fits_any_width(first)  # no title of plotly's on the page
    later = figure_html(go.Figure(go.Bar(x=["a"], y=[1])), "chart-1", include_plotlyjs=False)
    assert "setPlotConfig" not in later and "plotly.js v" not in later
    config, image = image_of(later, "chart-1")
    assert image == {"title": [], "filename": "chart-1"}  # no title: named as its numbers
    assert config["toImageButtonOptions"] == {"filename": "chart-1"}


def test_a_line_and_bars_with_error_bars_give_one_row_per_point():
    fig = go.Figure()
    fig.add_scatter(x=pd.to_datetime(["1937-01-01", "1938-01-01"]), y=[1.5, 2.5], name="line")
    fig.add_bar(
        y=["a", "b", "c"],
        x=[0.1, 0.2, 0.3],
        orientation="h",
        name="bars",
        error_x={"type": "data", "array": [0.01, 0.02, 0.03]},
    )
    fig.add_scatter(y=[7, 8], name="no x")
    frame = plotted_numbers(fig)
    assert frame["trace"].tolist() == ["line"] * 2 + ["bars"] * 3 + ["no x"] * 2
    line = frame[frame["trace"] == "line"]
    assert pd.to_datetime(line["x"]).dt.year.tolist() == [1937, 1938]
    assert line["y"].tolist() == [1.5, 2.5]
    bars = frame[frame["trace"] == "bars"]
    assert bars["y"].tolist() == ["a", "b", "c"] and bars["error_x"].tolist() == [0.01, 0.02, 0.03]
    assert frame[frame["trace"] == "no x"]["x"].tolist() == [0, 1]  # plotly counts from 0


def test_a_band_gives_its_low_and_high_and_error_bars_say_what_they_are():
    """QA 44: an ensemble's 5-95% band was one trace of unlabelled upper-then-lower values, and
    the record's tolerance a bare `error_y` (the length above the point only)."""
    fig = go.Figure()
    fig.add_scatter(
        x=[1935, 1936, 1937, 1937, 1936, 1935],
        y=[12, 22, 32, 8, 18, 10],
        fill="toself",
        name="model (90% band)",
    )
    fig.add_scatter(
        x=[1935, 1936],
        y=[100, 200],
        error_y={"type": "data", "array": [10, 20], "arrayminus": [5, 5]},
        meta={"error_y": "record's range ± tolerance"},
        name="record",
    )
    fig.add_scatter(
        x=[1, 2], y=[3, 4], error_y={"type": "data", "array": [1, 1], "arrayminus": [0, 2]}
    )
    frame = plotted_numbers(fig)
    band = frame[frame["trace"] == "model (90% band)"]
    assert band[["x", "low", "high"]].values.tolist() == [
        [1935, 10, 12],
        [1936, 18, 22],
        [1937, 8, 32],
    ]
    assert band["y"].isna().all()
    record = frame[frame["trace"] == "record"]
    assert record["record's range ± tolerance: low"].tolist() == [95, 195]
    assert record["record's range ± tolerance: high"].tolist() == [110, 220]
    plain = frame[frame["trace"] == "trace 2"]
    assert plain["error_y"].tolist() == [1, 1] and plain["error_y_minus"].tolist() == [0, 2]
    outline = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 2, 1], fill="toself", name="triangle"))
    assert plotted_numbers(outline)["y"].tolist() == [1, 2, 1]  # a shape, not a band


def test_each_points_text_comes_with_its_numbers():
    """QA of session 40: an experiment's seed charts gave the value of each seed without the
    seed (named only in the hover text) and each arm as 'trace 0', 'trace 1'."""
    fig = go.Figure()
    fig.add_scatter(x=[10, 12], y=["No halt", "No halt"], text=["seed 1", "seed 2"], name="No halt")
    fig.add_scatter(x=[1, 2], y=[3, 4], text="one label for all", name="plain")
    frame = plotted_numbers(fig)
    assert frame.loc[frame["trace"] == "No halt", "text"].tolist() == ["seed 1", "seed 2"]
    assert frame.loc[frame["trace"] == "plain", "text"].isna().all()


def test_a_heat_map_gives_one_row_per_cell():
    z = np.arange(6, dtype=float).reshape(2, 3)
    fig = go.Figure(go.Heatmap(z=z, x=["p", "q", "r"], y=["low", "high"], name="risk"))
    frame = plotted_numbers(fig)
    assert len(frame) == 6
    cell = frame[(frame["x"] == "r") & (frame["y"] == "high")]
    assert cell["z"].tolist() == [5.0]


def test_the_fields_of_customdata_a_trace_names_come_with_its_numbers():
    """QA of session 42: the experiment's overview named its outcomes in words only, their
    codes (which the other files use) in the hover."""
    fig = go.Figure(
        go.Heatmap(
            z=[[1.0, 2.0], [3.0, 4.0]],
            x=["No halt", "No names"],
            y=["Arrests", "Deaths"],
            customdata=[[["arrests", "no-halt"], ["arrests", "no-names"]]]
            + [[["deaths", "no-halt"], ["deaths", "no-names"]]],
            meta={CUSTOMDATA_NAMES: ["outcome", "arm"]},
        )
    )
    fig.add_bar(
        x=[1, 2], y=["a", "b"], customdata=[["p", 1], ["q", 2]], meta={"customdata": ["k", "n"]}
    )
    fig.add_scatter(x=[1], y=[2], customdata=[["unnamed"]], name="plain")
    frame = plotted_numbers(fig)
    cell = frame[(frame["x"] == "No names") & (frame["y"] == "Deaths")]
    assert cell[["z", "outcome", "arm"]].values.tolist() == [[4.0, "deaths", "no-names"]]
    bars = frame[frame["trace"] == "trace 1"]
    assert bars["k"].tolist() == ["p", "q"] and bars["n"].tolist() == [1, 2]
    assert frame.loc[frame["trace"] == "plain", "outcome"].isna().all()
    assert "unnamed" not in frame.to_csv()


def test_the_link_under_a_chart_downloads_its_numbers():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6], name="s"))
    html = figure_html(fig, "chart-0", include_plotlyjs=False, name="membership")
    assert LINK_TEXT in html and 'download="membership.csv"' in html
    ((name, frame),) = numbers_in_page(html)
    assert name == "membership"
    pd.testing.assert_frame_equal(frame, plotted_numbers(fig))


def test_a_download_is_named_by_what_it_shows_and_never_twice_on_a_page():
    """QA of session 40 (B9): an experiment's downloads were chistka-experiment-N.csv."""
    assert file_name("arrests_by_channel:self_protection/1937-1938-change") == (
        "arrests_by_channel-self_protection-1937-1938-change"
    )
    assert file_name("political_convictions:1936-06-01/1937-07-01") == (
        "political_convictions-1936-06-01-1937-07-01"
    )
    assert file_name("::") == "chart"
    figures = FigureRenderer()
    pages = [figures.add(go.Figure(go.Bar(x=[1], y=[2])), "a:b") for _ in range(3)]
    names = [name for page in pages for name, _ in numbers_in_page(page)]
    assert names == ["a-b", "a-b-2", "a-b-3"]


def test_no_chart_offers_to_upload_its_data():
    """plotly.js 3 adds a "Share chart" button (`showSendToCloud`, on by default) that uploads
    the chart's data to Plotly Cloud; a report's charts leave it out (session 45)."""
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    html = figure_html(fig, "chart", include_plotlyjs=False)
    assert '"showSendToCloud": false' in html
