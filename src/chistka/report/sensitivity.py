"""sensitivity.html, the page `chistka sensitivity` writes beside sensitivity.csv.

The conclusion the command prints ("what drives each observable", from `drivers`), a bar chart
of the indices per observable (its parameters by rank, as in the tables) with their intervals
and the seed noise's level, what the indices mean, the range each parameter was drawn from (on
which every index depends) and every index, in the shared style of the other reports
(`chistka.report.common`).
"""

from __future__ import annotations

import math
from pathlib import Path

from chistka.analysis.sensitivity import (
    EXPLAINED,
    INDICES,
    RANK_BY,
    TOLD_APART,
    SensitivityResult,
    above_noise_text,
    analysed_files,
    drivers,
    index_text,
    small_sample_warning,
)
from chistka.report.common import FigureRenderer, esc, header_cells, page, section, table

FIGURE_HEIGHT = 420
"""The height of an observable's chart with few parameters; each parameter beyond adds
`BAR_HEIGHT`."""

BAR_HEIGHT = 40
"""Pixels per parameter of an observable's chart (two bars each)."""


def _axis_title(method: str, name: str) -> str:
    """The x axis of an observable's chart: what the method's indices measure, in which unit.

    On lines of at most 34 characters (plotly's `<br>`): in one line it was cut at both edges
    of a 400 px wide chart.
    """
    from chistka.analysis import observables

    if method == "sobol":
        return "share of the observable's variance<br>(S1 alone, ST with interactions)"
    what = "a share: 0.1 = 10 points" if observables.is_share(name) else observables.unit(name)
    return f"change over the<br>parameter's whole range<br>({what})"


def _noise_words(result: SensitivityResult) -> str:
    """What the page says of the seed noise each index is compared with."""
    index = RANK_BY[result.method]
    if result.noise_seeds == 0:
        return (
            "No noise reference was run (--noise-seeds 0): the runs are chaotic, so a small "
            f"{index} may be seed noise alone."
        )
    seeds = f"{result.seed} to {result.seed + result.noise_seeds - 1}"
    return (
        f"The scenario's own values were also run at seeds {seeds}: the dashed line on each "
        f"chart is the {index} that their seed-to-seed spread alone would give a parameter "
        "with no effect (the runs are chaotic, so one seed does not remove it). A parameter "
        f"whose {index} less its interval is not beyond it is within noise (above_noise in "
        "sensitivity.csv)."
    )


def _drivers_table(result: SensitivityResult) -> str:
    """The command's "what drives each observable", from the same `drivers` and words."""
    index = RANK_BY[result.method]
    rows = [
        f"<tr><td>{esc(row.observable)}</td><td>{esc(row.mechanism)}</td>"
        f"<td>{esc(row.parameter)}</td>"
        f'<td class="num">{esc(index_text(getattr(row, index)))}</td>'
        f"<td>{esc(row.next)}</td><td>{esc(TOLD_APART[bool(row.told_apart)])}</td></tr>"
        for row in drivers(result).itertuples(index=False)
    ]
    head = header_cells(["observable", "mechanism", "parameter", esc(index), "next", "told apart"])
    return table(head, rows)


def _indices_table(result: SensitivityResult) -> str:
    """Every observable's parameters by rank, their indices and the seed noise, in words."""
    columns = INDICES[result.method]
    ordered = result.table.sort_values(["observable", "rank"], kind="stable")
    rows = [
        f'<tr><td>{esc(row.observable)}</td><td class="num">{row.rank}</td>'
        f"<td>{esc(row.parameter)}</td><td>{esc(row.section)}</td>"
        + "".join(
            f'<td class="num">{esc(index_text(getattr(row, column)))}</td>' for column in columns
        )
        + f'<td class="num">{esc(index_text(row.noise))}</td>'
        f"<td>{esc(above_noise_text(row.above_noise))}</td></tr>"
        for row in ordered.itertuples(index=False)
    ]
    head = header_cells(
        [
            "observable",
            "rank",
            "parameter",
            "mechanism",
            *(esc(column) for column in columns),
            "seed noise",
            "above it",
        ]
    )
    return table(head, rows)


def _ranges_table(result: SensitivityResult) -> str:
    """The range each free parameter was drawn from, and how (linear or in its logarithm)."""
    rows = [
        f"<tr><td>{esc(p.path)}</td><td>{p.low:g} to {p.high:g}</td>"
        f"<td>{'log' if p.log else 'linear'}</td><td>{esc(p.note)}</td></tr>"
        for p in result.free
    ]
    return table(header_cells(["parameter", "range drawn from", "drawn", "note"]), rows)


def write_sensitivity_report(result: SensitivityResult, path: str | Path) -> Path:
    """Write sensitivity.html: the conclusion, a chart of the indices per observable, every index.

    The charts give the indices with their intervals and the seed noise's level; the page says
    what the indices mean (`EXPLAINED`), the scale and seed of the runs, and the range each
    parameter was drawn from, on which every index depends.
    """
    import plotly.graph_objects as go

    from chistka.analysis import observables

    path = Path(path)
    index = RANK_BY[result.method]
    first, conf, second = INDICES[result.method][:3]
    second_conf = f"{second}_conf" if f"{second}_conf" in result.table else None
    height = FIGURE_HEIGHT + BAR_HEIGHT * max(len(result.free) - 4, 0)
    figures = FigureRenderer("chistka-sensitivity-figure", height)
    charts = []
    for i, name in enumerate(result.observables):
        # by rank, as the table of every index: rank 1 on top (the y axis is reversed)
        group = result.table[result.table["observable"] == name].sort_values("rank", kind="stable")
        fig = go.Figure()
        fig.add_bar(
            y=group["parameter"],
            x=group[first],
            orientation="h",
            name=first,
            error_x={"type": "data", "array": group[conf].fillna(0).tolist()},
        )
        fig.add_bar(
            y=group["parameter"],
            x=group[second],
            orientation="h",
            name=second,
            error_x=(
                None
                if second_conf is None
                else {"type": "data", "array": group[second_conf].fillna(0).tolist()}
            ),
        )
        noise = float(group["noise"].iloc[0])
        if not math.isnan(noise):
            fig.add_vline(
                x=noise,
                line_dash="dash",
                annotation_text=f"seed noise alone ({index})",
            )
        fig.update_layout(
            title=f"{name}: {result.method} indices",
            barmode="group",
            xaxis_title=_axis_title(result.method, name),
            yaxis={"autorange": "reversed", "automargin": True},
            legend={"orientation": "h", "y": -0.25},
        )
        charts.append(
            section(
                f"observable-{i}",
                f"{observables.title(name)} ({name})",
                figures.add(fig, f"sensitivity-{name}"),
            )
        )
    scenario_name = result.scenario.scenario.name
    scale = "the scenario's own scale" if result.scale is None else f"scale {result.scale:g}"
    # the files analysed, as the command was given them (QA 45: only the scenario's name)
    files = esc(analysed_files(result.scenario_ref, result.free_file))
    files += " " if files else ""
    warning = small_sample_warning(result)
    parts = [
        f"<h1>Sensitivity of {esc(scenario_name)} ({esc(result.method)})</h1>",
        f"<p>{files}{len(result.X)} runs, each with seed {result.seed}, at {esc(scale)}. "
        f"{esc(EXPLAINED[result.method])}</p>",
        f"<p><strong>Warning:</strong> {esc(warning)}.</p>" if warning else "",
        f"<p>{esc(_noise_words(result))}</p>",
        section(
            "drivers",
            "What drives each observable",
            _drivers_table(result),
            f"The parameter of the largest {esc(index)} and its mechanism (the section of the "
            "scenario it belongs to), the next one, and whether their 95% intervals tell the "
            "two apart: where they overlap, the ranking between them is not resolved by these "
            "runs.",
        ),
        *charts,
        section("ranges", "The ranges drawn from", _ranges_table(result)),
        section(
            "indices",
            "Every index",
            _indices_table(result),
            f"Rank 1 has the largest {esc(index)}. Above it: whether {esc(index)} less its "
            "interval is beyond the seed noise (above_noise in sensitivity.csv; - where no "
            "noise was measured).",
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(f"chistka sensitivity: {scenario_name}", parts), encoding="utf-8")
    return path
