"""The HTML report: one self-contained file with every section and plotly.js inlined once."""

from __future__ import annotations

import pytest
from plotly.offline import get_plotlyjs

from chistka import Sim
from chistka.report import write_report
from chistka.report.html import TITLES, _parse_period


@pytest.fixture(scope="module")
def results():
    return Sim.from_scenario("party-purges-1921-1936", seed=1, scale=0.002).run()


@pytest.fixture(scope="module")
def report(results, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(results, path)
    return path


def test_report_is_written(report):
    assert report.exists()
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")


def test_report_has_every_section(report):
    text = report.read_text(encoding="utf-8")
    for title in TITLES.values():
        assert title in text
    assert "<details>" in text


def test_plotly_js_inlined_exactly_once(report):
    text = report.read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()[:200]) == 1
    assert text.count("plotly.js v") == 1
    assert "<script src=" not in text


def test_report_names_campaigns_and_run(results, report):
    text = report.read_text(encoding="utf-8")
    for name in results.campaign_names:
        assert f"<td>{name}</td>" in text
    assert "party-purges-1921-1936" in text
    assert results.provenance["package_version"] in text


def test_comparison_table_flags(results, report):
    text = report.read_text(encoding="utf-8")
    comparison = results.comparison()
    if (~comparison["read_in_source"].astype(bool)).any():
        assert '<td class="unverified">not read</td>' in text
    if (comparison["status"] == "outside").any():
        assert 'class="outside"' in text


def test_comparison_shows_calibration_and_validation_apart(results, report):
    text = report.read_text(encoding="utf-8")
    fit = results.summary()["fit"]
    for role in ("calibration", "validation"):
        if fit[role]["rows"]:
            assert (
                f"<b>{role}</b>: {fit[role]['inside']} of {fit[role]['rows']} rows inside" in text
            )
    assert "Not scored: inputs, claims" in text
    assert f"{len(results.provenance['fitted'])} values of this scenario were fitted" in text


def test_report_stays_small(report):
    extra = report.stat().st_size - len(get_plotlyjs())
    assert extra < 1_000_000


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("1928-07-01", "1928-07-01"),
        ("1921-03", "1921-03-01"),
        ("1934-01", "1934-01-01"),
        ("1921", None),
        ("1921-1922", None),
        ("", None),
    ],
)
def test_parse_period(period, expected):
    parsed = _parse_period(period)
    assert (str(parsed) if parsed else None) == expected
