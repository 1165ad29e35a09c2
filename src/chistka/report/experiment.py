"""An experiment's page, experiment.html: the question, each arm's effect and the data behind it.

For each outcome one chart gives every arm's effect relative to the scenario as it stands (the
mean paired difference over the seeds divided by the baseline's mean, with its 90% interval),
and one gives the values seed by seed, so that a reader sees both the answer and how much it
moves between seeds. Below: the design (what each arm leaves out or changes, and why), the
table of effects, and links to the files every chart is drawn from (outcomes.csv, effects.csv,
experiment.json, each arm's ensemble folder).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from chistka.analysis.experiment import (
    BASELINE,
    EFFECTS_FILE,
    EXPERIMENT_FILE,
    FIT_FILE,
    OUTCOMES_FILE,
    read_document,
)
from chistka.analysis.observables import is_share, meaning, title, unit
from chistka.analysis.spread import spread_name
from chistka.analysis.variants import direction_words
from chistka.errors import ChistkaError
from chistka.figures import CUSTOMDATA_NAMES
from chistka.report.common import (
    FigureRenderer,
    count,
    esc,
    header_cells,
    meta_table,
    missing,
    page,
    section,
    share,
    table,
)

REPORT_FILE = "experiment.html"

GROUP_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e", "#17becf")
"""Colours of the arms' groups, in the order the groups first appear."""


INTERVAL = "90% interval of the relative change"
"""What the whiskers of an effect's bar are, as its numbers' columns say."""


def interval_bars(rows: pd.DataFrame) -> dict[str, Any]:
    """Plotly error bars from the relative change to the ends of its 90% interval."""
    return {
        "type": "data",
        "symmetric": False,
        "array": (rows["relative_high"] - rows["relative"]).fillna(0).tolist(),
        "arrayminus": (rows["relative"] - rows["relative_low"]).fillna(0).tolist(),
    }


def _percent(value: Any) -> str:
    return "—" if missing(value) else f"{float(value):+.1%}"


def _interval(low: Any, high: Any, formatter=_percent) -> str:
    if missing(low) or missing(high):
        return "—"
    return f"{formatter(low)} to {formatter(high)}"


def _signed(value: Any) -> str:
    return "—" if missing(value) else f"{float(value):+,.0f}"


def amount(value: Any, outcome: str) -> str:
    """An outcome's value as the tables give it: a share in %, a count with separators."""
    return share(value) if is_share(outcome) else count(value)


def change_amount(value: Any, outcome: str) -> str:
    """A change of an outcome: of a share in percentage points, of a count signed.

    A change of a share in % would read as the relative change (the next column).
    """
    if is_share(outcome) and not missing(value):
        return f"{float(value) * 100:+.1f} points"
    return _signed(value)


def unit_text(outcome: str) -> str:
    """What an outcome's mean and change are counted in, for a table's unit column.

    The effects table gave "mean" and "change" with no unit.
    """
    if is_share(outcome):
        return f"{unit(outcome)} (change in points)"
    return unit(outcome)


def with_unit(value: Any, outcome: str) -> str:
    """A value with its unit for a chart's title: "43,356 arrests", "17.6%"."""
    return amount(value, outcome) if is_share(outcome) else f"{count(value)} {unit(outcome)}"


def seeds_text(seeds: Sequence[int], per: str = "arm") -> str:
    """The seeds each arm runs at, with their count: 'seeds 1, 2 (2 per arm)'.

    'seeds (every arm) 5' read as a count.
    """
    listed = ", ".join(str(seed) for seed in seeds)
    if len(seeds) == 1:
        return f"seed {listed} (1 seed per {per})"
    return f"seeds {listed} ({len(seeds)} per {per})"


def scenario_text(scenario: str) -> str:
    """A design's scenario: a built-in's name, or a file by its name (not its path).

    The report gave the server's path ('/tmp/.../designs/small.toml').
    """
    if scenario.endswith(".toml"):
        return f"{Path(scenario).name} (a scenario file the design names)"
    return scenario


def write_experiment_report(out_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write experiment.html into an experiment's folder (or to `path`) from its saved tables.

    Raises:
        ChistkaError: the folder holds no experiment, or its outcomes and effects are missing
            (the experiment has not finished: run it again with --resume).
    """
    out_dir = Path(out_dir)
    document = read_document(out_dir)
    for name in (OUTCOMES_FILE, EFFECTS_FILE):
        if not (out_dir / name).is_file():
            raise ChistkaError(
                f"{out_dir / name}: missing; the experiment has not finished (run it again with "
                "--resume)"
            )
    outcomes = pd.read_csv(out_dir / OUTCOMES_FILE)
    effects = pd.read_csv(out_dir / EFFECTS_FILE, keep_default_na=False, na_values=[""])
    design = document["design"]
    header = design["experiment"]
    arms = design["arms"]
    groups = list(dict.fromkeys(arm.get("group", "") for arm in arms))
    colour = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}
    arm_group = {arm["name"]: arm.get("group", "") for arm in arms}
    labels = {BASELINE: f"{header['scenario']} as it stands"} | {
        a["name"]: a["label"] for a in arms
    }
    figures = FigureRenderer(prefix="chistka-experiment", height=max(320, 60 + 44 * len(arms)))
    parts = [
        f"<h1>{esc(header['title'])}</h1>",
        f"<p><strong>Question.</strong> {esc(header['question'])}</p>",
        meta_table(
            [
                ("experiment", document["experiment"]),
                ("scenario", scenario_text(header["scenario"])),
                ("seeds", seeds_text(document["seeds"])),
                ("scale", document["scale"] if document["scale"] is not None else "the scenario's"),
                ("arms", f"{len(arms)} and the scenario as it stands"),
                (
                    "variant: changed in every arm",
                    "; ".join(f"{k}={v}" for k, v in (document.get("set") or {}).items())
                    or "none (the scenario's own values)",
                ),
                *(
                    [
                        (
                            "fit: in place of the scenario's fitted values",
                            f"{document.get('fit_label', '')}: "
                            + "; ".join(f"{k}={v}" for k, v in document["fit"].items()),
                        )
                    ]
                    if document.get("fit")
                    else []
                ),
                ("chistka", document.get("package_version", "")),
            ]
        ),
    ]
    if header.get("note"):
        parts.append(f'<p class="note">{esc(header["note"])}</p>')
    parts.append(
        section(
            "overview",
            "The answer at a glance",
            figures.add(
                _overview(effects, header["outcomes"], arms),
                f"{document['experiment']}-overview",
                height=overview_height(len(header["outcomes"])),
            ),
            "Each cell: the arm's mean paired change of the outcome, relative to the scenario as "
            "it stands; a cell whose 90% interval includes no change is marked '~'. Empty: the "
            "outcome names what the arm leaves out.",
        )
    )
    for outcome in header["outcomes"]:
        rows = effects[(effects["outcome"] == outcome) & (effects["arm"] != BASELINE)]
        if rows.empty:
            continue
        base = effects[(effects["outcome"] == outcome) & (effects["arm"] == BASELINE)]
        base_mean = float(base["arm_mean"].iloc[0]) if len(base) else float("nan")
        effect = go.Figure()
        for group in groups:
            chosen = rows[rows["arm"].map(arm_group) == group]
            if chosen.empty:
                continue
            effect.add_bar(
                y=chosen["label"],
                x=chosen["relative"],
                orientation="h",
                name=group or "arms",
                marker_color=colour[group],
                error_x=interval_bars(chosen),
                meta={"error_x": INTERVAL},
                customdata=[
                    [
                        NO_CHANGE
                        if no_change(difference, low, high)
                        else change_amount(difference, outcome)
                        + ("" if is_share(outcome) else f" {unit(outcome)}"),
                        seeds,
                    ]
                    for difference, low, high, seeds in zip(
                        chosen["difference"],
                        chosen["difference_low"],
                        chosen["difference_high"],
                        chosen["seeds"],
                        strict=True,
                    )
                ],
                hovertemplate="%{y}: %{x:+.1%} (%{customdata[0]}, %{customdata[1]} seeds)"
                "<extra></extra>",
            )
        effect.add_vline(x=0, line_color="grey")
        effect.update_layout(
            title=chart_title(
                outcome,
                "change against the scenario as it stands (its mean: "
                f"{with_unit(base_mean, outcome)})",
            ),
            xaxis={"tickformat": "+.0%", "title": "mean paired change, 90% interval"},
            yaxis={"autorange": "reversed"},
            barmode="group",
        )
        seeds = go.Figure()
        values = outcomes[outcomes["outcome"] == outcome]
        for arm in [BASELINE, *(a["name"] for a in arms)]:
            chosen = values[values["arm"] == arm]
            seeds.add_scatter(
                x=chosen["value"],
                y=[labels[arm]] * len(chosen),
                mode="markers",
                name=labels[arm],
                marker={"color": "#444" if arm == BASELINE else colour[arm_group[arm]], "size": 8},
                text=[f"seed {s}" for s in chosen["seed"]],
                hovertemplate="%{y}, %{text}: "
                + ("%{x:.1%}" if is_share(outcome) else f"%{{x:,.0f}} {unit(outcome)}")
                + "<extra></extra>",
                showlegend=False,
            )
        seeds.update_layout(
            title=chart_title(outcome, f"each seed's value, arm by arm ({unit(outcome)})"),
            yaxis={"autorange": "reversed"},
            xaxis={"rangemode": "tozero", "tickformat": ".0%" if is_share(outcome) else ",.0f"},
        )
        parts.append(
            section(
                f"outcome-{len(parts)}",
                title(outcome),
                figures.add(effect, f"{outcome}-change", heading=title(outcome))
                + figures.add(seeds, f"{outcome}-seeds", heading=title(outcome)),
                f"{esc(outcome_meaning(outcome))}. Bars: the mean over the seeds of the arm's "
                "value less the baseline's at the same seed, divided by the baseline's mean; "
                "whiskers: its 90% interval (Student's t over the seeds). Points: each seed's "
                f"value. In the files: <code>{esc(outcome)}</code>.",
            )
        )
    parts.append(section("design", "The arms", _design_table(arms)))
    if (out_dir / FIT_FILE).is_file():
        parts.append(
            section(
                "fit",
                "Each arm against the record",
                _fit_table(pd.read_csv(out_dir / FIT_FILE), labels),
                "Calibration and validation rows inside, over the seeds (fewest - most). Only the "
                "scenario as it stands is fitted to the calibration rows; the arms are what-ifs "
                "and need not fit. With a variant, the first row says whether the variant is "
                "still a fit (nothing was refitted).",
            )
        )
    parts.append(
        section(
            "effects",
            "Effects, arm by arm",
            _effects_table(effects, labels),
            "Mean and change in the outcome's unit: a count of represented persons (arrests, "
            "sentences, ...) or a share in %, whose change is in percentage points. Change: the "
            "mean over the seeds of the arm's value less the scenario's at the same seed; "
            "relative: that change divided by the scenario's mean. —: no value, where the "
            "outcome names what the arm leaves out (missing, not zero), or no interval from one "
            "seed."
            + no_change_note(
                zip(
                    effects.loc[effects["arm"] != BASELINE, "difference"],
                    effects.loc[effects["arm"] != BASELINE, "difference_low"],
                    effects.loc[effects["arm"] != BASELINE, "difference_high"],
                    strict=True,
                )
            )
            + few_seeds_note(effects["relative_low"], len(document["seeds"])),
        )
    )
    parts.append(section("data", "The data behind the charts", _links(document)))
    text = page(f"chistka experiment: {header['title']}", parts)
    target = Path(path) if path is not None else out_dir / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


OVERVIEW_ROW = 36
"""Height in pixels of one outcome's row in the overview heat map."""


def overview_height(outcomes: int) -> int:
    """The overview's height: a row per outcome that its label can be read in, and the rest.

    The outcomes were its columns, whose labels in words crowded and squeezed the map as the
    outcomes grew (eleven in centre-or-periphery); as rows they take height.
    """
    return max(320, 190 + OVERVIEW_ROW * outcomes)


def _overview(effects: pd.DataFrame, outcomes: list[str], arms: list[dict[str, Any]]) -> go.Figure:
    """A heat map of every arm's relative change on every outcome, with its value written in.

    An outcome per row, named in words (its code in the hover), an arm per column. Its numbers
    (the CSV under it) give each cell's outcome code, the outcome's unit and the arm's name as
    well, the keys of effects.csv and outcomes.csv (in words only, the CSV
    could not be joined with them).
    """
    names = [arm["name"] for arm in arms]
    labels = [arm["label"] for arm in arms]
    words = [title(outcome) for outcome in outcomes]
    if len(set(words)) < len(words):
        words = list(outcomes)
    chosen = effects[effects["arm"].isin(names)].set_index(["arm", "outcome"])
    differences = chosen["difference"] if "difference" in chosen else pd.Series(dtype=float)
    values, texts = [], []
    for outcome in outcomes:
        row, text = [], []
        for name in names:
            key = (name, outcome)
            relative = chosen["relative"].get(key, float("nan"))
            low = chosen["relative_low"].get(key, float("nan"))
            high = chosen["relative_high"].get(key, float("nan"))
            row.append(None if missing(relative) else float(relative))
            unsure = not missing(low) and not missing(high) and low <= 0 <= high
            if no_change(differences.get(key, float("nan")), low, high):
                text.append("no change")
            else:
                shown = "" if missing(relative) else _percent(relative) + (" ~" if unsure else "")
                text.append(shown)
        values.append(row)
        texts.append(text)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=labels,
            y=words,
            text=texts,
            customdata=[[[outcome, unit(outcome), name] for name in names] for outcome in outcomes],
            meta={CUSTOMDATA_NAMES: ["outcome", "outcome_unit", "arm"]},
            name="relative change",
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0,
            zmin=-1,
            zmax=1,
            colorbar={"title": "change", "tickformat": "+.0%"},
            hovertemplate="%{y} (%{customdata[0]})<br>%{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Every arm's change of every outcome, against the scenario as it stands",
        yaxis={"autorange": "reversed"},
        xaxis={"tickangle": 0},
    )
    return figure


NO_CHANGE = "no change at any seed"
"""What an effect reads where the arm's value is the scenario's at every seed (`no_change`)."""


def no_change(difference: Any, low: Any, high: Any) -> bool:
    """Whether every seed's paired difference is exactly zero.

    The mean difference is 0 and so is its interval (no spread between the seeds), or, from one
    seed, that seed's difference is 0. Such an arm's lever acts outside the outcome's period
    (or never reaches it); "+0 (+0 to +0)" and "+0.0%" read as a measured effect that rounds to
    nothing. A mean of 0 from differences that cancel has an interval
    and is not this.
    """
    if missing(difference) or float(difference) != 0:
        return False
    if missing(low) and missing(high):
        return True
    return not missing(low) and not missing(high) and float(low) == 0 and float(high) == 0


def no_change_note(rows: Any) -> str:
    """A sentence for an effects table with an arm of `NO_CHANGE` ('' if none has it).

    `rows` are (difference, low, high) of the arms' effects.
    """
    if not any(no_change(*row) for row in rows):
        return ""
    return (
        f" {NO_CHANGE.capitalize()}: the arm's value is the scenario's at every seed, to the "
        "person (its lever acts outside the outcome's period, or never reaches it)."
    )


def few_seeds_note(relative_lows: Any, seeds: int) -> str:
    """A sentence for an effects table whose relative intervals pass -100% ('' if none does).

    At 2 seeds an interval such as "-125.4% to +31.9%" (fewer sentences than
    none) stood in the table unexplained; Student's t over so few seeds is that wide.
    """
    lows = pd.to_numeric(pd.Series(list(relative_lows), dtype=object), errors="coerce")
    if not (lows < -1).any():
        return ""
    return (
        " An interval below -100% (fewer than none) is the mark of too few seeds: Student's t "
        f"over {seeds} seeds is that wide. Run more seeds (--seeds) before reading such an "
        "arm's effect."
    )


def _design_table(arms: list[dict[str, Any]]) -> str:
    rows = []
    for arm in arms:
        changes = [f"without {name}" for name in arm.get("without", [])]
        changes += [f"{key} = {json.dumps(value)}" for key, value in arm.get("set", {}).items()]
        rows.append(
            f"<tr><td>{esc(arm['name'])}</td><td>{esc(arm['label'])}</td>"
            f"<td>{esc(arm.get('group', ''))}</td><td>{'<br>'.join(esc(c) for c in changes)}</td>"
            f"<td>{esc(arm.get('why', ''))}</td></tr>"
        )
    return table(header_cells(["arm", "label", "group", "what it changes", "why"]), rows)


def _fit_table(fit: pd.DataFrame, labels: dict[str, str]) -> str:
    rows = []
    for arm, runs in fit.groupby("arm", sort=False):
        cells = []
        for role in ("calibration", "validation"):
            inside, total = runs[f"{role}_inside"], int(runs[f"{role}_rows"].max())
            span = (
                f"{inside.min()}"
                if inside.min() == inside.max()
                else f"{inside.min()}-{inside.max()}"
            )
            cells.append(f'<td class="num">{span} of {total}</td>')
        rows.append(f"<tr><td>{esc(labels.get(arm, arm))}</td>{''.join(cells)}</tr>")
    head = header_cells(["arm", "calibration rows inside", "validation rows inside"])
    return table(head, rows)


def _effects_table(effects: pd.DataFrame, labels: dict[str, str]) -> str:
    rows = []
    previous = None
    for row in effects.itertuples(index=False):
        name = row.outcome
        first = name != previous
        previous = name
        named = (
            f"<tr><td>{outcome_cell(name) if first else ''}</td>"
            f"<td>{esc(unit_text(name)) if first else ''}</td>"
            f"<td>{esc(labels.get(row.arm, row.arm))}</td>"
            f'<td class="num">{amount(row.arm_mean, name)}</td>'
            f'<td class="num">{amount(row.arm_low, name)} to {amount(row.arm_high, name)}</td>'
            f'<td class="num">{row.seeds}</td>'
        )
        if row.arm == BASELINE:
            rows.append(f"{named}<td></td><td></td><td></td><td></td></tr>")
            continue
        if no_change(row.difference, row.difference_low, row.difference_high):
            rows.append(f'{named}<td class="num" colspan="4">{NO_CHANGE}</td></tr>')
            continue
        interval = _interval(
            row.difference_low, row.difference_high, functools.partial(change_amount, outcome=name)
        )
        rows.append(
            f"{named}"
            f'<td class="num">{change_amount(row.difference, name)}</td>'
            f'<td class="num">{interval}</td>'
            f'<td class="num">{_percent(row.relative)}</td>'
            f'<td class="num">{_interval(row.relative_low, row.relative_high)}</td></tr>'
        )
    head = header_cells(
        [
            "outcome",
            "unit",
            "arm",
            "mean",
            spread_name(effects["seeds"].dropna().astype(int).tolist()),
            "seeds",
            "change",
            "90% interval",
            "relative change",
            "90% interval",
        ]
    )
    return table(head, rows)


def chart_title(outcome: str, what: str) -> str:
    """A chart's title: the outcome in words; below, in small, what the chart shows and the code.

    The titles gave the code alone, such as
    "arrests_by_channel:self_protection/1937-1938: change against ...". The code stays, as in
    outcomes.csv and effects.csv, so that a reader finds the data.
    """
    return f"{title(outcome)}<br><sup>{what}; in the files {outcome}</sup>"


def outcome_cell(outcome: str) -> str:
    """A table's outcome cell: the outcome in words, its code (as in the files) below."""
    return f"{esc(title(outcome))}<br><code>{esc(outcome)}</code>"


def outcome_meaning(outcome: str) -> str:
    """What an outcome measures, in words, with its argument.

    The sections gave the observable's code alone, such as
    arrests_by_channel:self_protection/1937-1938.
    """
    argument = outcome.partition(":")[2]
    words = meaning(outcome)
    return f"{words[:1].upper()}{words[1:]}; here {argument}" if argument else words


def _links(document: dict[str, Any]) -> str:
    files = [
        (OUTCOMES_FILE, "every arm's value of every outcome, seed by seed"),
        (EFFECTS_FILE, "the table above: each arm's effect on each outcome"),
        (FIT_FILE, "each arm's runs against the record, seed by seed"),
        (EXPERIMENT_FILE, "the design, its seeds and scale (the folder's plan)"),
    ]
    items = [f'<li><a href="{esc(name)}">{esc(name)}</a>: {esc(what)}</li>' for name, what in files]
    for arm in document["arms"]:
        items.append(
            f'<li><a href="{esc(arm)}/">{esc(arm)}/</a>: the arm\'s runs, one folder per seed '
            f"(`chistka report {esc(arm)}` draws its ensemble report)</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


VARIANTS_REPORT = "variants.html"


def write_variants_report(out_dir: str | Path) -> Path:
    """Write variants.html: each arm's relative effect at every value (or fit), side by side.

    Raises:
        ChistkaError: the folder holds no finished set of variants.
    """
    from chistka.analysis.variants import (
        FITS_FILE,
        SPREAD_FILE,
        TABLE_FILE,
        read_variants_document,
        spread_table,
        variant_axis,
    )

    out_dir = Path(out_dir)
    document = read_variants_document(out_dir)
    if not (out_dir / TABLE_FILE).is_file():
        raise ChistkaError(
            f"{out_dir / TABLE_FILE}: missing; the variants have not finished (run again with "
            "--resume)"
        )
    table_data = pd.read_csv(out_dir / TABLE_FILE, dtype={"value": str})
    parameter, values = variant_axis(document)
    study = document.get("fits")
    header = document["design"]["experiment"]
    figures = FigureRenderer(
        prefix="chistka-variants", height=max(320, 60 + 44 * len(document["design"]["arms"]))
    )
    fits = {value: rows.iloc[0] for value, rows in table_data.groupby("value", sort=False)}
    if study is None:
        heading = f"at several values of {parameter}"
        about = [
            ("parameter varied (in every arm)", parameter),
            ("values", ", ".join(values)),
        ]
        note = (
            "Nothing is refitted at any value: the legend says how many calibration rows each "
            "value's baseline keeps inside (fewest over the seeds), so that an answer at a value "
            "that no longer fits the record is read as such."
        )
    else:
        heading = f"at {len(values)} fits of the study {study['study']}"
        about = [
            ("study", f"{study['study']} in {study['storage']}"),
            (
                "its trials",
                f"{study['complete_trials']} complete; the {len(values)} best with distinct "
                f"values run here ({study['loss_kind']} loss at seeds {study['study_seeds']}, "
                f"scale {study['study_scale']})",
            ),
        ]
        note = (
            "Each fit is one of the study's best trials, its values in place of the scenario's "
            "fitted ones in the baseline and every arm. The spread of an arm's effect over the "
            "fits is the part of the answer's uncertainty that comes from what the calibration "
            "rows cannot tell apart. It is a range over the sampler's best trials, not a "
            "posterior. The legend gives each trial's loss in the study and how many calibration "
            "rows its baseline keeps inside at this experiment's seeds (fewest over the seeds)."
        )
    parts = [
        f"<h1>{esc(header['title'])}: {esc(heading)}</h1>",
        f"<p><strong>Question.</strong> {esc(header['question'])}</p>",
        meta_table(
            [
                ("experiment", document["experiment"]),
                ("scenario", scenario_text(header["scenario"])),
                *about,
                (
                    "also changed",
                    "; ".join(f"{k}={v}" for k, v in document["set"].items()) or "none",
                ),
                ("seeds", seeds_text(document["seeds"], "arm, every value")),
            ]
        ),
        f'<p class="note">{esc(note)}</p>',
    ]
    losses = {fit["label"]: fit["loss"] for fit in study["fits"]} if study else {}
    colours = {v: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, v in enumerate(values)}
    for outcome in header["outcomes"]:
        rows = table_data[table_data["outcome"] == outcome]
        if rows.empty:
            continue
        figure = go.Figure()
        for value in values:
            chosen = rows[rows["value"] == value]
            fit = fits[value]
            name = f"{value} (loss {losses[value]:.3g};" if study else f"{parameter}={value} ("
            figure.add_scatter(
                y=chosen["label"],
                x=chosen["relative"],
                mode="markers",
                marker={"color": colours[value], "size": 10},
                name=f"{name} {fit['baseline_calibration_inside']} of "
                f"{fit['calibration_rows']} calibration rows)",
                error_x=interval_bars(chosen),
                meta={"error_x": INTERVAL},
                hovertemplate="%{y}: %{x:+.1%}<extra>" + esc(name.rstrip(" (;")) + "</extra>",
            )
        figure.add_vline(x=0, line_color="grey")
        at = "fit" if study else f"value of {parameter}"
        figure.update_layout(
            title=chart_title(outcome, f"each arm's change at each {at}"),
            xaxis={"tickformat": "+.0%", "title": "mean paired change, 90% interval"},
            yaxis={"autorange": "reversed"},
        )
        chart = figures.add(
            figure, f"{outcome}-change-by-{'fit' if study else 'value'}", heading=title(outcome)
        )
        parts.append(section(f"outcome-{len(parts)}", title(outcome), chart))
    parts.append(
        section(
            "spread",
            "Over all the values" if not study else "Over all the fits",
            _spread_table(spread_table(table_data)),
            "Per outcome and arm: the lowest and highest mean relative change, the widest ends "
            "of their 90% intervals, and whether every value's change (and interval) lies on the "
            "same side of zero.",
        )
    )
    if study:
        parts.append(section("fits", "The fits", _fits_values(study)))
    links = [
        f'<li><a href="{esc(folder)}/experiment.html">{esc(folder)}/</a>: '
        f"{esc(value if study else f'{parameter}={value}')}, the whole experiment</li>"
        for value, folder in zip(values, document["folders"], strict=True)
    ]
    links.append(f'<li><a href="{TABLE_FILE}">{TABLE_FILE}</a>: the points of the charts</li>')
    links.append(f'<li><a href="{SPREAD_FILE}">{SPREAD_FILE}</a>: the table over all values</li>')
    if study:
        links.append(f'<li><a href="{FITS_FILE}">{FITS_FILE}</a>: the fits\' values</li>')
    links.append('<li><a href="variants.json">variants.json</a>: the design and the values</li>')
    parts.append(section("data", "The data behind the charts", "<ul>" + "".join(links) + "</ul>"))
    path = out_dir / VARIANTS_REPORT
    path.write_text(page(f"chistka variants: {header['title']}", parts), encoding="utf-8")
    return path


def _spread_table(spread: pd.DataFrame) -> str:
    rows = [
        f"<tr><td>{outcome_cell(row.outcome)}</td><td>{esc(row.label)}</td>"
        f'<td class="num">{row.values}</td>'
        f'<td class="num">{_interval(row.lowest, row.highest)}</td>'
        f'<td class="num">{_interval(row.lowest_low, row.highest_high)}</td>'
        f"<td>{direction_words(row.same_direction, row.lowest, row.highest)}</td>"
        f"<td>{'yes' if row.intervals_agree else 'no'}</td></tr>"
        for row in spread.itertuples(index=False)
    ]
    head = header_cells(
        [
            "outcome",
            "arm",
            "values",
            "mean change, lowest to highest",
            "90% intervals, widest",
            "same direction",
            "intervals agree",
        ]
    )
    return table(head, rows)


def _fits_values(study: dict[str, Any]) -> str:
    names = list(dict.fromkeys(k for fit in study["fits"] for k in fit["values"]))
    rows = [
        f'<tr><td>{esc(fit["label"])}</td><td class="num">{fit["loss"]:.4g}</td>'
        + "".join(f'<td class="num">{_fit_value(fit["values"].get(n))}</td>' for n in names)
        + "</tr>"
        for fit in study["fits"]
    ]
    return table(header_cells(["fit", "loss", *names]), rows)


def _fit_value(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
