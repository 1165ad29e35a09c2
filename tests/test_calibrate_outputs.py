"""calibrate's fitted.toml and calibration.html: written atomically, never over a foreign file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chistka.analysis.calibrate import FITTED_MARK, REPORT_MARK, write_atomic
from chistka.cli import app
from chistka.engine import Sim
from chistka.errors import ChistkaError
from chistka.outputs import check_output_file

TARGETS = "id,observable,value,low,high\npurge1921,expelled_share:1921,0.6,0.55,0.65\n"
EARLIER = f"[scenario]\nname = 'x'\n{FITTED_MARK}2026-01-01 against t.csv\n"


def test_a_new_file_is_written_with_readable_permissions(tmp_path):
    path = write_atomic(tmp_path / "sub" / "fitted.toml", EARLIER, FITTED_MARK)
    assert path.read_text(encoding="utf-8") == EARLIER
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in path.parent.iterdir()) == ["fitted.toml"]


def test_an_earlier_output_is_replaced(tmp_path):
    path = tmp_path / "calibration.html"
    path.write_text(f"<html>{REPORT_MARK}old</title></html>", encoding="utf-8")
    write_atomic(path, f"<html>{REPORT_MARK}new</title></html>", REPORT_MARK)
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
        write_atomic(path, EARLIER, FITTED_MARK)
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
        write_atomic(path, EARLIER + "# new\n", FITTED_MARK)
    assert path.read_text(encoding="utf-8") == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fitted.toml"]


def test_check_output_file_accepts_a_missing_path(tmp_path):
    check_output_file(tmp_path / "absent.toml", FITTED_MARK, "chistka calibrate")


@pytest.mark.parametrize("name", ["fitted.toml", "calibration.html"])
def test_calibrate_refuses_a_foreign_output_before_any_trial(tmp_path, monkeypatch, name):
    def refuse(self, *args, **kwargs):
        raise AssertionError("a simulation started before the outputs were checked")

    monkeypatch.setattr(Sim, "run", refuse)
    monkeypatch.setattr(Sim, "run_with_state", refuse)
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    foreign = out / name
    foreign.write_text("a colleague's file\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "calibrate",
            "party-purges-1921-1936",
            "--targets",
            str(targets),
            "--trials",
            "1",
            "--scale",
            "0.0005",
            "--out",
            str(out),
        ],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "not written by chistka calibrate" in result.output
    assert foreign.read_text(encoding="utf-8") == "a colleague's file\n"
    assert sorted(p.name for p in out.iterdir()) == [name]


def test_the_fitted_event_carries_the_mark():
    import datetime as dt

    from chistka.analysis.calibrate import fitted_event_text
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
    import re

    from chistka.analysis.calibrate import first_trial_words, write_calibration_report
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
    from chistka.analysis.calibrate import inside_text, range_text

    assert range_text(-1.0, 4.0) == "-1 to 4"
    assert range_text(20_000, 400_000, True) == "20000 to 400000 (log)"
    import pandas as pd

    table = pd.DataFrame({"inside": [True, False, None]})
    assert inside_text(table) == "1 of 2 targets inside their range (the mean over the seeds)"
