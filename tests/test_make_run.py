"""End-to-end test of `make run`: the default scenario runs and writes the whole report."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_default_scenario(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"OUT={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Model against the record" in result.stdout
    for name in (
        "daily.parquet",
        "events.parquet",
        "campaigns.parquet",
        "operations.csv",
        "comparison.csv",
        "summary.json",
        "provenance.json",
        "report.html",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "great-terror"
    scored = [row for row in summary["comparison"] if row["status"] in ("inside", "outside")]
    assert summary["comparison_rows"] == len(scored)
    assert summary["comparison_inside"] == sum(row["status"] == "inside" for row in scored)
    convictions = {
        row["observable"]: row
        for row in scored
        if row["observable"].startswith(("political_convictions", "death_sentences"))
    }
    assert len(convictions) == 12  # judged in tests/test_builtin_scenarios.py
    assert all(row["role"] == "calibration" for row in convictions.values())
    report = (out / "report.html").read_text()
    for title in (
        "Party membership over time",
        "Reproduction number of the arrest cascade",
        "An example cascade",
        "Arrests by origin",
    ):
        assert title.lower() in report.lower(), title
