"""An experiment at a calibration study's best fits (`chistka experiment run --fits`)."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest

from chistka import Sim
from chistka.analysis.calibrate import calibrate
from chistka.analysis.experiment import BASELINE, load_experiment
from chistka.analysis.fits import load_fits
from chistka.analysis.observables import compute
from chistka.analysis.variants import spread_table
from chistka.errors import ChistkaError
from chistka.scenario import scenario_from_dict
from test_experiment import OUTCOMES, invoke, write_design
from test_terror import TERROR
from tomltext import to_toml

FREE = """
[[free]]
path = "arrest.named_arrest_probability"
low = 0.02
high = 0.2
note = "set again by the timeline on 1938-11-17, as great-terror's torture is in 1937"

[[free]]
path = "interrogation.names_mean"
low = 0.5
high = 3.0
note = "the no-names arm sets it to zero, and wins"
"""

TARGETS = "id,observable,value,low,high\narrests,arrests:1937-1938,800,,\n"


def make_study(folder: Path, scenario: dict, trials: int = 3) -> Path:
    """A calibration study of `scenario` (written as small.toml) in folder/study.db."""
    (folder / "small.toml").write_text(to_toml(scenario))
    (folder / "free.toml").write_text(FREE)
    (folder / "targets.csv").write_text(TARGETS)
    storage = folder / "study.db"
    calibrate(
        folder / "small.toml",
        folder / "targets.csv",
        trials,
        seeds=(5,),
        storage=f"sqlite:///{storage}",
        free_path=folder / "free.toml",
        loss="band",
    )
    return storage


TRIALS = [
    ({"arrest.named_arrest_probability": 0.05, "interrogation.names_mean": 1.0}, 0.3),
    ({"arrest.named_arrest_probability": 0.1, "interrogation.names_mean": 2.0}, 0.1),
    ({"arrest.named_arrest_probability": 0.05, "interrogation.names_mean": 1.0}, 0.3),
    ({"arrest.named_arrest_probability": 0.15, "interrogation.names_mean": 0.7}, 0.2),
]
"""A study's trials (values, loss); the third repeats the first."""


def written_study(folder: Path) -> Path:
    """A study of the small scenario with `TRIALS`, written as `chistka calibrate` records one.

    Its attributes are calibrate's own (`_fingerprint`), so the quick tests need no runs;
    `calibrated` below makes a study by running `chistka calibrate`.
    """
    from chistka.analysis.calibrate import _fingerprint, read_targets
    from chistka.analysis.free import read_free_file
    from chistka.scenario import load_scenario

    (folder / "free.toml").write_text(FREE)
    (folder / "targets.csv").write_text(TARGETS)
    scenario = load_scenario(folder / "small.toml")
    free, _ = read_free_file(folder / "free.toml", scenario)
    attrs = _fingerprint(scenario, read_targets(folder / "targets.csv"), free, (5,), None, "band")
    storage = folder / "study.db"
    study = optuna.create_study(study_name="small-terror", storage=f"sqlite:///{storage}")
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    space = {p.path: optuna.distributions.FloatDistribution(p.low, p.high) for p in free}
    for values, loss in TRIALS:
        study.add_trial(optuna.trial.create_trial(params=values, distributions=space, value=loss))
    return storage


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, Path]:
    """(design, study.db): the small design, and a study of its own scenario (`TRIALS`)."""
    folder = tmp_path_factory.mktemp("fits")
    design = write_design(folder)
    return Path(design), written_study(folder)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> tuple[Path, Path]:
    """(design, study.db): the small design, and a three-trial `chistka calibrate` study of it."""
    folder = tmp_path_factory.mktemp("calibrated")
    design = write_design(folder)
    return Path(design), make_study(folder, TERROR)


@pytest.fixture(scope="module")
def finished(calibrated):
    design, storage = calibrated
    out = design.parent / "out"
    result = invoke(
        "run", str(design), "--out", str(out), "--jobs", "1", "--seeds", "1",
        "--fits", str(storage), "--fits-count", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_fits_are_the_studys_best_distinct_trials_best_first(study):
    design, storage = study
    experiments, axis = load_fits(str(design), storage, count=3)
    assert [f["trial"] for f in axis["fits"]] == [1, 3, 0]  # trial 2 repeats trial 0
    assert [f["loss"] for f in axis["fits"]] == [0.1, 0.2, 0.3]
    assert axis["complete_trials"] == 4 and axis["study"] == "small-terror"
    for experiment, number in zip(experiments, [1, 3, 0], strict=True):
        assert experiment.fit == TRIALS[number][0]
        assert experiment.fit_label == f"trial {number}"
    with pytest.raises(ChistkaError, match="3 complete trials with distinct values"):
        load_fits(str(design), storage, count=4)


@pytest.mark.slow
def test_a_calibration_study_records_its_scenario_and_is_taken(calibrated):
    design, storage = calibrated
    trials = optuna.load_study(study_name="small-terror", storage=f"sqlite:///{storage}").trials
    experiments, axis = load_fits(str(design), storage, count=2)
    ranked = sorted(trials, key=lambda t: (t.value, t.number))
    assert [f["trial"] for f in axis["fits"]] == [t.number for t in ranked[:2]]
    assert experiments[0].fit == ranked[0].params


def test_a_fit_replaces_the_fitted_values_in_the_baseline_and_every_arm(study):
    design, storage = study
    [experiment, _], _ = load_fits(str(design), storage, count=2)
    fit = experiment.fit
    for arm, scenario in experiment.scenarios.items():
        assert scenario.arrest.named_arrest_probability == fit["arrest.named_arrest_probability"]
        assert f"[fit: {experiment.fit_label}]" in scenario.scenario.description
        names = scenario.interrogation.names_mean
        assert names == (0.0 if arm == "no-names" else fit["interrogation.names_mean"]), arm
    # the timeline still sets the arrest probability of the named on its day, as in the fit
    baseline = experiment.scenarios[BASELINE]
    later = [e for e in baseline.events if e.date > baseline.scenario.start]
    assert later[-1].set["arrest.named_arrest_probability"] == 0


def test_a_runs_provenance_lists_the_fits_values_as_fitted(study):
    """QA 45: a fit's values, written on their lines alone, read as the built-in's fit changed
    ("not counted"); set as calibrate writes them, the run lists them as the study's fit."""
    from chistka.scenario.fitted import fitted_in

    design, storage = study
    [experiment, _], _ = load_fits(str(design), storage, count=2)
    kept, changed = fitted_in(experiment.scenarios[BASELINE])
    fitted = {entry["path"]: entry for entry in kept}
    assert set(experiment.fit) <= set(fitted)
    assert not set(experiment.fit) & {entry["path"] for entry in changed}
    assert all(experiment.fit_label in fitted[path]["note"] for path in experiment.fit)


@pytest.mark.slow
def test_each_fit_runs_the_whole_design_and_its_baseline_is_the_fitted_scenario(finished):
    out, output = finished
    document = json.loads((out / "variants.json").read_text())
    fits = document["fits"]["fits"]
    assert len(fits) == 2 and document["folders"] == ["v01", "v02"]
    assert "fit" not in document and document["set"] == {}
    for index, fit in enumerate(fits):
        folder = out / f"v0{index + 1}"
        inner = json.loads((folder / "experiment.json").read_text())
        assert inner["fit_label"] == fit["label"] and set(inner["fit"]) == set(fit["values"])
        scenario = scenario_from_dict(TERROR).with_parameters(fit["values"])
        results = Sim(scenario, seed=5).run()
        outcomes = pd.read_csv(folder / "outcomes.csv")
        baseline = outcomes[outcomes["arm"] == BASELINE].set_index("outcome")["value"]
        for outcome in OUTCOMES[:3]:
            assert baseline[outcome] == compute(results, outcome), (fit["label"], outcome)
    table = pd.read_csv(out / "fits.csv")
    assert list(table["label"]) == [f["label"] for f in fits]
    assert list(table["arrest.named_arrest_probability"]) == pytest.approx(
        [f["values"]["arrest.named_arrest_probability"] for f in fits]
    )
    assert "at each fit" in output


@pytest.mark.slow
def test_the_spread_over_the_fits_is_the_range_of_their_effects(finished):
    out, _ = finished
    table = pd.read_csv(out / "variants.csv", dtype={"value": str})
    spread = pd.read_csv(out / "spread.csv")
    pd.testing.assert_frame_equal(spread, spread_table(table), check_dtype=False)
    for row in spread.itertuples(index=False):
        effects = table[(table["outcome"] == row.outcome) & (table["arm"] == row.arm)]
        assert row.lowest == pytest.approx(effects["relative"].min())
        assert row.highest == pytest.approx(effects["relative"].max())
        relative = effects["relative"]
        assert row.same_direction == bool((relative < 0).all() or (relative > 0).all())
        assert not row.intervals_agree  # one seed: no interval


@pytest.mark.slow
def test_the_page_names_the_study_its_trials_and_the_spread(finished):
    out, _ = finished
    page = (out / "variants.html").read_text()
    document = json.loads((out / "variants.json").read_text())
    assert "fits of the study small-terror" in page
    assert "Over all the fits" in page and 'href="fits.csv"' in page
    for fit in document["fits"]["fits"]:
        assert fit["label"] in page
    inner = (out / "v01" / "experiment.html").read_text()
    assert document["fits"]["fits"][0]["label"] in inner
    (out / "variants.html").unlink()
    (out / "spread.csv").unlink()
    (out / "fits.csv").unlink()
    redrawn = invoke("report", str(out))
    assert redrawn.exit_code == 0, redrawn.output
    assert (out / "variants.html").read_text() == page
    assert (out / "spread.csv").is_file() and (out / "fits.csv").is_file()


@pytest.mark.slow
def test_a_stopped_set_of_fits_resumes_and_another_study_is_refused(calibrated, finished):
    design, storage = calibrated
    out, _ = finished
    arguments = ["run", str(design), "--out", str(out), "--jobs", "1", "--seeds", "1"]
    again = invoke(*arguments, "--resume", "--fits", str(storage), "--fits-count", "2")
    assert again.exit_code == 0, again.output
    other = invoke(*arguments, "--resume", "--fits", str(storage), "--fits-count", "3")
    assert other.exit_code == 2 and "fits" in other.output


def test_a_study_of_another_scenario_is_refused(tmp_path, study):
    design, _ = study
    changed = json.loads(json.dumps(TERROR))
    changed["denunciation"] = {**changed.get("denunciation", {}), "rate_per_year": 0.004}
    other = make_study(tmp_path, changed, trials=1)
    out = tmp_path / "out"
    result = invoke(
        "run", str(design), "--out", str(out), "--fits", str(other), "--fits-count", "2"
    )
    assert result.exit_code == 2
    assert "made from another scenario" in " ".join(result.output.split())
    assert not out.exists()


@pytest.mark.parametrize("content", [b"", b"not a database", None])
def test_a_file_that_holds_no_study_is_refused_and_left_as_it_was(tmp_path, study, content):
    """An empty file, a text file and a SQLite database without studies: before the mend an
    empty file got Optuna's tables written into it, and a text file a page of SQL."""
    design, _ = study
    path = tmp_path / "other.db"
    if content is None:
        import sqlite3

        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (text TEXT)")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    out = tmp_path / "out"
    result = invoke("run", str(design), "--out", str(out), "--fits", str(path))
    assert result.exit_code == 2, result.output
    assert "holds no calibration study" in " ".join(result.output.split())
    assert path.read_bytes() == before and not out.exists()


def test_a_study_that_does_not_record_its_scenario_is_refused(tmp_path, study):
    design, _ = study
    storage = tmp_path / "old.db"
    old = optuna.create_study(study_name="small-terror", storage=f"sqlite:///{storage}")
    old.set_user_attr("free", "interrogation.names_mean")
    with pytest.raises(ChistkaError, match="does not record the scenario"):
        load_fits(str(design), storage)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--fits", "missing.db"], "--fits missing.db: no such file"),
        (["--fits", "sqlite:///missing.db"], "--fits sqlite:///missing.db: no such file"),
        (["--fits", "STUDY", "--fits-count", "1"], "--fits-count: must be in 2..12"),
        (["--fits", "STUDY", "--fits-count", "9"], "fewer than --fits-count 9"),
        (["--fits", "STUDY", "--fits-study", "nope"], "--fits-study nope: no such study"),
        (["--fits", "STUDY", "--set", "interrogation.names_mean=1"], "without --set and --vary"),
        (["--fits-count", "3"], "--fits-study and --fits-count go with --fits"),
    ],
)
def test_bad_fits_options_are_refused_before_anything_runs(tmp_path, study, options, expected):
    design, storage = study
    out = tmp_path / "out"
    options = [str(storage) if o == "STUDY" else o for o in options]
    result = invoke("run", str(design), "--out", str(out), *options)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_a_fit_of_a_parameter_the_timeline_sets_again_is_allowed_unlike_a_variant(study):
    design, _ = study
    fit = {"arrest.named_arrest_probability": 0.1}
    experiment = load_experiment(str(design), fit=fit, fit_label="trial 0")
    assert experiment.scenarios[BASELINE].arrest.named_arrest_probability == 0.1
    with pytest.raises(ChistkaError, match="timeline sets it again"):
        load_experiment(str(design), changes=fit)
