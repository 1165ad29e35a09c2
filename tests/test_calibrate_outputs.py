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
