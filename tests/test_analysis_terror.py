"""Analyses of the terror (chistka.analysis.terror) and the report's terror sections."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from chistka.analysis import terror
from chistka.analysis.comparison import comparison
from chistka.analysis.observables import ObservableOutOfRun, compute
from chistka.report import write_report
from chistka.report.html import TERROR_TITLES
from chistka.scenario.terror import CHANNELS
from chistka.state import EventKind


@pytest.fixture(scope="session")
def terror_results(small_terror_run):
    """The small terror scenario of tests/test_terror.py (every mechanism, 1936-39), shared.

    Until session 20 this was great-terror with its party stratum thinned to one agent per 20
    members (17 s); the analyses need arrests by every channel and the operations, which the small
    scenario has (the built-in's figures are the slow tier's).
    """
    return small_terror_run[0]


@pytest.fixture(scope="session")
def purge_results(builtin_results):
    """A run without arrests: party-purges-1921-1936 at seed 1 and scale 0.002 (conftest's)."""
    return builtin_results


@pytest.fixture(scope="session")
def arrests(terror_results):
    events = terror_results.events_frame()
    return events[events["event"] == "arrested"]


def test_run_has_arrests(arrests):
    assert len(arrests) > 0


def test_reproduction_number_non_negative_and_finite(terror_results):
    table = terror.reproduction_number(terror_results)
    assert list(table.columns[:4]) == [
        "arrested",
        "caused_testimony",
        "caused_denunciation",
        "caused_family",
    ]
    active = table[table["arrested"] > 0]
    assert len(active) > 0
    assert np.isfinite(active["R"]).all()
    assert (active["R"] >= 0).all()
    assert table.loc[table["arrested"] == 0, "R"].isna().all()
    parts = active[["caused_testimony", "caused_denunciation", "caused_family"]].sum(axis=1)
    assert np.allclose(parts / active["arrested"], active["R"])
    assert table["caused"].sum() > 0


def test_reproduction_number_counts_cascade_arrests(terror_results, arrests):
    table = terror.reproduction_number(terror_results)
    cascade = arrests[arrests["channel"].isin(terror.CASCADE_CHANNELS)]
    # every cascade arrest is caused by someone arrested before, within the run
    assert table["caused"].sum() == pytest.approx(cascade["persons"].sum())
    assert table["arrested"].sum() == pytest.approx(arrests["persons"].sum())


def test_cascade_tree_follows_cause_links(terror_results, arrests):
    tree = terror.cascade_tree(terror_results)
    assert len(tree) > 0
    root = tree.attrs["root"]
    assert root is not None
    first = arrests[arrests["person"] == root]
    assert ((first["rank"] >= 2) | (first["elite"] > 0)).any()
    links = set(
        zip(
            arrests["cause"],
            arrests["person"],
            arrests["channel"].astype(str),
            arrests["date"],
            strict=True,
        )
    )
    for edge in tree.itertuples(index=False):
        assert (edge.cause, edge.person, str(edge.channel), edge.date) in links
        assert edge.channel in terror.CASCADE_CHANNELS
        if edge.parent < 0:
            assert edge.depth == 1
            assert edge.cause == root
        else:
            parent = tree.iloc[edge.parent]
            assert edge.depth == parent["depth"] + 1
            assert edge.cause == parent["person"]
            assert edge.date > parent["date"]
    assert tree["depth"].max() <= 4
    assert tree.attrs["root_descendants"] >= len(tree)


def test_cascade_tree_limits_and_root(terror_results):
    small = terror.cascade_tree(terror_results, max_depth=1, max_nodes=3)
    assert len(small) <= 3
    assert (small["depth"] == 1).all()
    chosen = terror.cascade_tree(terror_results)
    again = terror.cascade_tree(terror_results, root=chosen.attrs["root"])
    assert again.attrs["root"] == chosen.attrs["root"]
    assert len(again) == len(chosen)
    with pytest.raises(ValueError, match="never arrested"):
        terror.cascade_tree(terror_results, root=-5)


def test_enemy_detection(terror_results, arrests):
    table = terror.enemy_detection(terror_results)
    precision = table["precision"].dropna()
    assert len(precision) > 0
    assert ((precision >= 0) & (precision <= 1)).all()
    recall = table["recall"].dropna()
    assert ((recall >= 0) & (recall <= 1)).all()
    once = arrests.drop_duplicates("person")
    assert table.loc["all", "arrested"] == pytest.approx(once["persons"].sum())
    assert table.loc["all", "hostile_arrested"] == pytest.approx(
        once.loc[once["hostile"], "persons"].sum()
    )
    split = table.loc["category victims", "arrested"] + table.loc["network victims", "arrested"]
    assert split == pytest.approx(table.loc["all", "arrested"])
    if terror.population(terror_results).get("hostile_persons"):
        assert not math.isnan(table.loc["all", "recall"])


def test_enemy_detection_recall_needs_population(terror_results):
    bare = dataclasses.replace(terror_results, population_summary={}, _cache={})
    table = terror.enemy_detection(bare)
    assert math.isnan(table.loc["all", "recall"])
    assert not math.isnan(table.loc["all", "precision"])


def test_victims_split_sums_to_all_arrests(terror_results, arrests):
    victims = terror.victims_by_origin(terror_results)
    assert set(CHANNELS) <= set(victims.columns)
    assert np.allclose(victims["category_victims"] + victims["network_victims"], victims["total"])
    assert victims["total"].sum() == pytest.approx(arrests["persons"].sum())
    yearly = arrests.groupby(arrests["date"].dt.year)["persons"].sum()
    assert np.allclose(victims["total"].reindex(yearly.index), yearly)


def test_risk_by_rank(terror_results):
    risk = terror.risk_by_rank(terror_results)
    assert list(risk.index) == [*terror.RANK_GROUPS, *terror.ELITE_GROUPS]
    assert (risk[["arrested", "shot"]] >= 0).all().all()
    assert (risk["shot"] <= risk["arrested"] + 1e-9).all()
    assert risk["arrested"].sum() > 0
    if terror.population(terror_results).get("rank_persons"):
        shares = risk["arrested_share"].dropna()
        assert len(shares) > 0
        assert (shares >= 0).all()


def test_monthly_against_record_matches_observables(terror_results):
    monthly = terror.monthly_against_record(terror_results)
    yearly = monthly.groupby(monthly.index.year).sum()
    checked = 0
    for year in yearly.index:
        try:
            convictions = compute(terror_results, f"political_convictions:{year}")
        except ObservableOutOfRun:
            continue
        checked += 1
        assert yearly.loc[year, "convictions"] == pytest.approx(convictions)
        assert yearly.loc[year, "death_sentences"] == pytest.approx(
            compute(terror_results, f"death_sentences:{year}")
        )
        assert yearly.loc[year, "arrests"] == pytest.approx(
            compute(terror_results, f"arrests:{year}")
        )
    assert checked == 2  # the whole years of the small scenario: 1937 and 1938
    row = monthly.loc["1937-03-01"]
    from chistka.record import get

    assert row["record_convictions"] == pytest.approx(get("death_or_camp_1937").value / 12)


def test_report_has_terror_sections(terror_results, tmp_path):
    path = tmp_path / "terror.html"
    write_report(terror_results, path)
    text = path.read_text(encoding="utf-8")
    for title in TERROR_TITLES.values():
        assert title in text


def test_report_without_arrests_has_no_terror_sections(purge_results, tmp_path):
    path = tmp_path / "purges.html"
    write_report(purge_results, path)
    text = path.read_text(encoding="utf-8")
    for title in TERROR_TITLES.values():
        assert title not in text


def test_analyses_of_a_run_without_arrests(purge_results):
    assert terror.cascade_tree(purge_results).empty
    assert terror.reproduction_number(purge_results)["caused"].sum() == 0
    assert terror.victims_by_origin(purge_results)["total"].sum() == 0


def test_kept_selections_and_comparison_are_not_changed_by_their_callers(terror_results):
    """The report's analyses share one selection of the log and one comparison (the results'
    cache); a caller changing what it got must not change what the next caller gets."""
    first = terror._select(terror_results, EventKind.ARRESTED)
    first["parent"] = -1
    again = terror._select(terror_results, EventKind.ARRESTED)
    assert "parent" not in again.columns and len(again) == len(first)
    table = comparison(terror_results)
    table["model"] = 0.0
    assert not (comparison(terror_results)["model"].fillna(1.0) == 0.0).all()


@pytest.mark.parametrize("period", ["1937", "1937-1938", "1937-10-01/1938-07-01"])
def test_the_arrests_of_a_period_divide_among_the_channels(terror_results, arrests, period):
    by_channel = {c: compute(terror_results, f"arrests_by_channel:{c}/{period}") for c in CHANNELS}
    assert sum(by_channel.values()) == pytest.approx(compute(terror_results, f"arrests:{period}"))
    if period == "1937":
        chosen = arrests[arrests["date"].dt.year == 1937]
        for channel in CHANNELS:
            expected = chosen.loc[chosen["channel"] == channel, "persons"].sum()
            assert by_channel[channel] == pytest.approx(expected), channel
        assert by_channel["testimony"] > 0 and by_channel["category"] > 0


def test_risk_by_rank_divides_by_everyone_in_the_group_in_the_run(terror_results):
    """QA of session 40: the shares divided by the first day's party only, so a long run's
    arrests of members admitted later read as 79% of the rank and file arrested."""
    events = terror_results.events_frame()
    admitted = events[(events["event"] == "admitted") & (events["cohort"] != "none")]
    admitted = admitted.drop_duplicates("person")
    risk = terror.risk_by_rank(terror_results)
    first_day = terror.population(terror_results)["rank_persons"]
    for label, tier in terror.RANK_GROUPS.items():
        later = float(admitted.loc[admitted["rank"] == tier, "persons"].sum())
        on_first_day = float(first_day.get(int(tier), first_day.get(str(int(tier)))))
        if label == "rank and file":
            on_first_day += terror._former_members(terror_results)
            assert later > 0, "the small run admits nobody: the test would not test"
        assert risk.loc[label, "population"] == pytest.approx(on_first_day + later), label
