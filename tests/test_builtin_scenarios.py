"""Calibration checks of party-purges-1921-1936 and great-terror; regression summaries of all
built-in scenarios (the fit of purges-1921-1953 is in test_purges_1921_1953.py)."""

import json
from pathlib import Path

import pytest

from chistka import Sim, builtin_scenarios
from chistka.analysis.comparison import comparison, run_summary
from chistka.analysis.free import current_value
from chistka.analysis.observables import compute
from chistka.regression import differences, regression_summary
from chistka.scenario import apply_overrides, load_scenario
from record_fit import PARTY_PROMISED, assert_fit, scored, yearly_sentence_rows

REGRESSION = Path(__file__).parent / "regression"

# Default-scale runs of the built-in scenarios (the session fixtures party_purges and
# great_terror and purges of conftest.py, about a minute each): the slow tier.
pytestmark = pytest.mark.slow

# Every modelled calibration and validation row is judged: the share inside must not fall below
# today's level (a regression guard), and the rows the issues promised (issue 2 item 6, issue 3,
# issue 11 section 4: the expulsion share of each campaign within 3 points, the membership
# anchors within 10%, yearly death-and-camp and death sentences 1935-1940 within 20%; tolerances
# in chistka/record/data/observables.csv) must all be inside. Failures list every row outside.
PARTY_PURGES_MINIMUM = {"calibration": 0.9, "validation": 0.37}
"""Share of party-purges-1921-1936's rows inside at seed 1 (validation: Rigby's series). Before
issue 11 every calibration row and 62% of Rigby's rows were inside, with 17 values fitted by hand
(yearly admission and exit rates fitted to Rigby's series, one threshold per campaign). The
rebuilt scenario carries only documented drives and decisions, and four parameters fitted by
chistka calibrate (one review strictness shared by the campaigns); Rigby's series is out of
sample. Since session 27 it scores ten rows (the persons expelled in 1921 and the party's decline
over 1933-34, docs/decisions.md 27.1) and study ppf (band loss, 70 trials) made the commission
stricter: nine of the ten inside at every seed of 1-8 (the 1929 share outside, about 18% against
11%), and 13 of the 35 validation rows (full members 1930-37, candidates of 1934), against seven
of eight and 11 at seed 1 before; the candidates of 1923-33 and 1935-37 are still outside (too
few before the drives, too many in the freeze). Since session 28 it also scores who the 1921
purge expelled by origin (three rows, Volkov) and fits the weights of peasant and employee
origin (study ppj, six values for thirteen rows, docs/decisions.md 28.3): over seeds 1-8, 10 of
13 inside at every seed (11 at five), the origins of 1921 inside at every seed; the 1929 share
nearer (15.5% on the median) but still outside, and the party's decline over 1933-34 now short
at every seed (685,000 against at least 720,000): the purge expels 17% in 1933 (18% recorded),
and the party's other departures of those years are not built. Validation 12-15 of 35 by seed.
Then the candidates at the 17th Congress were scored too (docs/decisions.md 28.5) and the
candidates' own drop-out rate freed (study ppk, seven values for fourteen rows): the decline and
the Congress's candidates inside at every seed, 10-12 of 14 by seed (11 at seed 1, 10 at seed
2, hence the floor of 70%), the 1921 and 1929 shares outside at every seed and the party of 1933
just below its range at six; validation 15-16 of 35 by seed. Session 29 gave the 1933 purge its
documented 1,916,500 reviewed (study ppl, the candidates leaving at 20% a year; docs/decisions.md
29.3): 11-12 of 14 by seed, 11 at every seed (11 at seeds 2 and 3), the 1921 share inside at two
seeds, the party of 1933 just below its range at every seed; validation 14-16 of 35. Session 36
replaced the campaigns' nine emphasis multipliers, set by hand, by one fitted factor for what
each campaign stressed (review.emphasis) and made the reinstatement share an assumption (0.5;
study pp36f, 140 trials over seeds 1-8, inside loss; docs/decisions.md 36.1): 13-14 of 14 by
seed (14 at seeds 1 and 3, 13 at seed 2: the 1921 expelled peasants at the top of their range),
every campaign's share inside at every seed of 1-8 and of 9-16; validation 15-16 of 35.
Session 37 went on with study pp36f (37 more trials; docs/decisions.md 37.2): 14 of 14 at every
seed of 1-8, 13-14 by seed of 9-16 (the 1921 expelled workers at the top of their range);
validation 14-16 of 35 by seed (14 at seed 1), so its floor is 37%."""

GREAT_TERROR_PROMISED = (
    "proverka1935_share",
    *yearly_sentence_rows(1935, 1940, every_sentence=True),
)
GREAT_TERROR_MINIMUM = {"calibration": 0.8, "validation": 0.25}
"""Share of great-terror's rows inside at seed 1 (issue 11 asks every calibration row and 70% of
validation rows). The calibration share fell from 79% to 36% when the hand-fitted timeline gave
way to mechanisms and seven parameters fitted by chistka calibrate. The study of session 5 (the
military tribunals' route added, 58 trials over seeds 1-4, loss 0.077 against 0.39) lowered the
loss mostly by bringing the death sentences of 1937-38 and 1939-40 closer on average over the
seeds; at seed 1 it leaves 5 of 14 calibration rows and 9 of 24 validation rows inside (the
camp population of 1936-37 and 1941 fell outside), hence the validation floor of 35%. Session 6's
refit (the troika's own share, requests by category; 103 trials, loss 0.084) left 7 of 14 and 9
of 24 inside at seed 1; session 8's (Order 00447 takes its contingents' routine cases; study
gt6, 103 trials, loss 0.080) leaves 6 of 14 and 9 of 24; session 10's (one review strictness
for 1935-36, no capacity limit; study gt8, 100 trials, loss 0.055) left 9 of 14 and 9 of 24;
session 12's (Order 00447's regional table, the army's rates of 1939, testimony cases sanctioned
after the halt; study gt10, 100 trials, loss 0.031) leaves 11 of 14 and 10 of 24; session 13
added the candidates at the 18th Congress (validation, outside like the other candidate rows):
10 of 25. Session 14 took the candidate stage from party-purges-1921-1936's fit; study gt11 (100
trials) kept gt10's values (loss 0.0309): 11 of 14 and 10 of 25. Session 15 added the NKVD's
arrests since October 1936 (two calibration rows) and freed the named arrested and the releases
on review; study gt12 (100 trials, loss 0.0264) leaves 13 of 16 and 11 of 25 inside. Session 17
found the camp population of 1 Jan 1935 scored as validation although the first day's camps
are interpolated from it (eleven twelfths of the way from 1 Jan 1934): an input now, so 10 of 24
(41.7%); and added the camps' political prisoners of 1936-1941 (6 validation rows), all outside
(1.4 to 4.3 times the record's: the model's camps hold everyone it sentences, for six years on
average): 10 of 30 (33%). Session 18 found two kinds of row the camps cannot produce: the camp
totals and the camps' releases of 1939 count every prisoner, most of them ordinary convicts,
while no ordinary convict enters the model's camps after the first day (the totals of 1936-39
matched by a coincidence, section 18.2). Both are not modelled now (docs/decisions.md 19.1-19.2):
the four camp totals inside and two outside leave the validation rows, 6 of 24 (25%), and the
releases leave the calibration rows, whose releases on review became an assumption (0.1 a
year, of the order Uimanov 2012 gives): 12 of 15 at gt12's other values. Rigby's members and
candidates of 1 Jan 1935, the day whose party the first day is built from, compare two sources,
not the model: inputs now (section 19.3), so 5 of 22 validation rows (23%). Study gt13 refitted
the eight free values on the fifteen rows (100 trials over seeds 1-4, loss 0.0314 at gt12's
values, 0.0266 at its best): a lower mean squared log error, but at seed 1 10 of 15 inside (67%)
and over seeds 1-8 9 of 15 at every seed (gt12's values: 12 of 15 and 10 of 15), since the loss
weighs the small death rows' relative misses like the large rows' (section 19.4). Session 19 gave
the ordinary cases exile and other measures and compared the 1953 table's whole count of the
convicted (six calibration rows, one free share: section 20.1), and refitted the nine values with
the band loss, which scores only the distance outside each row's range (section 20.2; study
gt14, 63 trials): 17 of 21 inside at seed 1 (81%) and at every seed 1-8, 5 of 22 validation rows.
Session 21 judged officers by their charge and freed the pressure before 1937 (docs/decisions.md
22.1-22.2; study gt16, 130 trials, band loss 0.0075): 21 of 21 inside at seed 1, 17 of 21 at
every seed 1-8 (95% of the row-seed pairs). Session 22 brought the cases pending at the halt
before the prosecutor (Order 00762, section 23.2) and refitted the ten (study gt17, 100 trials,
band loss 0.0028): 21 of 21 at seed 1, 16 of 21 at every seed 1-8 (96% of the pairs; the
small death rows of 1935-36 and 1939-40, 50-120 agents each, and every sentence of 1939 at the
top of its range), 5 of 22 validation rows (section 23.3). Session 24 made one agent per 5
persons the default (the small death rows rest on 220-520 agents; study gt18, 100 trials at that
scale, kept gt17's values, band loss 0.0024): 21 of 21 at seed 1, 20 of 21 at every seed 1-8
(98% of the pairs; the death sentences of 1936 at 112-130% of the record, inside at four
seeds), 5 of 22 validation rows (section 24.4). With the spin-up of 120 days (section 24.5;
study gt19 kept all but the album's share, 0.62): 21 of 21 at seed 1, 20 of 21 at every seed
1-8 (99% of the pairs: the death sentences of 1936 inside at 7 seeds of 8, those of 1935 at all
eight), 5 of 22 validation rows. Session 25 gave the mass operations' camp sentences their
orders' terms (section 25.1) and refitted (study gt20: the album's share 0.6 again): the same
counts (section 25.5). Session 26 let the candidates waiting since the freeze start a new stage
at the reopening and took party-purges-1921-1936's refitted stage of 650 days (section 26.3):
more candidates in 1937-39, but the 18th Congress's full members a hair below their range
(1.42 million against 1.43), 4 of 22 validation rows (18%); refitted (study gt21, band loss
0.00089): 21 of 21 at seed 1, 20 of 21 at every seed 1-8 (the death sentences of 1939 inside at
5 seeds of 8, those of 1936 at all eight; section 26.5). Then the first day took Rigby's party of
1 Jan 1935 instead of Foreign Affairs' claim (section 26.6; study gt22 kept gt21's values, band
loss 0.00141): 21 of 21 at seed 1, 20 of 21 at every seed, and 8 of 22 validation rows (36%):
Rigby's members of 1936-40 and candidates of 1936 and 1938, the 18th Congress's members. Session
27 took party-purges-1921-1936's refitted stage of 463 days (study ppf, section 27.3): the
calibration rows as before (20 of 21 at every seed), 5-6 of 22 validation rows (the candidates of
1938 too few, the full members of 1939 and at the 18th Congress too many, promoted sooner).
Session 28 took its stage of 586 days (study ppj, section 28.4), then 541 (study ppk, 28.5): 20
of 21 at every seed (21 at six; seeds 5 and 8: the death sentences of 1939), 8 of 22 validation
rows at every seed."""


@pytest.mark.parametrize("role", ["calibration", "validation"])
def test_great_terror_keeps_its_fit(great_terror, role):
    assert_fit(comparison(great_terror), role, GREAT_TERROR_MINIMUM[role])


def test_great_terror_fits_every_promised_row(great_terror):
    assert_fit(comparison(great_terror), "calibration", 0.0, GREAT_TERROR_PROMISED)


@pytest.mark.parametrize("seed", [2, 3])
def test_great_terror_fits_every_promised_row_at_other_seeds(seed):
    """Issue 11 asks the calibration rows over seeds 1-8: seeds 2 and 3 here (about 20 s each),
    all eight in bench/seeds.py (docs/decisions.md 24.5, 26.5-26.6: the death sentences of 1939
    fall outside at three of them, seeds 5, 6 and 8)."""
    results = Sim.from_scenario("great-terror", seed=seed).run()
    assert_fit(comparison(results), "calibration", 0.0, GREAT_TERROR_PROMISED)


def test_great_terror_validation_rows_are_out_of_sample(great_terror):
    fit = run_summary(great_terror)["fit"]["validation"]
    assert fit["rows"] >= 20 and fit["fitted_now"] == 0


def test_great_terror_spikes_in_1937_and_1938(great_terror):
    convictions = {
        y: compute(great_terror, f"political_convictions:{y}") for y in range(1935, 1941)
    }
    assert min(convictions[1937], convictions[1938]) > 2 * max(
        convictions[y] for y in (1935, 1936, 1939, 1940)
    )


LARGE_ROW_AGENTS = 500
"""Calibration rows of at least this many agents of the population at large (2,500 persons in
great-terror, which has one agent per 5, and 5,000 in purges-1921-1953, one agent per 10 since
session 35, 12,500 at one per 25 before):
those a run gives within a few per cent of the next seed's. Smaller rows vary by 4-8% between
seeds (the death sentences of 1935-36 and 1939-40 in great-terror, 220-520 agents; in
purges-1921-1953 also those of 1930, about 220 agents), so a change that reshuffles who is
arrested moves them by as much (docs/decisions.md 16.2, 17.4, 24.4)."""


def _large_calibration_rows(results):
    """The scored calibration rows (kinds the scenario models, inside its run) of at least
    `LARGE_ROW_AGENTS` agents. Rows of kinds a scenario does not model carry the record's role
    but are no target of its fit (purges-1921-1953's whole counts of the convicted, session 19)."""
    table = scored(comparison(results), "calibration").set_index("record_id")
    least = LARGE_ROW_AGENTS / results.scale
    large = table[(table["record"] >= least) & (table["model"] >= least)]
    return large["model"]


def _same_rows(results, rows):
    """The model's values of the given calibration rows in another run, large or not there: the
    rows compared are the base run's (a row at the size limit can fall on either side of it)."""
    return scored(comparison(results), "calibration").set_index("record_id")["model"][rows.index]


def _with(name, **overrides):
    scenario = apply_overrides(load_scenario(name), overrides, where="test")
    return Sim(scenario, name=name).run()


def _denunciations_as_routine(results, name):
    """Overrides that drop the ordinary denunciations and raise the routine caseload by their
    share of the run's arrests of 1935 (both are per-capita sources of arrests)."""
    events = results.events_frame()
    arrests_1935 = events[(events["event"] == "arrested") & (events["date"].dt.year == 1935)]
    by_channel = arrests_1935.groupby("channel", observed=True)["persons"].sum()
    routine = load_scenario(name).arrest.routine_rate_per_year * (
        1 + by_channel["denunciation"] / by_channel["routine"]
    )
    return {"denunciation.rate_per_year": 0.0, "arrest.routine_rate_per_year": float(routine)}


def test_great_terror_rows_cannot_see_fear_or_self_protection(great_terror):
    """docs/decisions.md 16.2: fear and self-protection are assumptions, not fits, because the
    calibration rows cannot tell them apart: doubled together, no large row moves by 4%. At study
    gt14's values the death sentences of 1938 fell by 8% (section 20.3); at gt16's (session 22,
    measured) every large row moved by 3.0% or less (the death-and-camp sentences of 1936 most,
    the death sentences of 1938 by 1.2%); at gt17's, the rows of 1940 by 5-6% at one agent per
    20 persons (section 23.3), and by 1.2-1.8% at one agent per 5 (the default since session 24;
    every large row 2.7% or less, section 24.4)."""
    scenario = load_scenario("great-terror")
    doubled = _with(
        "great-terror",
        **{
            "climate.fear_per_arrest_rate": 2 * scenario.climate.fear_per_arrest_rate,
            "denunciation.self_protection": 2 * scenario.denunciation.self_protection,
        },
    )
    base = _large_calibration_rows(great_terror)
    changed = _same_rows(doubled, base)
    moved = (changed / base - 1).abs()
    assert len(moved) >= 10 and (moved < 0.04).all(), moved.sort_values().to_dict()


def test_great_terror_rows_see_the_sum_of_denounced_and_routine_arrests(great_terror):
    """docs/decisions.md 16.2: the denunciation rate is an assumption, not a fit: with no
    denunciations and the routine caseload raised by their share of 1935's arrests, the large
    rows of 1935-38 move by less than 4%."""
    replaced = _with("great-terror", **_denunciations_as_routine(great_terror, "great-terror"))
    base = _large_calibration_rows(great_terror)
    changed = _same_rows(replaced, base)
    rows_1935_38 = [i for i in base.index if not i.endswith(("1939", "1940"))]
    moved = (changed[rows_1935_38] / base[rows_1935_38] - 1).abs()
    assert len(moved) >= 7 and (moved < 0.04).all(), moved.sort_values().to_dict()


def test_purges_rows_cannot_see_self_protection_or_the_split_of_denounced_and_routine(purges):
    """docs/decisions.md 16.2: in purges-1921-1953 self-protection and the denunciation rate are
    assumptions, not fits: with self-protection doubled, no denunciations and the routine
    caseload raised by their share of 1935's arrests, no large calibration row moves by 7%.
    (Fear is not among them: the routine caseload follows the climate there.)"""
    self_protection = load_scenario("purges-1921-1953").denunciation.self_protection
    changed = _with(
        "purges-1921-1953",
        **_denunciations_as_routine(purges, "purges-1921-1953"),
        **{"denunciation.self_protection": 2 * self_protection},
    )
    base = _large_calibration_rows(purges)
    after = _same_rows(changed, base)
    moved = (after / base - 1).abs().dropna()
    assert len(moved) >= 15 and (moved < 0.07).all(), moved.sort_values().to_dict()


@pytest.mark.parametrize("fixture", ["great_terror", "party_purges", "purges"])
def test_fitted_parameters_are_at_most_half_the_calibration_rows(fixture, request):
    """Issue 11's budget. great-terror was over it (8 values for 15 rows) until session 19 gave
    it the 1953 table's whole count of the convicted (6 rows, 1 value: docs/decisions.md 20.1)."""
    budget = run_summary(request.getfixturevalue(fixture))["parameter_budget"]
    assert budget["calibration_rows"] > 0
    assert budget["within"], budget


@pytest.mark.parametrize("role", ["calibration", "validation"])
def test_party_purges_keep_their_fit(party_purges, role):
    assert_fit(comparison(party_purges), role, PARTY_PURGES_MINIMUM[role])


def test_party_purges_fit_every_promised_row(party_purges):
    """Each campaign's share and the membership anchors (issue 11 section 4) at seed 1.

    An expected failure until session 36: with the campaigns' emphasis multipliers set by hand,
    one strictness could not make the 1921 purge (25%) twice as harsh as the 1929 one (11%); with
    one fitted factor for what each campaign stressed, both are inside (docs/decisions.md 36.1).
    """
    assert_fit(comparison(party_purges), "calibration", 0.0, PARTY_PROMISED)


def test_party_purges_validation_rows_are_out_of_sample(party_purges):
    """Rigby's series and the congresses: 35 rows since session 25 added the 16th Congress."""
    fit = run_summary(party_purges)["fit"]["validation"]
    assert fit["rows"] == 35 and fit["fitted_now"] == 0


def test_party_purges_score_no_input(party_purges):
    table = comparison(party_purges)
    assert set(table.loc[table["role"] == "input", "record_id"]) == {"party_total_1921_03"}
    assert table.loc[table["role"] == "input", "inside"].isna().all()


def test_party_purges_do_not_score_what_they_do_not_model(party_purges):
    table = comparison(party_purges).set_index("record_id")
    assert table.loc["death_or_camp_1930", "status"] == "not modelled"
    assert table.loc["purge1937_share", "status"] == "claim"
    assert (
        table["inside"].isna().sum()
        == (table["status"].isin(["not modelled", "input", "claim"])).sum()
    )


@pytest.mark.parametrize("seed", [2, 3])
def test_party_purges_calibration_holds_for_other_seeds(seed):
    table = comparison(Sim.from_scenario("party-purges-1921-1936", seed=seed).run())
    assert_fit(table, "calibration", PARTY_PURGES_MINIMUM["calibration"])


def test_every_builtin_scenario_has_a_stored_summary():
    for name in builtin_scenarios():
        assert (REGRESSION / f"{name}.json").is_file(), (
            f"no stored summary for {name}: run scripts/refresh_regression.py {name}"
        )


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("party-purges-1921-1936", "party_purges"),
        ("great-terror", "great_terror"),
        ("purges-1921-1953", "purges"),
    ],
)
def test_builtin_scenario_matches_stored_summary(name, fixture, request):
    stored = json.loads((REGRESSION / f"{name}.json").read_text())
    fresh = json.loads(json.dumps(regression_summary(request.getfixturevalue(fixture))))
    found = differences(stored, fresh)
    assert not found, (
        "results changed (refresh with scripts/refresh_regression.py if intended):\n"
        + ("\n".join(found[:20]))
    )


def test_differences_detects_a_change():
    assert differences({"a": {"b": 1.0}}, {"a": {"b": 1.1}}) == ["a.b: stored 1.0, fresh 1.1"]
    assert differences({"a": 1.0}, {"a": 1.0, "c": 2}) == ["c: only in fresh"]
    assert differences({"a": 1.0}, {"a": 1.0 + 1e-9}) == []


@pytest.mark.parametrize("path", ["promotion.stage_days", "exits.candidate_rate_per_year"])
def test_great_terror_takes_the_party_purges_fit_of_the_candidates(path):
    """great-terror scores no party row before 1935, so it takes the candidates' behaviour from
    party-purges-1921-1936's fit (docs/decisions.md 15.4, 40.4). Session 40 found its stage left
    at study ppk's value after study pp36f refitted it, and its candidates leaving at the
    members' rate."""
    fitted = current_value(load_scenario("party-purges-1921-1936"), path)
    assert current_value(load_scenario("great-terror"), path) == fitted
