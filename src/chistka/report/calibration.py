"""calibration.html, the page `chistka calibrate` writes beside fitted.toml.

A calibration study's loss history, its best trial against the targets, and the parameter
importances, with the numbers behind each chart.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np

from chistka.analysis.calibrate import (
    LOSSES,
    CalibrationResult,
    first_trial_words,
    fit_table,
    importance_warning,
    importances,
    inside_text,
)
from chistka.analysis.fitted_file import best_words, targets_place, unchanged_parameters
from chistka.analysis.observables import observable_number
from chistka.outputs import CALIBRATE_MARKS, write_atomic
from chistka.report.common import page

REPORT_MARK = CALIBRATE_MARKS["calibration.html"]
"""The title that marks a calibration.html as written by `chistka calibrate`."""


FIT_STATUSES = {
    "inside": "inside",
    "outside": "outside",
    "no value": "outside: no value (a miss in the loss)",
    "left out": "left out (not in the runs)",
}
"""How calibration.html writes each `status` of `fit_table` ('no value': see `status_text`)."""


def status_text(status: str, no_value_seeds: int | None, seeds: int) -> str:
    """A target's status in calibration.html, saying at how many seeds a missed target had none.

    A target without a value at some seeds shows its mean over the others, which may lie inside
    its range; the status says why it is outside all the same: 'outside: no value at 2 of 3
    seeds (a miss in the loss)'. A study made before its trials recorded the seeds keeps
    'outside: no value (a miss in the loss)'.
    """
    if status != "no value" or no_value_seeds is None:
        return FIT_STATUSES[status]
    return (
        f"outside: no value at {no_value_seeds} of {seeds} seed{'s' if seeds != 1 else ''} "
        "(a miss in the loss)"
    )


def model_text(model: float, observable: str, no_value_seeds: int | None, seeds: int) -> str:
    """A target's model mean in calibration.html, with the seeds that gave it no value.

    A target without a value at some seeds is a miss in the loss, but its mean over the other
    seeds shows how close they came: '1,234 (no value at 1 of 8 seeds)'. One with no value at
    any seed (or from a study that did not record the seeds) reads '-', as any missing number.
    """
    number = observable_number(model, observable)
    if math.isnan(model) or not no_value_seeds:
        return number
    return f"{number} (no value at {no_value_seeds} of {seeds} seeds)"


def _not_written_html(fitted_error: str) -> str:
    """The page's words where fitted.toml could not be written ('' where it was)."""
    if not fitted_error:
        return ""
    return (
        f"<p><strong>The fitted scenario (fitted.toml) was not written:</strong> "
        f"{escape(fitted_error)}. The best values are in the table below; the study is kept "
        "in its storage.</p>"
    )


def range_text(low: float, high: float, log: bool = False) -> str:
    """A free parameter's range in words: '-1 to 4' ('-1 - 4' read as a subtraction)."""
    return f"{low:g} to {high:g}" + (" (log)" if log else "")


def write_calibration_report(
    result: CalibrationResult, path: str | Path, *, fitted_error: str = ""
) -> Path:
    """Write calibration.html: loss history, fit against the targets, parameter importances.

    `fitted_error` is why fitted.toml could not be written ('' where it was): the page says so,
    as it is then the study's only written result.

    Raises:
        ChistkaError: `path` holds something chistka calibrate did not write.
    """
    import plotly.graph_objects as go

    from chistka.figures import figure_html

    path = Path(path)
    complete = result.trials
    numbers = [t.number for t in complete]
    losses = [float(t.value) for t in complete]
    figures: list[go.Figure] = []

    history = go.Figure()
    history.add_scatter(x=numbers, y=losses, mode="markers", name="trial loss")
    history.add_scatter(
        x=numbers, y=list(np.minimum.accumulate(losses)), mode="lines", name="best so far"
    )
    history.update_layout(
        title=f"Loss history ({LOSSES[result.loss]})",
        xaxis_title="trial",
        yaxis_title="loss",
        yaxis_type="log" if min(losses, default=0) > 0 else "linear",
    )
    figures.append(history)

    # the targets the loss compares: those left out have their own section, once (QA 45: 91
    # rows "left out (not in the runs)" among the 21 compared, listed again below)
    table = fit_table(result)
    listed_apart = {str(i) for i, _, _ in result.left_out}
    apart = (table["status"] == "left out") & table["id"].astype(str).isin(listed_apart)
    table = table[~apart].reset_index(drop=True) if len(table) else table
    seeds = len(result.seeds)
    ratio = table["model"] / table["value"].where(table["value"] != 0)
    some_seeds = table["status"] == "no value"
    fit = go.Figure()
    for end in ("low", "high"):
        fit.add_scatter(
            x=table["id"],
            y=table[end] / table["value"].where(table["value"] != 0),
            mode="markers",
            marker_symbol="line-ew-open",
            name=f"target range ({end})",
        )
    hover = [
        f"{r.observable}: model {model_text(r.model, r.observable, r.no_value_seeds, seeds)}, "
        f"target {observable_number(r.value, r.observable)} "
        f"({observable_number(r.low, r.observable)} to {observable_number(r.high, r.observable)})"
        for r in table.itertuples(index=False)
    ]
    fit.add_scatter(
        x=table["id"],
        y=ratio.where(~some_seeds),
        mode="markers",
        marker_size=10,
        name="model / target",
        text=hover,
        hoverinfo="text",
    )
    partial = some_seeds & ratio.notna()
    if partial.any():  # a miss in the loss: apart, so that it is not read as a fit
        fit.add_scatter(
            x=table.loc[partial, "id"],
            y=ratio[partial],
            mode="markers",
            marker_size=10,
            marker_symbol="circle-open",
            name="model / target over the seeds with a value (a miss in the loss)",
            text=[t for t, shown in zip(hover, partial, strict=True) if shown],
            hoverinfo="text",
        )
    fit.add_hline(y=1.0, line_dash="dot")
    fit.update_layout(
        title="Fit against the targets, best trial (model, the mean over the seeds, / target, "
        "with the target's range)",
        yaxis_title="model / target",
        yaxis_type="log" if (ratio.dropna() > 0).all() and ratio.notna().any() else "linear",
    )
    figures.append(fit)

    found = importances(result.study)
    if found:
        bars = go.Figure(
            go.Bar(x=list(found.values()), y=list(found), orientation="h", name="importance")
        )
        bars.update_layout(
            title=f"Parameter importances (fANOVA, over {len(complete)} trials"
            + (
                ", too few: see the warning above the charts)"
                if importance_warning(result)
                else ")"
            ),
            xaxis_title="share of the loss's variance over the trials",
        )
        figures.append(bars)

    scenario_name = result.scenario.scenario.name
    parts = []
    names = ["calibration-loss-history", "calibration-fit", "calibration-importances"]
    for i, fig in enumerate(figures):
        parts.append(
            figure_html(
                fig, f"chistka-calibration-figure-{i}", include_plotlyjs=i == 0, name=names[i]
            )
        )
    unchanged = unchanged_parameters(result)
    params = "".join(
        f"<tr><td>{escape(p.path)}</td><td>{result.best_params[p.path]:.6g}</td>"
        f"<td>{range_text(p.low, p.high, p.log)}</td>"
        f"<td>{'its own value' if p.path in unchanged else 'changed'}</td></tr>"
        for p in result.free
    )
    rows = "".join(
        f"<tr><td>{escape(str(r.id))}</td><td>{escape(r.label)}</td><td>{escape(r.observable)}"
        f"</td><td>{model_text(r.model, r.observable, r.no_value_seeds, seeds)}</td>"
        f"<td>{observable_number(r.value, r.observable)}</td>"
        f"<td>{observable_number(r.low, r.observable)} to "
        f"{observable_number(r.high, r.observable)}</td>"
        f"<td>{status_text(r.status, r.no_value_seeds, seeds)}</td></tr>"
        for r in table.itertuples(index=False)
    )
    note = "" if found else "<p>Parameter importances need two or more complete trials.</p>"
    warning = importance_warning(result) if found else None
    if warning is not None:
        note += f"<p><strong>Warning:</strong> {escape(warning)}.</p>"
    stayed = best_words(result)
    stayed_html = (
        f"<p><strong>{escape(stayed[:1].upper() + stayed[1:])}.</strong></p>" if stayed else ""
    )
    left_html = ""
    if result.left_out:
        counts: dict[str, int] = {}
        for _, _, reason in result.left_out:
            counts[reason] = counts.get(reason, 0) + 1
        left_rows = "".join(
            f"<tr><td>{escape(str(i))}</td><td>{escape(o)}</td><td>{escape(why)}</td></tr>"
            for i, o, why in result.left_out
        )
        left_html = (
            f"<h2>Targets left out ({len(result.left_out)})</h2><p>The scenario's runs cannot "
            "give them, so the loss skips them: "
            + "; ".join(f"{n} {escape(why)}" for why, n in counts.items())
            + ".</p><details><summary>every target left out</summary><table>"
            f"<tr><th>id</th><th>observable</th><th>why</th></tr>{left_rows}</table></details>"
        )
    scale = "the scenario's own scale" if result.scale is None else f"scale {result.scale:g}"
    ended = (
        ""
        if result.runs_end is None
        else f" Each run stopped on {result.runs_end}, the last day the targets read."
    )
    first_words = first_trial_words(result)
    body = (
        f"<h1>Calibration of {escape(scenario_name)}</h1>"
        f"<p>Targets {escape(targets_place(result.targets_path, result.targets_given))}; "
        f"{len(complete)} complete trials; seeds "
        f"{', '.join(str(s) for s in result.seeds)} at {scale}; loss: {LOSSES[result.loss]}; "
        f"best loss {result.best_loss:.6g} ({first_words} {result.first_loss:.6g}).{ended}</p>"
        f"{stayed_html}{_not_written_html(fitted_error)}"
        "<table><tr><th>parameter</th><th>best</th><th>range searched</th>"
        f"<th>against the scenario</th></tr>{params}</table>"
        f"<h2>The best trial against the targets</h2><p>{inside_text(table)}.</p>"
        "<table><tr><th>id</th><th>label</th><th>observable</th>"
        "<th>model (mean over the seeds)</th><th>target</th><th>accepted range</th>"
        f"<th>the mean</th></tr>{rows}</table>"
        f"{left_html}{note}{''.join(parts)}"
    )
    # the shared style of the other reports (its title keeps REPORT_MARK)
    html = page(f"chistka calibrate: {scenario_name}", [body])
    return write_atomic(path, html, REPORT_MARK, "chistka calibrate")
