"""The HTML reports: one self-contained file with every section and plotly.js inlined once.

Every section module renders on its own, for a run (a purge-only run, and a small run with
arrests for the sections on the terror) and, where it has one, for an ensemble.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from chistka import Sim
from chistka.analysis.comparison import budget_text, run_summary, save_run
from chistka.analysis.comparison import comparison as compare
from chistka.analysis.observables import compute
from chistka.report import sections, write_report
from chistka.report.common import FigureRenderer, RunReport, esc, reading
from chistka.report.ensemble_runs import load_ensemble
from chistka.report.html import TERROR_TITLES, TITLES
from chistka.report.sections import comparison as comparison_section
from chistka.report.sections import (
    expulsions,
    header,
    membership,
    terror_camps,
    terror_detection,
    terror_limits,
    terror_tree,
)
from chistka.scenario import scenario_from_dict
from test_figures import (
    assert_every_chart_fits_any_width,
    assert_every_chart_has_its_numbers,
    plotted_figures,
)

SMALL_TERROR = {
    "scenario": {"name": "small-terror", "start": "1937-01-01", "end": "1938-12-31", "seed": 5},
    "population": {
        "size": 1_000_000,
        "scale": 0.005,
        "party_scale": 1.0,
        "regions": [1.0, 1.0],
        "expelled_before": 2_000,
        "recruitment_pool": 1_000,
        "army_officers": 1_000,
        "nkvd_officers": 300,
        "party": {"total": 5_000},
        "elite": {"central_committee": 20, "congress_delegates": 150},
    },
    "climate": {"campaign": 2.0, "fear_per_arrest_rate": 0.5},
    "denunciation": {"rate_per_year": 0.002, "self_protection": 0.05, "arrest_probability": 0.2},
    "arrest": {"capacity_per_million": 150, "named_arrest_probability": 0.3},
    "interrogation": {"torture": 2.0, "names_mean": 2.0},
    "sentencing": {"death_share": 0.4, "family_arrest_probability": 0.5},
    "operations": [
        {
            "name": "mass",
            "kind": "category",
            "start": "1937-08-05",
            "end": "1938-11-16",
            "targets": ["kulak", "criminal"],
            "limit_shoot": 400,
            "limit_camp": 900,
        },
    ],
}
"""Two years of terror on 5,000 party members and 5,000 other agents: every terror section."""

SECTION_MODULES = [
    importlib.import_module(f"{sections.__name__}.{info.name}")
    for info in pkgutil.iter_modules(sections.__path__)
]


@pytest.fixture(scope="module")
def results(builtin_results):
    """party-purges-1921-1936 at seed 1 and scale 0.002 (conftest's, run once per session)."""
    return builtin_results


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
    comparison = compare(results)
    if (~comparison["read_in_source"].astype(bool)).any():
        assert '<td class="unverified">not read</td>' in text
    if (comparison["status"] == "outside").any():
        assert 'class="outside"' in text


def test_comparison_shows_calibration_and_validation_apart(results, report):
    text = report.read_text(encoding="utf-8")
    summary = run_summary(results)
    fit = summary["fit"]
    header = "<tr><th></th><th>calibration</th><th>validation</th></tr>"
    assert header in text
    rows = "".join(f'<td class="num">{fit[r]["rows"]}</td>' for r in ("calibration", "validation"))
    assert f"<tr><td>rows compared</td>{rows}</tr>" in text
    assert "Not scored: inputs, claims" in text
    budget = summary["parameter_budget"]
    assert budget["fitted"] == len({(f["path"], f["date"]) for f in results.provenance["fitted"]})
    assert esc(budget_text(budget)) in text


def test_report_stays_small(report):
    extra = report.stat().st_size - len(get_plotlyjs())
    assert extra < 1_000_000


# --- each section on its own -------------------------------------------------------------------


@pytest.fixture(scope="module")
def terror_results():
    return Sim(scenario_from_dict(SMALL_TERROR)).run()


def run_report(results) -> RunReport:
    table = compare(results)
    return RunReport(results, table, run_summary(results, table), FigureRenderer())


@pytest.fixture(scope="module")
def ensembles(results, terror_results, tmp_path_factory):
    """Two ensembles of two identical runs each: a purge-only one and one with arrests."""
    made = {}
    for name, run in (("purges", results), ("terror", terror_results)):
        out = tmp_path_factory.mktemp(name)
        save_run(run, out / "p000-s001")
        shutil.copytree(out / "p000-s001", out / "p000-s002")
        made[name] = load_ensemble(out)
    return made


@pytest.mark.parametrize(
    "module",
    [m for m in SECTION_MODULES if hasattr(m, "run_section")],
    ids=lambda m: m.__name__.rpartition(".")[2],
)
def test_each_run_section_renders(module, results, terror_results):
    terror = module.__name__.rpartition(".")[2].startswith("terror_")
    report = run_report(terror_results if terror else results)
    text = module.run_section(report)
    if module is header:
        assert text.startswith("<header>") and "party-purges-1921-1936" in text
        return
    assert text.startswith(f'<section id="{module.KEY}">')
    assert f"<h2>{module.TITLE}</h2>" in text
    assert (TERROR_TITLES if terror else TITLES)[module.KEY] == module.TITLE
    assert text.count('class="plotly-graph-div"') == report.figures.count


NOTHING_TO_SHOW = {("terror", "purges"), ("terror_camps", "purges"), ("expulsions", "terror")}
"""Ensemble sections left out: no arrests in the purges, no purge campaign in the terror run."""


@pytest.mark.parametrize(
    "module",
    [m for m in SECTION_MODULES if hasattr(m, "ensemble_section")],
    ids=lambda m: m.__name__.rpartition(".")[2],
)
def test_each_ensemble_section_renders(module, ensembles):
    for name, ensemble in ensembles.items():
        figures = FigureRenderer()
        text = module.ensemble_section(ensemble, figures)
        if module is header:
            assert "2 complete; 1 parameter set(s)" in text
            continue
        key = getattr(module, "ENSEMBLE_KEY", module.KEY)
        if (key, name) in NOTHING_TO_SHOW:
            assert text == ""
            continue
        assert text.startswith(f'<section id="{key}">'), name
        assert text.count('class="plotly-graph-div"') == figures.count


def test_terror_sections_only_for_runs_with_arrests(results, terror_results, tmp_path):
    purges, terror = tmp_path / "purges.html", tmp_path / "terror.html"
    write_report(results, purges)
    write_report(terror_results, terror)
    for page in (purges, terror):  # QA of session 39: no chart had a way back to its data
        assert_every_chart_has_its_numbers(page.read_text(encoding="utf-8"))
        assert_every_chart_fits_any_width(page.read_text(encoding="utf-8"))
    for title in TERROR_TITLES.values():
        assert title not in purges.read_text(encoding="utf-8")
        assert title in terror.read_text(encoding="utf-8")


def test_tolerance_comes_as_text_and_as_a_distance(results):
    """Reports draw error bars from `allowed`; nothing parses the text back into a number.

    A scored row is inside when the model lies in [low, high], the record's range widened to at
    least `allowed` on either side of the record's value.
    """
    table = compare(results)
    assert len(table)
    assert (table["low"] <= table["record"] - table["allowed"] + 1e-9).all()
    assert (table["high"] >= table["record"] + table["allowed"] - 1e-9).all()
    scored = table["status"].isin(["inside", "outside"])
    assert scored.any()
    within = (table["model"] >= table["low"]) & (table["model"] <= table["high"])
    assert (within[scored] == table.loc[scored, "inside"].astype(bool)).all()
    shares = table[table["observable"].str.startswith("expelled_share:")]
    assert (shares["tolerance"] == [f"±{a * 100:g} points" for a in shares["allowed"]]).all()


def test_camps_section_draws_the_compared_series(terror_results):
    """The camps' figure draws, day by day, what the comparison reads on 1 January: everyone in
    the camps (`gulag_population`) and the political prisoners among them."""
    frame = terror_camps.camp_series(terror_results)
    new_years = [day for day in frame.index if day.month == 1 and day.day == 1]
    assert new_years
    for day in new_years:
        date = day.date().isoformat()
        assert frame.loc[day, "all"] == pytest.approx(
            compute(terror_results, f"gulag_population:{date}")
        )
        assert frame.loc[day, "political"] == pytest.approx(
            compute(terror_results, f"political_prisoners:{date}")
        )
    assert (frame["political"] <= frame["all"] + 1e-6).all()
    assert frame["political"].iloc[-1] > 0
    text = terror_camps.run_section(run_report(terror_results))
    assert "record: ITL camps: convicted of counter-revolutionary crimes" in text


def test_the_header_says_when_a_run_had_a_spin_up():
    summary = {"start": "1934-12-01", "end": "1940-12-31"}
    spun_up = {"parameters": {"scenario": {"spin_up_days": 120}}}
    assert "spin-up of 120 days" in header.dates_text(summary, spun_up)
    plain = header.dates_text(summary, {"parameters": {"scenario": {"spin_up_days": 0}}})
    assert plain == "1934-12-01 to 1940-12-31"
    assert header.dates_text(summary, {}) == plain


@pytest.mark.parametrize(
    ("scale", "party_scale", "text"),
    [
        (
            0.2,
            1.0,
            "0.2 (one agent stands for 5 persons); party members, former members and "
            "officers: 1 (one agent per person)",
        ),
        (1.0, None, "1 (one agent per person)"),
    ],
)
def test_the_scale_says_one_agent_per_person_at_one(scale, party_scale, text):
    """QA of session 40: the header read "one agent per 1 persons"."""
    population = {} if party_scale is None else {"party_scale": party_scale}
    results = SimpleNamespace(scale=scale, provenance={"parameters": {"population": population}})
    assert header.scale_text(results) == text


def test_the_yearly_victims_say_they_count_arrests_and_which_years_are_part():
    """QA of session 40: the table summed arrests beside a table of persons, and its first
    year (December 1934 only in great-terror) read as a whole year."""
    victims = pd.DataFrame(
        {"category_victims": [10.0, 20.0], "network_victims": [1.0, 2.0], "total": [11.0, 22.0]},
        index=pd.Index([1934, 1935], name="year"),
    )
    html = terror_detection._victims_table(victims, dt.date(1934, 12, 1), dt.date(1935, 12, 31))
    assert "1934 (1 Dec - 31 Dec only)" in html and "<td>1935</td>" in html
    assert "counts arrests" in terror_detection.YEARLY_NOTE
    chance = terror_detection._chance_text({"hostile_persons": 25.0, "total_persons": 1000.0})
    assert "25 of 1,000 (2.5%)" in chance


def test_the_detection_notes_sit_under_their_tables_and_say_the_scenarios_population(
    terror_results,
):
    """QA 44: the one note under both tables spoke of "the yearly table below", which was above
    it; the population read 161,999,999 for great-terror's 162,000,000 (the citizens are whole
    agents of 5 persons); recalls of a few persons in millions read 0.0%."""
    text = terror_detection.run_section(run_report(terror_results))
    assert "below" not in text
    precision, yearly = text.index("<th>precision</th>"), text.index("<th>year</th>")
    assert precision < text.index(terror_detection.NOTE) < yearly
    assert yearly < text.index(terror_detection.YEARLY_NOTE)
    chance = terror_detection._chance_text(
        {"hostile_persons": 3_891_153.0, "total_persons": 161_999_999.0}, 162_000_000
    )
    assert "3,891,153 of 162,000,000 (its agents stand for 161,999,999 persons" in chance
    assert "(2.4%)" in chance
    plain = terror_detection._chance_text({"hostile_persons": 5.0, "total_persons": 100.0}, 100)
    assert "5 of 100 (5.0%)" in plain
    small = terror_detection.small_share
    assert (small(0.00042), small(0.0), small(0.2), small(float("nan"))) == (
        "0.042%",
        "0.0%",
        "20.0%",
        "—",
    )


def cascade(ranks: list[int]) -> pd.DataFrame:
    """A cascade of one generation below the root, one arrest per rank given."""
    tree = pd.DataFrame(
        {
            "parent": [-1] * len(ranks),
            "depth": [1] * len(ranks),
            "channel": ["testimony"] * len(ranks),
            "rank": ranks,
            "elite": [0] * len(ranks),
            "person": list(range(10, 10 + len(ranks))),
            "cause": [1] * len(ranks),
            "date": [dt.date(1937, 8, 1)] * len(ranks),
            "hostile": [False] * len(ranks),
            "descendants": [0] * len(ranks),
        }
    )
    tree.attrs.update(
        root=1,
        root_rank=2,
        root_elite=0,
        root_date=dt.date(1937, 7, 8),
        root_descendants=len(ranks),
    )
    return tree


def test_the_cascade_trees_note_and_legend_name_the_markers_it_draws():
    """QA 44: the note said "Diamonds are officials" under a tree with none, whose legend named
    neither shape."""
    for ranks, diamonds in (([0, 0, 1], 0), ([0, 3], 1)):
        tree = cascade(ranks)
        figure, note = terror_tree._figure(tree), terror_tree._note(tree)
        shown = {trace.name: trace for trace in figure.data if trace.mode == "markers"}
        assert all(trace.showlegend is not False for trace in shown.values())
        symbols = [s for t in shown.values() for s in np.atleast_1d(t.marker.symbol)]
        assert symbols.count("diamond") == diamonds and "star" in symbols
        assert (terror_tree.OFFICIALS in shown) == bool(diamonds)
        assert ("diamonds are the 1 official below the root" in note) == bool(diamonds)
        assert ("no one below the root was an official" in note) == (not diamonds)
        # the markers follow "The star is the root;" in one sentence (QA 45: "root; No one")
        assert not re.search(r"; [A-Z]", note), note


def test_a_row_not_modelled_shows_no_model_value_in_the_run_report():
    """QA of session 40: the report's "Not scored" table gave such a row a model value of 0."""
    row = {
        "label": "All sentences, 1922",
        "record_id": "sentences_1922",
        "observable": "political_sentences:1922",
        "note": "",
        "grade": "archival",
        "model": 0.0,
        "record": 6003.0,
        "low": 4802.0,
        "high": 7204.0,
        "tolerance": "±20%",
        "status": "not modelled",
        "read_in_source": True,
        "source": "MVD",
    }
    html = comparison_section._rows_table(pd.DataFrame([row]))
    assert '<td class="num">-</td>' in html and ">0<" not in html


def test_the_comparison_explains_political_convictions_only_where_the_run_models_them(
    results, terror_results
):
    """QA of session 46: party-purges-1921-1936's report explained political_convictions, a kind
    it does not model (its rows are listed as not modelled, with no model value)."""
    note = "<code>political_convictions</code> counts death and camp sentences"
    assert note not in comparison_section.run_section(run_report(results))
    assert note in comparison_section.run_section(run_report(terror_results))


def test_the_expulsions_chart_draws_a_claim_apart_from_the_targets(results, ensembles):
    """QA of session 46: the 1936 share expelled, a claim of the record (one partisan source,
    never a target), was a grey bar with a tolerance like the calibration rows'."""
    for text in (
        expulsions.run_section(run_report(results)),
        expulsions.ensemble_section(ensembles["purges"], FigureRenderer()),
    ):
        (figure,) = plotted_figures(text)
        traces = {trace["name"]: trace for trace in figure["data"]}
        assert "1936" not in traces["record (± tolerance)"]["x"]
        claim = traces[expulsions.CLAIM_NAME]
        assert list(claim["x"]) == ["1936"] and "error_y" not in claim
        assert claim["marker"]["pattern"]["shape"] == "/"
        assert esc(expulsions.CLAIM_NOTE.strip()) in text


def test_record_markers_are_the_compared_rows_on_the_days_they_are_read():
    """QA of session 40: charts drew record figures compared with nothing (a rumour of 1937,
    a figure beside Rigby's of 1922, the Gulag at the end of 1940 under Zemskov's name), and the
    16th Congress on the first of its month."""
    days = membership.compared_days()
    points = membership._record_points(pd.Timestamp("1921-03-01"), pd.Timestamp("1953-03-05"))
    assert points and all(point["id"] in days for point in points)
    assert not {"party_total_1937_11", "party_full_1922"} & {point["id"] for point in points}
    (congress,) = [point for point in points if point["id"] == "party_total_16congress"]
    assert congress["date"] == pd.Timestamp("1930-06-26")
    camps = terror_camps._record_points(
        "all", pd.Timestamp("1934-12-01"), pd.Timestamp("1941-06-30")
    )
    assert "gulag_camps_1940_end" not in {row.id for _, row in camps}


def test_the_report_has_contents_and_folds_its_comparison_with_the_fit_beside_each_row(
    results, report
):
    """QA 44: no navigation, the first chart 13,000 px down behind the full comparison tables,
    whose fit column was off-screen at 400 px; rows named by observable, never by the record_id
    the CLI names them by."""
    text = report.read_text(encoding="utf-8")
    nav = text[text.index('<nav class="contents">') : text.index("</nav>")]
    keys = re.findall(r'<section id="([^"]+)">', text)
    assert keys and all(f'<a href="#{key}">' in nav for key in keys)
    assert text.index("</nav>") < text.index("<section ")
    part = text[text.index('<section id="comparison">') : text.index('<section id="membership">')]
    assert "<h3>" not in part and part.count("<details>") == part.count("<thead>") >= 2
    assert "<thead><tr><th>figure</th><th>fit</th><th>model</th>" in part
    table = compare(results)
    scored = table[table["status"].isin(["inside", "outside"])]
    assert f"({len(scored[scored['role'] == 'calibration'])} rows: " in part
    for row in table.itertuples():
        assert f"<code>{row.record_id}</code>" in part


def test_grades_are_named_as_in_the_files_and_the_cli():
    """QA 44: the report said "scholarly secondary" where the CLI and comparison.csv say
    "scholarly"; the words stay, after the grade's name."""
    assert reading(True, "scholarly") == "read in the source; grade scholarly (scholarly secondary)"
    row = {
        "label": "Members, 1937",
        "record_id": "members_1937",
        "observable": "party_members:1937-01-01",
        "note": "",
        "grade": "scholarly",
        "model": 1.0,
        "record": 1.0,
        "low": 1.0,
        "high": 1.0,
        "tolerance": "±20%",
        "status": "inside",
        "read_in_source": True,
        "source": "Rigby",
    }
    cells = comparison_section._rows_table(pd.DataFrame([row]))
    assert 'title="scholarly secondary">scholarly</td>' in cells
    assert "<code>members_1937</code>" in cells


def test_the_ensemble_names_a_lone_set_alike_everywhere_and_each_note_once(ensembles):
    """QA 44: the lone set was "p000 / the scenario as it is" in one table and "model" in the
    next; the camps chart's note said "Lines ..." and "Markers ..." twice."""
    ensemble = ensembles["terror"]
    assert ensemble.set_label("p000") == "p000: the scenario as it is"
    fit = comparison_section.ensemble_section(ensemble, FigureRenderer())
    assert "<td>p000: the scenario as it is</td>" in fit and "<td>model</td>" not in fit
    camps = terror_camps.ensemble_section(ensemble, FigureRenderer())
    note = camps[camps.index('<p class="note">') :]
    assert note.count("Markers:") == 1 and note.count("Lines") == 1


def test_the_limits_chart_counts_persons_as_every_chart_does(terror_results):
    """QA 44: its axis read "500k" where every other chart reads "500,000"."""
    text = terror_limits.run_section(run_report(terror_results))
    (figure,) = plotted_figures(text)
    assert figure["layout"]["yaxis"]["tickformat"] == ",.0f"


def test_the_limits_chart_says_why_the_regions_start_below_the_orders_limit():
    """QA 45: operations.csv gave Order 00447's initial category-1 limit as 65,950 where the
    scenario says 75,950, with no word of the 10,000 the order set for the camps."""
    from test_regions import terror_with_table

    results = Sim(scenario_from_dict(terror_with_table())).run()
    assert results.operations["initial_limit_shoot"].iloc[-1] == 65_950
    text = terror_limits.run_section(run_report(results))
    assert "add up to 65,950 in category 1" in text and "order's 75,950" in text
    assert "NKVD camps (10,000 in category 1" in text and "decisions.md 12.5" in text
    plain = terror_limits.run_section(run_report(Sim(scenario_from_dict(SMALL_TERROR)).run()))
    assert "add up to" not in plain  # limits shared by population: the scenario's own
