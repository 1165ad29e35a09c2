"""calibrate's fitted.toml and calibration.html: written atomically, never over a foreign file."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chistka.analysis.fitted_file import FITTED_MARK
from chistka.cli import app
from chistka.engine import Sim
from chistka.errors import ChistkaError
from chistka.outputs import check_output_file, write_atomic
from chistka.report.calibration import REPORT_MARK

TARGETS = "id,observable,value,low,high\npurge1921,expelled_share:1921,0.6,0.55,0.65\n"
EARLIER = f"[scenario]\nname = 'x'\n{FITTED_MARK}2026-01-01 against t.csv\n"


def test_a_new_file_is_written_with_readable_permissions(tmp_path):
    path = write_atomic(tmp_path / "sub" / "fitted.toml", EARLIER, FITTED_MARK, "chistka calibrate")
    assert path.read_text(encoding="utf-8") == EARLIER
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in path.parent.iterdir()) == ["fitted.toml"]


def test_an_earlier_output_is_replaced(tmp_path):
    path = tmp_path / "calibration.html"
    path.write_text(f"<html>{REPORT_MARK}old</title></html>", encoding="utf-8")
    write_atomic(path, f"<html>{REPORT_MARK}new</title></html>", REPORT_MARK, "chistka calibrate")
    assert "new" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["file", "folder", "link"])
def test_a_foreign_target_is_refused_and_kept(tmp_path, kind):
    path = tmp_path / "fitted.toml"
    if kind == "file":
        path.write_text("my own notes\n", encoding="utf-8")
    elif kind == "folder":
        path.mkdir()
    else:
        (tmp_path / "elsewhere.toml").write_text(EARLIER, encoding="utf-8")
        path.symlink_to(tmp_path / "elsewhere.toml")
    with pytest.raises(ChistkaError, match="will not"):
        write_atomic(path, EARLIER, FITTED_MARK, "chistka calibrate")
    if kind == "file":
        assert path.read_text(encoding="utf-8") == "my own notes\n"
    assert path.exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "fitted.toml"
    path.write_text(EARLIER, encoding="utf-8")

    def broken(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(path, EARLIER + "# new\n", FITTED_MARK, "chistka calibrate")
    assert path.read_text(encoding="utf-8") == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fitted.toml"]


def test_check_output_file_accepts_a_missing_path(tmp_path):
    check_output_file(tmp_path / "absent.toml", FITTED_MARK, "chistka calibrate")


def calibrate_into(tmp_path: Path, monkeypatch, out: Path):
    """`chistka calibrate` of one trial into `out`, which must be refused before any run."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("a simulation started before the outputs were checked")

    monkeypatch.setattr(Sim, "run", refuse)
    monkeypatch.setattr(Sim, "run_with_state", refuse)
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    arguments = ["calibrate", "party-purges-1921-1936", "--targets", str(targets)]
    arguments += ["--trials", "1", "--scale", "0.0005", "--out", str(out)]
    return CliRunner().invoke(app, arguments, env={"COLUMNS": "300"})


@pytest.mark.parametrize("name", ["fitted.toml", "calibration.html"])
def test_calibrate_refuses_a_foreign_output_before_any_trial(tmp_path, monkeypatch, name):
    out = tmp_path / "out"
    out.mkdir()
    foreign = out / name
    foreign.write_text("a colleague's file\n", encoding="utf-8")
    result = calibrate_into(tmp_path, monkeypatch, out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "not written by chistka calibrate" in result.output
    assert foreign.read_text(encoding="utf-8") == "a colleague's file\n"
    assert sorted(p.name for p in out.iterdir()) == [name]


RUN_PROVENANCE = '{"package_version": "0", "environment": {"packages": {"chistka": "0"}}}'


@pytest.mark.parametrize(
    ("output", "text", "whose"),
    [
        ("provenance.json", RUN_PROVENANCE, "a run's"),
        ("plan.json", '{"format": 1, "package_version": "0"}', "an ensemble's"),
        ("sensitivity.csv", "observable,parameter,mu\n", "a sens"),
    ],
)
def test_calibrate_refuses_another_commands_output_folder_before_any_trial(
    tmp_path, monkeypatch, output, text, whose
):
    """calibrate --out checked only its own files' names, so it wrote calibration.html,
    fitted.toml and study.db among a run's files, as compare did (session 44): refused, as
    compare refuses it, before any trial; its own earlier files are no reason to refuse. Another
    command's output is known by a file it wrote, as every command knows it (`check_out`)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / output).write_text(text, encoding="utf-8")
    (out / "study.db").write_bytes(b"")
    result = calibrate_into(tmp_path, monkeypatch, out)
    assert result.exit_code == 2, result.output
    words = " ".join(result.output.split())
    assert f"holds {output}, {whose}" in words and "chistka calibrate does not write" in words
    assert "e.g. --out out/party-purges-1921-1936-calibrate" in words
    assert sorted(p.name for p in out.iterdir()) == sorted([output, "study.db"])


def test_the_fitted_event_carries_the_mark():
    import datetime as dt

    from chistka.analysis.fitted_file import fitted_event_text
    from chistka.scenario import load_scenario

    text = fitted_event_text(
        load_scenario("party-purges-1921-1936"),
        {"review.noise_sd": 1.0},
        targets_path=Path("t.csv"),
        loss=0.1,
        trials=1,
        seeds=(1,),
        when=dt.date(2026, 1, 1),
        scale=0.0005,
    )
    assert FITTED_MARK in text


def _stored_result(tmp_path: Path):
    """A CalibrationResult of three stored trials (no run): the first the scenario's values."""
    import optuna
    import pandas as pd

    from chistka.analysis.calibrate import CalibrationResult
    from chistka.analysis.free import FreeParameter
    from chistka.scenario import load_scenario

    free = [
        FreeParameter(path="review.criteria.origin_peasant", low=-1.0, high=4.0),
        FreeParameter(path="admissions.rate_per_year", low=20_000, high=400_000, log=True),
    ]
    distributions = {
        "review.criteria.origin_peasant": optuna.distributions.FloatDistribution(-1.0, 4.0),
        "admissions.rate_per_year": optuna.distributions.FloatDistribution(
            20_000, 400_000, log=True
        ),
    }
    study = optuna.create_study(direction="minimize")
    for number, (peasant, rate, loss) in enumerate(
        [(2.0, 100_000.0, 0.3), (3.0, 150_000.0, 0.1), (0.0, 50_000.0, 0.5)]
    ):
        study.add_trial(
            optuna.trial.create_trial(
                params={
                    "review.criteria.origin_peasant": peasant,
                    "admissions.rate_per_year": rate,
                },
                distributions=distributions,
                value=loss,
                user_attrs={
                    "model": {"share": 0.30, "total": 1_400_000.0},
                    **({"baseline": True} if number == 0 else {}),
                },
            )
        )
    targets = pd.DataFrame(
        {
            "id": ["share", "total"],
            "observable": ["expelled_share:1921", "party_total:1928-07-01"],
            "value": [0.25, 1_317_369.0],
            "low": [0.22, 1_185_632.0],
            "high": [0.28, 1_449_106.0],
            "label": ["1921 purge: share expelled", "Party members and candidates, July 1928"],
            "row": [1, 2],
        }
    )
    return CalibrationResult(
        best_params=dict(study.best_params),
        best_loss=study.best_value,
        study=study,
        free=free,
        targets=targets,
        scenario=load_scenario("party-purges-1921-1936"),
        scenario_ref="party-purges-1921-1936",
        targets_path=tmp_path / "targets.csv",
        seeds=(1, 2),
        scale=0.02,
        first_loss=0.3,
        loss="band",
    )


def test_the_calibration_report_gives_the_fit_as_a_table_with_its_scale_and_loss(tmp_path):
    """QA 41: calibration.html gave the model's figures only in a chart's hover (in 1.38e+06
    form), not how many targets were inside, nor the scale or the loss; a range read '-1 - 4';
    the importances' numbers named their trace 'trace 0' and their axis 'importance'."""
    from chistka.analysis.calibrate import first_trial_words
    from chistka.report.calibration import write_calibration_report
    from test_figures import assert_every_chart_has_its_numbers, numbers_in_page

    result = _stored_result(tmp_path)
    text = write_calibration_report(result, tmp_path / "calibration.html").read_text("utf-8")
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert "scale 0.02" in body and "mean log distance outside the targets' ranges" in body
    assert "the scenario's own values 0.3" in body
    assert first_trial_words(result) == "the scenario's own values"  # the command's words too
    assert "-1 to 4" in body and "-1 - 4" not in body
    assert "1 of 2 targets inside their range (the mean over the seeds)" in body
    assert (
        "<td>share</td><td>1921 purge: share expelled</td><td>expelled_share:1921</td>"
        "<td>30.0%</td><td>25.0%</td><td>22.0% to 28.0%</td><td>outside</td>" in body
    )
    assert "<td>1,400,000</td><td>1,317,369</td><td>1,185,632 to 1,449,106</td><td>inside" in body
    assert "Fit against the record" not in body
    assert_every_chart_has_its_numbers(text)
    found = dict(numbers_in_page(text))
    assert set(found) == {
        "calibration-loss-history",
        "calibration-fit",
        "calibration-importances",
    }
    assert set(found["calibration-importances"]["trace"]) == {"importance"}
    assert "1.4e+06" not in " ".join(found["calibration-fit"]["text"].dropna())


def test_calibrate_prints_ranges_and_the_inside_count_in_words():
    from chistka.analysis.calibrate import inside_text
    from chistka.report.calibration import range_text

    assert range_text(-1.0, 4.0) == "-1 to 4"
    assert range_text(20_000, 400_000, True) == "20000 to 400000 (log)"
    import pandas as pd

    table = pd.DataFrame({"inside": [True, False, None]})
    assert inside_text(table) == "1 of 2 targets inside their range (the mean over the seeds)"


# --- QA 41 L4-L7, L10: what calibrate records and says -----------------------------------------

FREE_STAMPED = """
[[free]]
path = "exits.candidate_rate_per_year"
low = 0.05
high = 0.4

[[free]]
path = "admissions.rate_per_year"
low = 20000
high = 400000
log = true
"""
"""Two free values of party-purges-1921-1936 whose lines carry scripts/fit_scenario.py's stamp."""

OWN_RATE = 0.1769061055042083
"""party-purges-1921-1936's own exits.candidate_rate_per_year."""


@pytest.fixture
def fake_runs(monkeypatch):
    """Trials without simulations: each target's model value is its target value when
    exits.candidate_rate_per_year is the scenario's own, and off by the distance from it
    otherwise (so that the first trial, the scenario's values, is the best); targets whose ids
    are in the returned set give NaN, as a share of nothing would."""
    import numpy as np

    import chistka.analysis.calibrate as calibrate_module

    nan_ids: set[str] = set()

    def fake(fitted, seed, scale, name, targets):
        off = 1 + abs(fitted.exits.candidate_rate_per_year - OWN_RATE) * 10
        values = targets["value"].to_numpy(dtype=float) * off
        values[targets["id"].astype(str).isin(nan_ids).to_numpy()] = np.nan
        return values, np.zeros(len(targets), dtype=bool)

    monkeypatch.setattr(calibrate_module, "_seed_values", fake)
    return nan_ids


def _invoke_calibrate(tmp_path: Path, targets: str, *extra: str):
    free = tmp_path / "free.toml"
    free.write_text(FREE_STAMPED, encoding="utf-8")
    return CliRunner().invoke(
        app,
        [
            "calibrate",
            "party-purges-1921-1936",
            "--targets",
            targets,
            "--trials",
            "4",
            "--scale",
            "0.02",
            "--free",
            str(free),
            "--out",
            str(tmp_path / "out"),
            *extra,
        ],
        env={"COLUMNS": "300"},
    )


def test_a_study_whose_best_is_the_scenarios_own_values_writes_no_fit(tmp_path, fake_runs):
    """QA 41 L4: cal1's best trial was the scenario's own values; fitted.toml restamped every free
    value "fitted (chistka calibrate, DATE)", dropping scripts/fit_scenario.py's stamp, and
    appended the event of a fit that changed nothing."""
    from chistka.scenario import load_scenario, scenario_text
    from chistka.scenario.fitted import FITTED_NOTE

    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    result = _invoke_calibrate(tmp_path, str(targets))
    assert result.exit_code == 0, result.output
    assert "the scenario's own values stayed the best (trial 0 of 4)" in result.output
    assert "the fit changed no value" in result.output
    # the table's note column
    assert re.search(r"exits\.candidate_rate_per_year .*the scenario's own value", result.output)
    text = (tmp_path / "out" / "fitted.toml").read_text(encoding="utf-8")
    original = scenario_text("party-purges-1921-1936")
    assert text.startswith(original.rstrip("\n") + "\n")  # every line as it was, stamps kept
    added = text[len(original.rstrip("\n") + "\n") :]
    assert FITTED_MARK in added and "[[events]]" not in added and FITTED_NOTE not in text
    assert "over 4 trials" in added and "no value changed" in added  # the study recorded
    assert "scripts/fit_scenario.py, 2026-12-05): the candidates" in text
    assert load_scenario(tmp_path / "out" / "fitted.toml").exits.candidate_rate_per_year == (
        OWN_RATE
    )
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert "stayed the best (trial 0 of 4): the fit changed no value" in html
    assert "<td>its own value</td>" in html


def test_a_fit_that_moves_some_values_restamps_only_those(tmp_path):
    """QA 41 L4: a value the best trial left at the scenario's own keeps its line and stamp."""
    import datetime as dt

    from chistka.analysis.fitted_file import write_fitted_scenario
    from chistka.scenario import scenario_text

    result = _stored_result(tmp_path)  # review.criteria.origin_peasant, admissions.rate_per_year
    own_rate = 132625.7144453329
    result.best_params = {
        "review.criteria.origin_peasant": 3.0,
        "admissions.rate_per_year": own_rate,
    }
    text = write_fitted_scenario(
        result, tmp_path / "fitted.toml", when=dt.date(2027, 1, 1)
    ).read_text(encoding="utf-8")
    original = scenario_text("party-purges-1921-1936")
    rate_line = next(
        line for line in original.splitlines() if line.startswith("rate_per_year = 13")
    )
    assert rate_line in text.splitlines()
    assert "origin_peasant = 3.0" in text and "fitted (chistka calibrate, 2027-01-01)" in text
    assert "stayed the best for admissions.rate_per_year" in text
    assert "[[events]]" in text.split(FITTED_MARK)[1]


def test_the_targets_file_is_recorded_so_that_it_can_be_found_from_elsewhere(
    tmp_path, fake_runs, monkeypatch
):
    """QA 41 L5: fitted.toml said "against pp-targets.csv" and calibration.html "Targets t2.csv",
    the path as typed, which names no file from another folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "pp-targets.csv").write_text(TARGETS, encoding="utf-8")
    monkeypatch.chdir(work)
    result = _invoke_calibrate(tmp_path, "pp-targets.csv")
    assert result.exit_code == 0, result.output
    place = f"{work / 'pp-targets.csv'} (given as pp-targets.csv)"
    text = (tmp_path / "out" / "fitted.toml").read_text(encoding="utf-8")
    assert f"against {place}" in text
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert f"Targets {place}" in html
    recorded = text.split(" against ")[-1].split(" (given as")[0]
    monkeypatch.chdir(tmp_path)
    assert Path(recorded).is_absolute() and Path(recorded).is_file()


def test_a_covered_target_without_a_value_is_a_miss_in_the_count_and_the_table(tmp_path, fake_runs):
    """QA 41 L6: the loss costs a covered target whose runs give NaN as a miss, but fit_table
    showed "no value" and left it out of "N of M inside"."""
    from chistka.analysis.calibrate import calibrate, fit_table, inside_text
    from chistka.report.calibration import write_calibration_report

    fake_runs.add("total")
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "id,observable,value,low,high\n"
        "share,expelled_share:1921,0.25,0.22,0.28\n"
        "total,party_total:1928-07-01,1317369,1185632,1449106\n",
        encoding="utf-8",
    )
    free = tmp_path / "free.toml"
    free.write_text(FREE_STAMPED, encoding="utf-8")
    result = calibrate("party-purges-1921-1936", targets, 1, seeds=(1,), free_path=free)
    assert result.best_loss > 0  # the miss costs
    table = fit_table(result).set_index("id")
    assert table.loc["total", "inside"] is False and table.loc["total", "status"] == "no value"
    assert table.loc["share", "inside"] is True
    words = inside_text(fit_table(result))
    assert words.startswith("1 of 2 targets inside their range")
    assert "1 of them with no value, a miss" in words
    html = write_calibration_report(result, tmp_path / "calibration.html").read_text("utf-8")
    assert "<td>outside: no value at 1 of 1 seed (a miss in the loss)</td>" in html


@pytest.fixture
def nan_at_seeds(monkeypatch):
    """As `fake_runs`, with each seed's values apart (the target's value times 1 + seed / 100)
    and NaN only at the seeds the returned mapping gives for a target's id."""
    import numpy as np

    import chistka.analysis.calibrate as calibrate_module

    nan_seeds: dict[str, set[int]] = {}

    def fake(fitted, seed, scale, name, targets):
        off = (1 + abs(fitted.exits.candidate_rate_per_year - OWN_RATE) * 10) * (1 + seed / 100)
        values = targets["value"].to_numpy(dtype=float) * off
        ids = targets["id"].astype(str)
        values[ids.map(lambda t: seed in nan_seeds.get(t, set())).to_numpy(dtype=bool)] = np.nan
        return values, np.zeros(len(targets), dtype=bool)

    monkeypatch.setattr(calibrate_module, "_seed_values", fake)
    return nan_seeds


def test_a_target_without_a_value_at_some_seeds_shows_its_mean_over_the_others(
    tmp_path, nan_at_seeds
):
    """A target with no value at one seed of three was "no value" in the printed count and "-"
    in calibration.html and its numbers, hiding how close the other seeds came. Now the report
    gives the mean over the seeds with a value and how many had none; the target stays a miss
    (outside), and one with no value at any seed still reads as none."""
    from chistka.analysis.observables import observable_number
    from test_figures import numbers_in_page

    nan_at_seeds.update({"total": {1}, "gone": {1, 2, 3}})
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "id,observable,value,low,high\n"
        "share,expelled_share:1921,0.25,0.22,0.28\n"
        "total,party_total:1928-07-01,1317369,1185632,1449106\n"
        "gone,party_total:1929-07-01,1500000,,\n",
        encoding="utf-8",
    )
    result = _invoke_calibrate(tmp_path, str(targets), "--seeds", "1,2,3")
    assert result.exit_code == 0, result.output
    words = (
        "1 of 3 targets inside their range (the mean over the seeds; 2 of them with no value at "
        "one seed or more, a miss)"
    )
    assert words in " ".join(result.output.split())
    mean = observable_number(1317369 * (1.02 + 1.03) / 2, "party_total:1928-07-01")
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    body = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert (
        f"<td>party_total:1928-07-01</td><td>{mean} (no value at 1 of 3 seeds)</td>"
        "<td>1,317,369</td><td>1,185,632 to 1,449,106</td>"
        "<td>outside: no value at 1 of 3 seeds (a miss in the loss)</td>" in body
    )
    assert (
        "<td>party_total:1929-07-01</td><td>-</td><td>1,500,000</td>"
        "<td>1,200,000 to 1,800,000</td><td>outside: no value at 3 of 3 seeds (a miss in the "
        "loss)</td>" in body
    )
    fit = dict(numbers_in_page(html))["calibration-fit"].set_index(["trace", "x"])
    apart = "model / target over the seeds with a value (a miss in the loss)"
    assert fit.loc[(apart, "total"), "y"] == pytest.approx((1.02 + 1.03) / 2)
    assert f"model {mean} (no value at 1 of 3 seeds)" in fit.loc[(apart, "total"), "text"]
    assert (apart, "gone") not in fit.index
    assert fit.loc[("model / target", "share"), "y"] == pytest.approx(1.02)
    assert math.isnan(fit.loc[("model / target", "total"), "y"])
    assert "model -," in fit.loc[("model / target", "gone"), "text"]


def test_fit_table_gives_the_mean_and_the_seeds_without_a_value_of_a_missed_target(tmp_path):
    """fit_table: a target without a value at some seeds keeps its mean over the others and the
    count of seeds without one, and stays outside ('no value'); a study made before the count
    was recorded reads as before (no mean, an unknown count)."""
    import optuna

    from chistka.analysis.calibrate import (
        NO_VALUE_ATTR,
        NO_VALUE_SEEDS_ATTR,
        fit_table,
        inside_text,
    )
    from chistka.report.calibration import model_text

    stored = _stored_result(tmp_path)
    best = stored.study.best_trial
    for attrs in (
        {"model": {"share": 0.30, "total": 1_400_000.0}, NO_VALUE_SEEDS_ATTR: {"total": 1}},
        {"model": {"share": 0.30}},  # a study made before NO_VALUE_SEEDS_ATTR
    ):
        study = optuna.create_study(direction="minimize")
        study.add_trial(
            optuna.trial.create_trial(
                params=best.params,
                distributions=best.distributions,
                value=best.value,
                user_attrs={**attrs, NO_VALUE_ATTR: ["total"]},
            )
        )
        stored.study = study
        table = fit_table(stored).set_index("id")
        total = table.loc["total"]
        assert total["status"] == "no value" and total["inside"] is False
        assert table.loc["share", "no_value_seeds"] == 0
        if NO_VALUE_SEEDS_ATTR in attrs:
            assert total["model"] == 1_400_000.0 and total["no_value_seeds"] == 1
            assert model_text(total["model"], total["observable"], 1, 2) == (
                "1,400,000 (no value at 1 of 2 seeds)"
            )
            assert "with no value at one seed or more, a miss" in inside_text(table)
        else:
            assert math.isnan(total["model"]) and total["no_value_seeds"] is None
            assert model_text(total["model"], total["observable"], None, 2) == "-"
            assert "1 of them with no value, a miss" in inside_text(table)
    assert model_text(0.3, "expelled_share:1921", 0, 2) == "30.0%"


def test_the_status_of_a_target_without_a_value_at_some_seeds_says_at_how_many(
    tmp_path, nan_at_seeds
):
    """QA 43 C2: a target shown as "25.8% (no value at 2 of 3 seeds)", inside its range of 22% to
    28%, had the status "outside: no value", as if it had none at all."""
    from chistka.report.calibration import status_text

    nan_at_seeds.update({"purge1921": {1, 2}})
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS.replace("0.6,0.55,0.65", "0.25,0.22,0.28"), encoding="utf-8")
    result = _invoke_calibrate(tmp_path, str(targets), "--seeds", "1,2,3")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert (
        "<td>25.8% (no value at 2 of 3 seeds)</td><td>25.0%</td><td>22.0% to 28.0%</td>"
        "<td>outside: no value at 2 of 3 seeds (a miss in the loss)</td>" in html
    )
    assert status_text("no value", None, 3) == "outside: no value (a miss in the loss)"
    assert status_text("no value", 1, 1) == "outside: no value at 1 of 1 seed (a miss in the loss)"
    assert status_text("inside", 0, 3) == "inside"


def test_the_readme_examples_left_out_targets_are_counted_by_reason(tmp_path):
    """QA 41 L7: the README's example printed 97 "left out" lines, one per target."""
    from chistka.commands.calibrate import check_calibration
    from chistka.commands.preflight import left_out_lines

    calibration = Path(__file__).resolve().parents[1] / "src/chistka/targets/calibration.csv"
    _, left = check_calibration("party-purges-1921-1936", calibration, None)
    lines = left_out_lines(left, rest="--verbose lists them")
    assert len(lines) == 3  # the years 1921 and the periods from 1936 on only in part (QA 43)
    assert lines[0].startswith(
        "left out, not wholly inside the scenario's dates (1921-03-01 to 1936-12-31): 5 targets: "
        "convicted_1921 (political_sentences:1921), "
    )
    assert lines[1].startswith(
        "left out, of a kind the scenario does not model (not in its compare list)"
    )
    assert " 45 targets: " in lines[1] and lines[1].endswith("and 42 more; --verbose lists them")
    assert lines[2].startswith(
        "left out, outside the scenario's dates (1921-03-01 to 1936-12-31): 47 targets: "
    )


def test_calibrate_counts_the_targets_it_leaves_out_and_names_each_with_verbose(
    tmp_path, fake_runs
):
    """QA 41 L7: a count per reason with the first few; --verbose and calibration.html name every
    one, so that a misspelt target is not dropped unseen (QA 39)."""
    rows = "".join(f"d{year},death_sentences:{year},100,,\n" for year in range(1922, 1930))
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS + rows + "typo,expelled_share:192l,0.25,0.2,0.3\n", encoding="utf-8")
    result = _invoke_calibrate(tmp_path, str(targets))
    assert result.exit_code == 0, result.output
    assert result.output.count("left out, ") == 2
    assert "of a kind the scenario does not model (not in its compare list): 8 targets: d1922" in (
        result.output
    )
    assert "and 5 more; --verbose or calibration.html lists them" in result.output
    assert "1 target: typo (expelled_share:192l)" in result.output
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert "<h2>Targets left out (9)</h2>" in html and "<td>d1929</td>" in html
    assert "<td>typo</td>" in html
    verbose = _invoke_calibrate(tmp_path, str(targets), "--verbose")
    assert verbose.exit_code == 0, verbose.output
    assert verbose.output.count("left out, ") == 9
    assert "id 'd1929' 'death_sentences:1929'" in verbose.output


def test_importances_over_few_trials_come_with_a_warning(tmp_path, fake_runs):
    """QA 41 L10: importances drawn from 4 trials, with no warning."""
    from chistka.analysis.calibrate import IMPORTANCE_MIN_TRIALS, importance_warning

    result = _stored_result(tmp_path)  # 3 trials, 2 free parameters
    warning = importance_warning(result)
    assert warning is not None and f"fewer than {IMPORTANCE_MIN_TRIALS}" in warning
    assert "rest on 3 trials" in warning
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    cli = _invoke_calibrate(tmp_path, str(targets))
    assert "warning:" in cli.output and "importances rest on 4 trials, fewer than 20" in cli.output
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert "<strong>Warning:</strong> the parameter importances rest on 4 trials" in html
    # QA 45: the warning stands above the charts, not below
    assert "over 4 trials, too few: see the warning above the charts" in html
    assert html.index("<strong>Warning:</strong>") < html.index("chistka-calibration-figure-0")


def test_the_fit_table_lists_only_the_targets_compared(tmp_path):
    """QA 45: calibration.html's fit table mixed its 21 compared rows with 91 "left out (not in
    the runs)", each listed again under "Targets left out (91)"."""
    import pandas as pd

    from chistka.report.calibration import write_calibration_report

    result = _stored_result(tmp_path)
    early = {"id": "early", "observable": "expelled:1919", "value": 100.0, "low": 90.0}
    result.targets = pd.concat(
        [result.targets, pd.DataFrame([{**early, "high": 110.0, "label": "1919", "row": 3}])],
        ignore_index=True,
    )
    result.left_out = [("early", "expelled:1919", "outside the scenario's dates")]
    html = write_calibration_report(result, tmp_path / "calibration.html").read_text("utf-8")
    assert "<h2>Targets left out (1)</h2>" in html
    assert html.count("<td>early</td>") == 1
    assert "left out (not in the runs)" not in html


def test_the_calibration_page_has_the_shared_style_of_the_reports(tmp_path, fake_runs):
    """QA 45: calibration.html had no style sheet: the browser's default font, unlike the
    other report pages."""
    from chistka.report.common import CSS

    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    assert _invoke_calibrate(tmp_path, str(targets)).exit_code == 0
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    assert f"<style>{CSS}</style>" in html and "border=" not in html
    assert REPORT_MARK in html


# --- QA 43 B1: a scenario file of `chistka scenarios show`, and a fitted file that fails -------

FREE_CRITERIA = """
[[free]]
path = "review.criteria.origin_peasant"
low = -1.0
high = 4.0

[[start]]
values = { "review.criteria.origin_peasant" = 2.0 }
note = "the best in `peasant_runs`"
"""


@pytest.fixture
def peasant_runs(monkeypatch):
    """Trials without simulations, best where review.criteria.origin_peasant is 2.0 (the free
    file's start point): each target's model value is its value times 1 + the distance."""
    import numpy as np

    import chistka.analysis.calibrate as calibrate_module

    calls: list[int] = []

    def fake(fitted, seed, scale, name, targets):
        calls.append(seed)
        off = 1 + abs(fitted.review.criteria.origin_peasant - 2.0)
        return targets["value"].to_numpy(dtype=float) * off, np.zeros(len(targets), dtype=bool)

    monkeypatch.setattr(calibrate_module, "_seed_values", fake)
    return calls


def _shown_scenario(tmp_path: Path, **update) -> Path:
    """`chistka scenarios show party-purges-1921-1936`, as a user saves it to edit (`update`:
    fields of the scenario replaced first, through the same function)."""
    from chistka.commands.catalogue import scenario_toml
    from chistka.scenario import load_scenario

    path = tmp_path / "pp.toml"
    if update:
        scenario = load_scenario("party-purges-1921-1936").model_copy(update=update)
        path.write_text(scenario_toml(scenario), encoding="utf-8")
        return path
    shown = CliRunner().invoke(app, ["scenarios", "show", "party-purges-1921-1936"])
    assert shown.exit_code == 0, shown.output
    path.write_text(shown.stdout, encoding="utf-8")
    return path


def _calibrate_file(tmp_path: Path, scenario: Path, *extra: str):
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    free = tmp_path / "free.toml"
    free.write_text(FREE_CRITERIA, encoding="utf-8")
    return CliRunner().invoke(
        app,
        ["calibrate", str(scenario), "--targets", str(targets), "--free", str(free)]
        + ["--scale", "0.02", "--out", str(tmp_path / "out"), *extra],
        env={"COLUMNS": "300"},
    )


def test_a_scenario_saved_from_scenarios_show_calibrates(tmp_path, peasant_runs):
    """QA 43 B1: `scenarios show` writes review.criteria as an inline table; the fitted file
    added a dotted line for review.criteria.origin_peasant, a duplicate key, and calibrate
    failed after every trial with "the fitted scenario does not load"."""
    from chistka.scenario import load_scenario

    scenario = _shown_scenario(tmp_path)
    result = _calibrate_file(tmp_path, scenario, "--trials", "3")
    assert result.exit_code == 0, result.output
    fitted = load_scenario(tmp_path / "out" / "fitted.toml")
    assert fitted.review.criteria.origin_peasant == 2.0
    text = (tmp_path / "out" / "fitted.toml").read_text(encoding="utf-8")
    assert "origin_peasant = 2.0," in text and "origin_peasant =" not in text.split("[review]")[0]
    assert (tmp_path / "out" / "calibration.html").is_file()


def _earlier_outputs(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "fitted.toml").write_text(EARLIER, encoding="utf-8")
    (out / "calibration.html").write_text(f"<html>{REPORT_MARK}old</title></html>", "utf-8")


def test_a_scenario_without_events_from_scenarios_show_calibrates(tmp_path, peasant_runs):
    """`scenarios show` writes a scenario without events as `events = []`, an inline array, to
    which TOML cannot add the fit's [[events]] table: the event goes into the array."""
    from chistka.scenario import load_scenario
    from chistka.scenario.fitted import FITTED_NOTE

    scenario = _shown_scenario(tmp_path, events=[])
    assert "\nevents = []\n" in scenario.read_text(encoding="utf-8")
    result = _calibrate_file(tmp_path, scenario, "--trials", "3")
    assert result.exit_code == 0, result.output
    fitted = load_scenario(tmp_path / "out" / "fitted.toml")
    assert fitted.review.criteria.origin_peasant == 2.0
    [event] = fitted.events
    assert event.note == FITTED_NOTE and event.set == {"review.criteria.origin_peasant": 2.0}


@pytest.mark.parametrize("failure", ["layout", "disk"])
def test_a_fitted_scenario_that_cannot_be_written_leaves_the_report_and_the_table(
    tmp_path, peasant_runs, monkeypatch, failure
):
    """QA 43 B1: the failure left nothing but study.db (no table, no calibration.html), and a
    resumed study's earlier fitted.toml and calibration.html beside it as if current."""
    import chistka.analysis.fitted_file as fitted_file

    def refuse(*args, **kwargs):
        if failure == "disk":
            raise OSError(28, "No space left on device")
        raise ChistkaError("cannot add 'review.criteria.origin_peasant' to the scenario file")

    monkeypatch.setattr(fitted_file, "write_atomic" if failure == "disk" else "with_values", refuse)
    scenario = _shown_scenario(tmp_path)
    out = tmp_path / "out"
    _earlier_outputs(out)
    result = _calibrate_file(tmp_path, scenario, "--trials", "3")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    words = " ".join(result.output.split())
    assert "review.criteria.origin_peasant" in words and "best parameters (3 complete" in words
    assert f"error: the fitted scenario {out / 'fitted.toml'} was not written: " in words
    assert ("No space left" if failure == "disk" else "cannot add 'review.criteria") in words
    assert f"The study is kept in sqlite:///{(out / 'study.db').resolve()}" in words
    assert f"wrote {out / 'calibration.html'}" in words
    assert not (out / "fitted.toml").exists()
    html = (out / "calibration.html").read_text(encoding="utf-8")
    assert "<strong>The fitted scenario (fitted.toml) was not written:</strong>" in html
    assert "3 complete trials" in html
    assert sorted(p.name for p in out.iterdir()) == ["calibration.html", "study.db"]


def test_a_fitted_file_not_written_is_not_said_to_record_the_study(
    tmp_path, fake_runs, monkeypatch
):
    """Where the scenario's own values stayed the best, the command says fitted.toml records the
    study: not where fitted.toml could not be written."""
    import chistka.analysis.fitted_file as fitted_file

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fitted_file, "write_atomic", full)
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    result = _invoke_calibrate(tmp_path, str(targets))
    assert result.exit_code == 2, result.output
    words = " ".join(result.output.split())
    assert "the scenario's own values stayed the best (trial 0 of 4)" in words
    assert "fitted.toml records the study" not in words and "No space left" in words


def test_an_earlier_calls_outputs_go_once_the_study_moves_on(tmp_path, peasant_runs, monkeypatch):
    """fitted.toml and calibration.html describe the study as a call left it: a call stopped
    after a trial removes them (they would be read as the result of a study that has more
    trials), a call refused before any trial keeps them."""
    import chistka.analysis.calibrate as calibrate_module

    scenario = _shown_scenario(tmp_path)
    out = tmp_path / "out"
    first = _calibrate_file(tmp_path, scenario, "--trials", "1", "--loss", "band")
    assert first.exit_code == 0, first.output
    _earlier_outputs(out)
    other_seeds = _calibrate_file(tmp_path, scenario, "--trials", "1", "--seeds", "3")
    assert other_seeds.exit_code == 2 and "give another study name" in other_seeds.output
    assert (out / "fitted.toml").read_text(encoding="utf-8") == EARLIER
    fake = calibrate_module._seed_values

    def stop_at_the_second_trial(*args):
        if len(peasant_runs) >= 2:  # seeds 1 and 2 of this call's first trial ran
            raise KeyboardInterrupt
        return fake(*args)

    monkeypatch.setattr(calibrate_module, "_seed_values", stop_at_the_second_trial)
    peasant_runs.clear()
    stopped = _calibrate_file(tmp_path, scenario, "--trials", "3", "--loss", "band")
    assert stopped.exit_code == 130, stopped.output
    assert sorted(p.name for p in out.iterdir()) == ["study.db"]


def test_trials_0_writes_a_stored_studys_report_again(tmp_path, peasant_runs):
    """`--trials 0` was refused, so a study's report could not be drawn again without one more
    trial; now that a call removes an earlier call's outputs once its first trial ends, a
    stopped call left none (QA 43)."""
    import optuna

    scenario = _shown_scenario(tmp_path)
    out = tmp_path / "out"
    assert _calibrate_file(tmp_path, scenario, "--trials", "3").exit_code == 0
    report = (out / "calibration.html").read_text(encoding="utf-8")
    fitted = (out / "fitted.toml").read_text(encoding="utf-8")
    (out / "calibration.html").unlink()
    (out / "fitted.toml").unlink()
    calls = len(peasant_runs)
    again = _calibrate_file(tmp_path, scenario, "--trials", "0")
    assert again.exit_code == 0, again.output
    assert len(peasant_runs) == calls  # no run
    study = optuna.load_study(
        study_name="party-purges-1921-1936", storage=f"sqlite:///{out / 'study.db'}"
    )
    assert len(study.trials) == 3
    assert (out / "fitted.toml").read_text(
        encoding="utf-8"
    ) == fitted  # the same study, the same file
    assert "best parameters (3 complete trials)" in " ".join(again.output.split())
    assert (out / "calibration.html").is_file() and len(report) > 0
    empty = tmp_path / "empty"
    refused = _calibrate_file(
        tmp_path, scenario, "--trials", "0", "--storage", f"sqlite:///{empty}.db"
    )
    assert refused.exit_code == 2 and "--trials 0 writes the report of a study already" in " ".join(
        refused.output.split()
    )
    negative = _calibrate_file(tmp_path, scenario, "--trials", "-1")
    assert negative.exit_code == 2 and "--trials must be at least 0" in negative.output


def test_the_best_parameters_keep_each_path_whole_and_the_notes_readable_at_80_columns(
    tmp_path, peasant_runs, monkeypatch
):
    """At 80 columns rich split a long path mid-word beside a long note; a path column that
    would not wrap folded the notes to seven columns instead (reverted). Where the table does
    not fit, each path stands whole over its note, the value over the range searched."""
    import datetime as dt
    import io

    from rich.console import Console

    import chistka.commands.calibrate as calibrate_command
    from chistka.scenario import load_scenario
    from chistka.scenario.schema import PolicyEvent

    path = "review.criteria.origin_peasant"
    builtin = load_scenario("party-purges-1921-1936")
    criteria = builtin.review.criteria.model_copy(update={"origin_peasant": 2.0})
    review = builtin.review.model_copy(update={"criteria": criteria})
    event = PolicyEvent(date=dt.date(1930, 1, 1), set={path: 2.0})
    scenario = _shown_scenario(tmp_path, review=review, events=[*builtin.events, event])
    console = Console(width=80, file=io.StringIO(), record=True)
    monkeypatch.setattr(calibrate_command, "console", console)
    result = _calibrate_file(tmp_path, scenario, "--trials", "3")
    assert result.exit_code == 0, result.output
    lines = console.export_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "best parameters (" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("best loss"))
    table = lines[start:end]
    assert max(len(line) for line in table) <= 80 and "…" not in "".join(table)
    assert any(path in line for line in table), table
    note = "the scenario's own value; acts until 1930-01-01 (the timeline sets it then)"
    words = iter(" ".join(table).split())
    assert all(word in words for word in note.split()), table  # in order, beside other cells
    assert any("the scenario's own value; acts until" in line for line in table), table


def test_the_best_parameters_are_a_table_where_it_fits():
    """Wide enough, each parameter is one row of the table: path, value, range and note."""
    import io

    from rich.console import Console

    from chistka.commands.calibrate import best_parameters_view

    note = "the scenario's own value; acts until 1938-11-17 (the timeline sets it then)"
    rows = [("operations.order_00447.pace_factor", "1.85129", "0.5 to 4 (log)", note)]
    console = Console(width=160, file=io.StringIO(), record=True)
    console.print(best_parameters_view("best parameters (3 complete trials)", rows))
    [row] = [line for line in console.export_text().splitlines() if "pace_factor" in line]
    assert all(cell in row for cell in rows[0])
