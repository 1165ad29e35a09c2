"""Order 00447 week by week: the limits in force, the regions' requests, the troikas' sentences."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chistka.analysis import terror
from chistka.record.regions import NOT_TERRITORIES, regional_table
from chistka.report.common import RunReport, count, esc, figure_section, section

KEY = "terror_limits"
TITLE = "Operations under limits: limits in force, requests for more, troika sentences"

NOTE = (
    "Top: the limits in force in category 1 (shooting) and category 2 (camps), the initial "
    "limits of the order plus every increase the centre granted, against the sentences the "
    "troikas passed (cumulative, persons). A region asks for more when its remaining limit would "
    "last less than a month at its recent pace; the centre grants a share of each request (a "
    "fitted parameter). Bottom: requests made per week (hover: persons asked for and "
    "granted). Nothing here is an input: the increases come from the requests. The data: "
    "limit_requests.csv (every request), "
    "operations.csv (totals) and the sentence events of events.parquet (column operation)."
)


def run_section(report: RunReport) -> str:
    """The trajectory of the run's largest operation under limits (Order 00447 in the built-ins)."""
    operations = report.results.operations
    limited = operations[operations["kind"] == "category"] if "kind" in operations else operations
    if limited.empty:
        return section(KEY, TITLE, "<p>This run has no operation under limits.</p>")
    largest = limited.assign(
        size=limited["initial_limit_shoot"] + limited["initial_limit_camp"]
    ).sort_values("size")
    name = str(largest["operation"].iloc[-1])
    weekly = terror.limits_trajectory(report.results, name)
    if weekly.empty:
        return section(KEY, TITLE, f"<p>Operation {esc(name)} has no weeks in this run.</p>")
    active = weekly[(weekly["sentenced_shoot"] + weekly["sentenced_camp"]).diff().fillna(0) > 0]
    if not active.empty:
        weekly = weekly.loc[
            active.index[0] - pd.Timedelta(weeks=2) : active.index[-1] + pd.Timedelta(weeks=4)
        ]
    last = weekly.iloc[-1]
    below = (
        f"<p>Operation <code>{esc(name)}</code>. At the end: limits "
        f"{count(last['limit_shoot'])} in category 1 and "
        f"{count(last['limit_camp'])} in category 2; sentences passed "
        f"{count(last['sentenced_shoot'])} and {count(last['sentenced_camp'])}; "
        f"{count(weekly['requests'].sum())} requests shown.</p>"
    ) + _initial_limits_text(report, largest.iloc[-1])
    return figure_section(report, KEY, TITLE, _figure(weekly), NOTE, below)


def _initial_limits_text(report: RunReport, row: pd.Series) -> str:
    """Why the regions' initial limits (operations.csv) fall short of the scenario's, if they do.

    Where the regions are a documented table's territories (`population.region_table`), the
    table's limits are the regions' and its rows that are no territory go to no region: Order
    00447's 10,000 in category 1 for the NKVD camps, so that great-terror's regions start from
    65,950 of the scenario's 75,950 (docs/decisions.md 12.5).
    """
    parameters = report.results.provenance.get("parameters", {})
    table = parameters.get("population", {}).get("region_table")
    operation = next(
        (op for op in parameters.get("operations", []) if op.get("name") == row["operation"]),
        None,
    )
    if table != row["operation"] or operation is None:
        return ""
    scenario = (float(operation.get("limit_shoot", 0)), float(operation.get("limit_camp", 0)))
    regions = (float(row["initial_limit_shoot"]), float(row["initial_limit_camp"]))
    if all(round(a) == round(b) for a, b in zip(scenario, regions, strict=True)):
        return ""
    documented = regional_table(table)
    unassigned = (documented.unassigned_cat1, documented.unassigned_cat2)
    apart = " and ".join(NOT_TERRITORIES)
    return (
        f"<p>The regions' initial limits add up to {count(regions[0])} in category 1 and "
        f"{count(regions[1])} in category 2 (operations.csv, initial_limit_shoot and "
        f"initial_limit_camp), against the order's {count(scenario[0])} and {count(scenario[1])} "
        "(the scenario's limit_shoot and limit_camp): each region starts from its own limits in "
        f"the order's regional table (population.region_table = {esc(table)}), and the limits the "
        f"order set for the {apart} ({count(unassigned[0])} in category 1, "
        f"{count(unassigned[1])} in category 2) go to no region, since they are not a region "
        "of the model (docs/decisions.md 12.5; "
        "src/chistka/record/data/README.md).</p>"
    )


def _figure(weekly: pd.DataFrame) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3])
    lines = (
        ("limit_shoot", "limit in force, category 1", "#d62728", "dash"),
        ("sentenced_shoot", "sentenced to be shot", "#d62728", "solid"),
        ("limit_camp", "limit in force, category 2", "#1f77b4", "dash"),
        ("sentenced_camp", "sentenced to camps", "#1f77b4", "solid"),
    )
    for column, name, colour, dash in lines:
        fig.add_trace(
            go.Scatter(
                x=weekly.index,
                y=weekly[column].round(0),
                name=name,
                mode="lines",
                line={"color": colour, "dash": dash, "width": 2},
                hovertemplate=f"{name}<br>week to %{{x|%Y-%m-%d}}: %{{y:,.0f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Bar(
            x=weekly.index,
            y=weekly["requests"],
            customdata=weekly[["requested", "granted"]].round(0).to_numpy(),
            name="requests that week",
            marker_color="#7f7f7f",
            hovertemplate=(
                "week to %{x|%Y-%m-%d}: %{y:.0f} requests<br>asked for %{customdata[0]:,.0f}, "
                "granted %{customdata[1]:,.0f} persons<extra></extra>"
            ),
        ),
        row=2,
        col=1,
    )
    fig.update_layout(height=560)
    fig.update_yaxes(title_text="persons (cumulative)", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text="requests per week", row=2, col=1)
    return fig
