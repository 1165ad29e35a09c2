"""A run against the historical record: the compared figures, the fit, the summary, the directory.

One comparison serves the summary, the report, `validate` and the tests. Every record row that
`chistka/record/data/observables.csv` maps to an observable is compared when the run covers its
date, with the role the run's scenario gives it (`chistka.record.role_in`) and one of these
statuses:

- `inside` / `outside`: a calibration or validation row of a kind the scenario models, within
  or outside the accepted range (the record's own range, widened to the row's tolerance);
- `input`: a figure the scenario is built from (the party's size on its first day): shown, never
  counted as a fit;
- `claim`: a weak figure shown for reference, never a target;
- `not modelled`: a kind of observable the scenario does not claim to model (its `compare`
  list; convictions in `party-purges-1921-1936`): shown, not counted.

Only `inside` and `outside` rows count in the fit, separately for calibration and validation
rows (`fit`). A validation row with `fitted_now` was chosen for out-of-sample checks but the
scenario's present timeline was fitted to it by hand: it is counted, and flagged.

`comparison` compares one run, `compare_runs` one run or the seeds of an ensemble;
`run_summary` adds the comparison and the fit to the run's own figures (`Results.summary`), and
`save_run` writes a run's directory with both (comparison.csv and the summary in summary.json)
beside the tables `Results.save` writes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chistka.analysis.observables import ObservableOutOfRun, compute, is_share
from chistka.analysis.spread import spread
from chistka.errors import ChistkaError
from chistka.record import (
    SCORED_ROLES,
    ComparedObservable,
    RecordRow,
    compared_observables,
    get,
    role_in,
)

if TYPE_CHECKING:
    from chistka.results import Results
    from chistka.scenario import Scenario

STATUSES = ("inside", "outside", "input", "claim", "not modelled")
"""Status of a compared row (see the module docstring)."""

SCORED_STATUSES = ("inside", "outside")
"""Statuses that count in the fit."""

COLUMNS = (
    "record_id",
    "observable",
    "label",
    "role",
    "status",
    "inside",
    "model",
    "model_low",
    "model_high",
    "record",
    "low",
    "high",
    "tolerance",
    "allowed",
    "read_in_source",
    "grade",
    "fitted_now",
    "note",
    "source",
)
"""Columns of a comparison table (and of a run's comparison.csv).

`low` and `high` bound the accepted range; `tolerance` is the tolerance as text (points for
shares, a percentage for relative ones) and `allowed` the tolerance as a distance from the
record, in its units."""


@dataclass(frozen=True)
class Planned:
    """A record row planned for comparison in one scenario."""

    spec: ComparedObservable
    row: RecordRow
    role: str
    fitted_now: bool
    note: str
    modelled: bool

    def status(self, model: float) -> str:
        """The row's status for a model value (see `STATUSES`).

        An input stays an input where its kind is not modelled: the run's first day was still
        taken from it (great-terror's camps start from the record's camp totals, which it does
        not model afterwards).
        """
        if self.role == "input":
            return "input"
        if not self.modelled:
            return "not modelled"
        if self.role not in SCORED_ROLES:
            return self.role
        return "inside" if self.spec.inside(model, self.row) else "outside"


def modelled_kinds(provenance: dict[str, Any] | None) -> list[str] | None:
    """The observable kinds a run's scenario models (its `compare` list; None: all kinds)."""
    parameters = (provenance or {}).get("parameters") or {}
    compare = (parameters.get("scenario") or {}).get("compare")
    return None if compare is None else list(compare)


def check_modelled(name: str, scenario: Scenario, where: str = "observable") -> None:
    """Refuse an observable whose kind the scenario does not model (not in its `compare` list).

    Its runs give such a figure as 0 (party-purges-1921-1936 sentences no one), which a
    calibration would score as a miss and a sensitivity analysis as no effect; a run's report
    and `validate` call it not modelled. The `sensitivity`
    function and the commands that call it or `calibrate` all refuse it here.

    Raises:
        ChistkaError: names the observable, the scenario and the kinds it models.
    """
    kinds = scenario.scenario.compare
    kind = name.partition(":")[0]
    if kinds is not None and kind not in kinds:
        raise ChistkaError(
            f"{where} '{name}': {scenario.scenario.name} does not model {kind} (its runs give "
            f"0; the kinds it models, its compare list: {', '.join(kinds)})"
        )


def scenario_of(provenance: dict[str, Any] | None) -> str:
    """The scenario's own name, under which its roles are kept (not the file it came from)."""
    provenance = provenance or {}
    return str(provenance.get("scenario_name") or provenance.get("scenario") or "")


INPUT_NOTE = "the run's first day is built from it (an input, never scored)"
"""Note of a row the run's first day was taken from (see `plan`)."""


def plan(scenario: str, compare: list[str] | None, inputs: Collection[str] = ()) -> list[Planned]:
    """Every compared record row with its role in the scenario and whether its kind is modelled.

    `inputs` are the rows the run's first day was taken from (`camps.camp_input_rows`): inputs
    whatever role the record or the scenario gives them.
    """
    planned = []
    for spec in compared_observables():
        row = get(spec.record_id)
        if row.value is None:
            continue
        role = role_in(spec.record_id, scenario)
        is_input = spec.record_id in inputs
        planned.append(
            Planned(
                spec=spec,
                row=row,
                role="input" if is_input else role.role,
                fitted_now=role.fitted_now and not is_input,
                note=INPUT_NOTE if is_input else role.reason,
                modelled=compare is None or spec.kind in compare,
            )
        )
    return planned


def input_rows(results: Results) -> list[str]:
    """The record rows a run's first day was taken from (kept in its population summary)."""
    return list((getattr(results, "population_summary", None) or {}).get("input_rows", ()))


def _value(results: Results, observable: str) -> float:
    try:
        return float(compute(results, observable))
    except ObservableOutOfRun:
        return math.nan


def compare_runs(runs: Iterable[Results]) -> pd.DataFrame:
    """Runs of one scenario against the record (one run, or the seeds of an ensemble).

    `runs` is consumed one run at a time, so that a lazy iterable keeps one run in memory. The
    model value is the mean over the runs that cover the row, with its spread over them as
    model_low and model_high (`chistka.analysis.spread`: the lowest and highest value under 20
    runs, else the 5% and 95% quantiles; all three equal for one run). Rows no run covers are
    left out.

    Raises:
        ChistkaError: no run, or runs of different scenarios.
    """
    planned: list[Planned] = []
    scenario = ""
    columns: list[np.ndarray] = []
    for results in runs:
        name = scenario_of(results.provenance)
        if not columns:
            scenario = name
            planned = plan(name, modelled_kinds(results.provenance), input_rows(results))
        elif name != scenario:
            raise ChistkaError(
                f"runs of different scenarios ('{scenario}' and '{name}') cannot be compared "
                "with the record together: compare each scenario's runs on their own"
            )
        columns.append(np.array([_value(results, p.spec.observable) for p in planned]))
    if not columns:
        raise ChistkaError("no run to compare with the record")
    values = np.column_stack(columns)
    rows = []
    for i, target in enumerate(planned):
        found = values[i][~np.isnan(values[i])]
        if not len(found):
            continue
        model = float(found.mean())
        model_low, model_high = spread(found)
        low, high = target.spec.accepted_range(target.row)
        record = float(target.row.value)  # type: ignore[arg-type]
        status = target.status(model)
        rows.append(
            {
                "record_id": target.spec.record_id,
                "observable": target.spec.observable,
                "label": target.spec.label,
                "role": target.role,
                "status": status,
                "inside": status == "inside" if status in SCORED_STATUSES else None,
                "model": model,
                "model_low": model_low,
                "model_high": model_high,
                "record": record,
                "low": low,
                "high": high,
                "tolerance": tolerance_text(target.spec),
                "allowed": target.spec.allowed(record),
                "read_in_source": target.row.read_in_source,
                "grade": target.row.grade,
                "fitted_now": target.fitted_now,
                "note": target.note,
                "source": target.row.source,
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["inside"] = pd.Series([row["inside"] for row in rows], index=table.index, dtype=object)
    return table


def comparison(results: Results) -> pd.DataFrame:
    """One run against the record (see `compare_runs`), kept in the results' cache.

    The command line, the saved summary and the report each ask for it (0.9 s each at full
    scale); callers get a copy.
    """
    if "comparison" not in results._cache:
        results._cache["comparison"] = compare_runs([results])
    return results._cache["comparison"].copy()


def tolerance_text(spec: ComparedObservable) -> str:
    """A tolerance as people read it: '±3 points' for a share, '±0.5' or '±10%' otherwise."""
    if spec.tolerance_kind == "absolute" and is_share(spec.observable):
        return f"±{spec.tolerance * 100:g} points"
    return spec.tolerance_text


def fit(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The fit per scored role: rows counted, rows inside, their share, the rows outside.

    For validation rows also `fitted_now`: how many of them the scenario's present timeline was
    fitted to by hand (not yet out of sample).
    """
    summary: dict[str, dict[str, Any]] = {}
    for role in SCORED_ROLES:
        chosen = table[(table["role"] == role) & table["status"].isin(SCORED_STATUSES)]
        inside = chosen["status"] == "inside"
        entry: dict[str, Any] = {
            "rows": len(chosen),
            "inside": int(inside.sum()),
            "share": float(inside.mean()) if len(chosen) else math.nan,
            "outside": [str(i) for i in chosen.loc[~inside, "record_id"]],
        }
        if role == "validation":
            entry["fitted_now"] = int(chosen["fitted_now"].astype(bool).sum())
        summary[role] = entry
    return summary


def fit_text(summary: dict[str, dict[str, Any]]) -> str:
    """The fit in one line: 'calibration 10 of 12 inside (83%); validation 3 of 8 inside (38%)'.

    A role without rows: 'no validation row'.
    """
    parts = []
    for role, entry in summary.items():
        if not entry["rows"]:
            parts.append(f"no {role} row")
            continue
        text = f"{role} {entry['inside']} of {entry['rows']} inside ({entry['share']:.0%})"
        if entry.get("fitted_now"):
            text += f", {entry['fitted_now']} of them fitted by the present timeline"
        parts.append(text)
    return "; ".join(parts)


def fit_line(summary: dict[str, dict[str, Any]]) -> str:
    """The fit as `chistka run` and `chistka validate` give it under their tables.

    'Fit: calibration 10 of 12 inside (83%); validation 3 of 8 inside (38%)' (`fit_text`).
    """
    return f"Fit: {fit_text(summary)}"


def parameter_budget(
    fitted: list[dict[str, Any]] | None,
    summary: dict[str, dict[str, Any]],
    changed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fitted parameters against calibration rows: at most half as many (the project's rule).

    `fitted` is the run's provenance list of fitted values (the ``[[fitted]]`` tables of the
    scenario's free file that the run's scenario kept; each path and date counts once); `summary`
    the run's `fit`. Values chosen by hand (``by = "hand"``) count like those `chistka calibrate`
    fitted: both were chosen to match rows of the record; `by_hand` says how many of the count
    they are. `changed` is the provenance's `fitted_changed`, the built-in's fitted values the
    run's scenario changed (a user's file under a built-in's name, a what-if): they are no fit
    and are not counted, and where there are any the budget lists them under `changed` (path,
    date, the run's value and the fit's), so that the report can say so.
    """
    entries = {(entry.get("path"), entry.get("date")): entry for entry in fitted or []}
    by_hand = sum(entry.get("by") == "hand" for entry in entries.values())
    rows = int(summary.get("calibration", {}).get("rows", 0))
    budget: dict[str, Any] = {
        "fitted": len(entries),
        "by_hand": by_hand,
        "calibration_rows": rows,
        "at_most": rows // 2,
        "within": len(entries) <= rows // 2,
    }
    if changed:
        budget["changed"] = [
            {key: entry.get(key) for key in ("path", "date", "value", "fitted_value")}
            for entry in changed
        ]
    return budget


def _changed_text(entry: dict[str, Any]) -> str:
    """One changed fitted value in words: 'review.threshold (3 here, fitted 3.48166)'."""

    def shown(value: Any) -> str:
        return f"{value:,.6g}" if isinstance(value, float) else str(value)

    on = f" on {entry['date']}" if entry.get("date") else ""
    value = "none" if entry.get("value") is None else shown(entry["value"])
    return f"{entry['path']}{on} ({value} here, fitted {shown(entry.get('fitted_value'))})"


def budget_text(budget: dict[str, Any]) -> str:
    """The budget in words, e.g. '12 fitted parameters (5 of them by hand, not refitted) ...'.

    In full: '... for 14 calibration rows (at most 7 allowed): over the budget'; without the part
    in brackets when none is by hand, and without ': over the budget' when within it; one
    parameter or row in the singular (the pages read '1 fitted parameters'). Where the
    run's scenario changed fitted values, "; 1 value changed from the fit, not counted:
    review.threshold (3 here, fitted 3.48166)" follows.
    """
    by_hand = budget.get("by_hand", 0)
    fitted, rows = budget["fitted"], budget["calibration_rows"]
    text = (
        f"{fitted} fitted parameter{'' if fitted == 1 else 's'}"
        + (f" ({by_hand} of them by hand, not refitted)" if by_hand else "")
        + f" for {rows} calibration row{'' if rows == 1 else 's'}"
        + f" (at most {budget['at_most']} allowed)"
    )
    if not budget["within"]:
        text += ": over the budget"
    changed = budget.get("changed") or []
    if changed:
        values = "value" if len(changed) == 1 else "values"
        text += f"; {len(changed)} {values} changed from the fit, not counted: " + ", ".join(
            _changed_text(entry) for entry in changed
        )
    return text


def run_summary(results: Results, table: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's key figures (`Results.summary`) with its comparison with the record and its fit.

    `comparison_rows` and `comparison_inside` count the scored rows only (calibration and
    validation rows of modelled kinds); `fit` gives them per role. `table` is the run's
    `comparison` where the caller has it already.
    """
    table = comparison(results) if table is None else table
    scored = table[table["status"].isin(SCORED_STATUSES)]
    summary = results.summary()
    provenance = summary.pop("provenance")
    return {
        **summary,
        "comparison": table.to_dict(orient="records"),
        "comparison_inside": int((scored["status"] == "inside").sum()),
        "comparison_rows": len(scored),
        "fit": fit(table),
        "parameter_budget": parameter_budget(
            provenance.get("fitted"), fit(table), provenance.get("fitted_changed")
        ),
        "provenance": provenance,
    }


def save_run(
    results: Results,
    out_dir: str | Path,
    *,
    extra: Callable[[Path], None] | None = None,
    force: bool = False,
) -> Path:
    """Write a run's directory atomically: `Results.save`'s files, comparison.csv, the summary.

    `extra(directory)` writes more files into the same directory before it is moved into place
    (the command line writes the report there).
    """
    table = comparison(results)

    def write_more(directory: Path) -> None:
        table.to_csv(directory / "comparison.csv", index=False)
        if extra is not None:
            extra(directory)

    return results.save(out_dir, summary=run_summary(results, table), extra=write_more, force=force)
