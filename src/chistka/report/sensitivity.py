"""sensitivity.html, the page `chistka sensitivity` writes beside sensitivity.csv.

A bar chart of the indices per observable with their intervals and the seed noise's level, what
the indices mean, and the range each parameter was drawn from, on which every index depends.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from chistka.analysis.sensitivity import (
    EXPLAINED,
    INDICES,
    RANK_BY,
    SensitivityResult,
    index_text,
)


def _axis_title(method: str, name: str) -> str:
    """The x axis of an observable's chart: what the method's indices measure, in which unit."""
    from chistka.analysis import observables

    if method == "sobol":
        return "share of the observable's variance (S1 alone, ST with interactions)"
    what = (
        "a share as a fraction, 0.1 = 10 points"
        if observables.is_share(name)
        else observables.unit(name)
    )
    return f"change over the parameter's whole range ({what})"


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


def write_sensitivity_report(result: SensitivityResult, path: str | Path) -> Path:
    """Write sensitivity.html: a bar chart of the indices per observable, with confidence.

    The page says what the indices mean (`EXPLAINED`), the scale and seed of the runs, and the
    range each parameter was drawn from, on which every index depends.
    """
    import plotly.graph_objects as go

    from chistka.analysis import observables
    from chistka.figures import figure_html, file_name

    path = Path(path)
    parts = []
    first, conf, second = INDICES[result.method][:3]
    second_conf = f"{second}_conf" if f"{second}_conf" in result.table else None
    for i, name in enumerate(result.observables):
        group = result.table[result.table["observable"] == name]
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
                annotation_text=f"seed noise alone ({RANK_BY[result.method]})",
            )
        fig.update_layout(
            title=f"{observables.title(name)} ({name}): {result.method} indices",
            barmode="group",
            xaxis_title=_axis_title(result.method, name),
            yaxis={"autorange": "reversed"},
        )
        parts.append(
            figure_html(
                fig,
                f"chistka-sensitivity-figure-{i}",
                include_plotlyjs=i == 0,
                name=file_name(f"sensitivity-{name}"),
            )
        )
    scenario_name = escape(result.scenario.scenario.name)
    scale = "the scenario's own scale" if result.scale is None else f"scale {result.scale:g}"
    params = "".join(
        f"<tr><td>{escape(p.path)}</td><td>{p.low:g} to {p.high:g}</td>"
        f"<td>{'log' if p.log else 'linear'}</td><td>{escape(p.note)}</td></tr>"
        for p in result.free
    )
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>chistka sensitivity: {scenario_name}</title></head><body>"
        f"<h1>Sensitivity of {scenario_name} ({result.method})</h1>"
        f"<p>{len(result.X)} runs, each with seed {result.seed}, at {escape(scale)}. "
        f"{escape(EXPLAINED[result.method])}</p>"
        f"<p>{escape(_noise_words(result))}</p>"
        "<table border='1'><tr><th>parameter</th><th>range drawn from</th><th>drawn</th>"
        f"<th>note</th></tr>{params}</table>"
        f"{''.join(parts)}{result.table.to_html(index=False, float_format=index_text)}"
        "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
