from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel

from chistka import Sim, builtin_scenarios, load_scenario
from chistka.errors import ChistkaError, ScenarioError
from chistka.scenario import Scenario, scenario_from_dict
from chistka.scenario.schema import MECHANISM_SECTIONS
from conftest import BUILTIN, SMALL, deep_merge, make_scenario

# --- built-in scenarios ---------------------------------------------------------------------


def test_builtin_scenarios_are_listed_with_descriptions():
    names = builtin_scenarios()
    assert BUILTIN in names
    assert all(isinstance(d, str) and d for d in names.values())


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_loads(name):
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert scenario.scenario.name == name
    assert scenario.scenario.start < scenario.scenario.end
    for campaign in scenario.campaigns:
        assert scenario.scenario.start <= campaign.start <= campaign.end <= scenario.scenario.end


def test_builtin_has_campaigns_and_events():
    scenario = load_scenario(BUILTIN)
    assert len(scenario.campaigns) >= 5
    assert len(scenario.events) >= 1
    assert [c.name for c in scenario.campaigns][:2] == ["1921", "1929"]


def test_scenario_file_round_trip(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(
        """
[scenario]
name = "from-file"
start = 1925-01-01
end = 1925-12-31
seed = 5

[population]
size = 100_000
scale = 0.01

[population.party]
total = 5_000

[[campaigns]]
name = "x"
start = 1925-03-01
end = 1925-04-30
threshold = 1.0

[[events]]
date = 1925-06-01
set = { "admissions.rate_per_year" = 0, "promotion.enabled" = false }
""",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario.scenario.name == "from-file"
    assert scenario.scenario.seed == 5
    assert scenario.population.party.total == 5_000
    assert scenario.campaigns[0].threshold == 1.0
    assert scenario.events[0].set == {"admissions.rate_per_year": 0, "promotion.enabled": False}
    # a string path works too
    assert load_scenario(str(path)) == scenario


# --- unknown keys ---------------------------------------------------------------------------


def _error(changes: dict) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(deep_merge(SMALL, changes))
    return str(info.value)


@pytest.mark.parametrize(
    ("changes", "field", "wrong", "suggestion"),
    [
        ({"popluation": {}}, None, "popluation", "population"),
        ({"reveiw": {}}, None, "reveiw", "review"),
        ({"scenario": {"sede": 3}}, "scenario", "sede", "seed"),
        ({"population": {"party": {"totl": 3}}}, "population.party", "totl", "total"),
        (
            {"population": {"party": {"origin": {"wokrer": 1.0}}}},
            "population.party.origin",
            "wokrer",
            "worker",
        ),
        ({"review": {"criteria": {"pasivity": 1.0}}}, "review.criteria", "pasivity", "passivity"),
        ({"network": {"workplace_sise": 10}}, "network", "workplace_sise", "workplace_size"),
        ({"appeals": {"delay_day": 10}}, "appeals", "delay_day", "delay_days"),
    ],
)
def test_unknown_key_names_field_and_suggests(changes, field, wrong, suggestion):
    message = _error(changes)
    assert f"'{wrong}'" in message
    assert f"did you mean '{suggestion}'" in message
    if field is not None:
        assert f"{field}:" in message


def test_unknown_key_without_close_match_lists_allowed():
    message = _error({"review": {"criteria": {"x": 1.0}}})
    assert "review.criteria" in message
    assert "'x'" in message
    assert "did you mean" not in message
    assert "passivity" in message  # the allowed names are listed


def test_unknown_key_in_campaign_and_event():
    campaigns = [dict(SMALL["campaigns"][0], tresholds=3)]
    message = _error({"campaigns": campaigns})
    assert "campaigns[0]" in message and "'threshold'" in message
    events = [{"date": "1925-05-01", "sett": {}}]
    message = _error({"events": events})
    assert "events[0]" in message and "'set'" in message


def test_unknown_emphasis_criterion_suggests():
    campaigns = [dict(SMALL["campaigns"][0], emphasis={"pasivity": 1.5})]
    message = _error({"campaigns": campaigns})
    assert "campaigns[0]" in message
    assert "'pasivity'" in message and "did you mean 'passivity'" in message


def test_a_listed_emphasis_names_known_criteria_once():
    listed = [dict(SMALL["campaigns"][0], emphasis=["pasivity"])]
    message = _error({"campaigns": listed})
    assert "'pasivity'" in message and "did you mean 'passivity'" in message
    repeated = [dict(SMALL["campaigns"][0], emphasis=["passivity", "passivity"])]
    message = _error({"campaigns": repeated})
    assert "campaigns[0]" in message and "'passivity' named twice" in message


def test_an_emphasis_neither_list_nor_table_names_both_forms():
    campaigns = [dict(SMALL["campaigns"][0], emphasis="passivity")]
    message = _error({"campaigns": campaigns})
    assert "campaigns[0].emphasis:" in message
    assert "list of criteria" in message and "table of multipliers" in message
    assert "(got 'passivity')" in message


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "shown"),
    [
        ({"population": {"scale": 3}}, "population.scale", "3"),
        ({"population": {"scale": 0}}, "population.scale", "0"),
        ({"population": {"size": 10}}, "population.size", "10"),
        ({"exits": {"rate_per_year": 1.5}}, "exits.rate_per_year", "1.5"),
        ({"network": {"workplace_size": 1}}, "network.workplace_size", "1"),
        ({"review": {"noise_sd": 0}}, "review.noise_sd", "0"),
        ({"appeals": {"reinstate_share": -0.1}}, "appeals.reinstate_share", "-0.1"),
        ({"scenario": {"seed": -1}}, "scenario.seed", "-1"),
        ({"promotion": {"stage_days": "long"}}, "promotion.stage_days", "long"),
    ],
)
def test_value_out_of_range_names_field_and_value(changes, field, shown):
    message = _error(changes)
    assert f"{field}:" in message
    assert f"(got {shown!r})" in message or f"(got {shown})" in message


def test_several_problems_are_all_reported():
    message = _error({"population": {"scale": 3}, "exits": {"rate_per_year": 2}})
    assert "population.scale" in message and "exits.rate_per_year" in message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"population": {"origin": {"worker": 0.5}}}, "population.origin"),
        (
            {"population": {"party": {"cohort": {"pre1917": 0.5, "civil_war": 0.6, "nep": 0.1}}}},
            "population.party.cohort",
        ),
        (
            {"admissions": {"origin_preference": {"worker": 0.1, "peasant": 0.1}}},
            "admissions.origin_preference",
        ),
    ],
)
def test_shares_must_sum_to_one(changes, field):
    message = _error(changes)
    assert f"{field}:" in message
    assert "sum to 1" in message
    # each share is listed, so that the user sees which to change (the message gave the total only)
    for key, value in _shares_changed(changes).items():
        assert f"{key} {value:g}" in message


def _shares_changed(changes: dict) -> dict[str, float]:
    """The one table of shares inside a nested change."""
    while not all(isinstance(v, float) for v in changes.values()):
        (changes,) = changes.values()
    return changes


def test_shares_summing_to_one_are_accepted():
    shares = {"worker": 0.5, "peasant": 0.3, "employee": 0.15, "alien": 0.05}
    scenario = make_scenario({"population": {"origin": shares}})
    assert scenario.population.origin.as_array() == [0.5, 0.3, 0.15, 0.05]


def test_run_end_before_start():
    message = _error({"scenario": {"end": "1924-12-31"}, "campaigns": [], "events": []})
    assert "scenario:" in message and "before start" in message


def test_campaign_end_before_start():
    campaigns = [dict(SMALL["campaigns"][0], start="1925-06-01", end="1925-05-01")]
    message = _error({"campaigns": campaigns})
    assert "campaigns[0]" in message
    assert "'c1'" in message
    assert "1925-05-01" in message and "before it starts" in message


@pytest.mark.parametrize(
    ("start", "end"), [("1924-12-01", "1925-02-01"), ("1927-12-01", "1928-01-05")]
)
def test_campaign_outside_run(start, end):
    campaigns = [SMALL["campaigns"][0], dict(SMALL["campaigns"][1], start=start, end=end)]
    message = _error({"campaigns": campaigns})
    assert "campaigns[1]" in message
    assert "outside the run" in message


def test_campaign_names_unique():
    campaigns = [SMALL["campaigns"][0], dict(SMALL["campaigns"][1], name="c1")]
    message = _error({"campaigns": campaigns})
    assert "campaigns[1].name" in message and "twice" in message


@pytest.mark.parametrize("date", ["1924-12-31", "1928-01-01"])
def test_event_outside_run(date):
    events = [*SMALL["events"], {"date": date, "set": {"exits.rate_per_year": 0.1}}]
    message = _error({"events": events})
    assert f"events[{len(events) - 1}].date" in message
    assert date in message and "outside the run" in message


def test_event_on_first_and_last_day_is_accepted():
    events = [
        {"date": "1925-01-01", "set": {"exits.rate_per_year": 0.1}},
        {"date": "1927-12-31", "set": {"exits.rate_per_year": 0.2}},
    ]
    assert len(make_scenario({"events": events}).events) == 2


@pytest.mark.parametrize(
    ("set_", "in_message"),
    [
        (
            {"admissions.rate_per_yr": 10},
            [
                "events[0].set",
                "'admissions' has no field 'rate_per_yr'",
                "did you mean 'rate_per_year'",
            ],
        ),
        (
            {"admision.rate_per_year": 10},
            ["events[0].set", "'admision.rate_per_year'", "did you mean 'admissions'"],
        ),
        ({"population.size": 10}, ["events[0].set", "'population.size'", "not a mechanism"]),
        (
            {"review.criteria.pasivity": 1.0},
            [
                "events[0].set",
                "'review.criteria' has no field 'pasivity'",
                "did you mean 'passivity'",
            ],
        ),
        ({"admissions.rate_per_year.x": 1}, ["events[0].set", "no sub-fields"]),
        ({"exits.rate_per_year": 3}, ["events[0].set", "exits.rate_per_year", "less than"]),
        (
            {"admissions.origin_preference.worker": 0.9},
            ["events[0].set", "admissions.origin_preference", "sum to 1"],
        ),
    ],
)
def test_event_setting_bad_parameter(set_, in_message):
    message = _error({"events": [{"date": "1925-05-01", "set": set_}]})
    for text in in_message:
        assert text in message


# --- files and names ------------------------------------------------------------------------


def test_malformed_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[scenario\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "not valid TOML" in str(info.value)
    assert "broken.toml" in str(info.value)


def test_toml_that_breaks_the_schema_names_the_file(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(
        "[scenario]\nname='t'\nstart=1925-01-01\nend=1925-12-31\n[exits]\nrate_per_yaer=0.1\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "typo.toml" in message and "exits" in message and "'rate_per_year'" in message


def test_missing_file(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "not found" in str(info.value) and "absent.toml" in str(info.value)


def test_unknown_builtin_name_suggests_closest():
    with pytest.raises(ScenarioError) as info:
        load_scenario("party-purges-1921-1935")
    message = str(info.value)
    assert "'party-purges-1921-1935'" in message
    assert f"Did you mean '{BUILTIN}'" in message


def test_unknown_builtin_name_without_close_match_lists_builtins():
    with pytest.raises(ScenarioError) as info:
        load_scenario("zzz")
    assert "Did you mean" not in str(info.value)
    assert BUILTIN in str(info.value)


def test_scenario_error_is_a_chistka_error():
    assert issubclass(ScenarioError, ChistkaError)


# --- with_parameters ------------------------------------------------------------------------


def test_with_parameters_changes_copy_only(small_scenario):
    changed = small_scenario.with_parameters(
        {"admissions.rate_per_year": 123.0, "promotion.enabled": False}
    )
    assert changed.admissions.rate_per_year == 123.0
    assert changed.promotion.enabled is False
    assert small_scenario.admissions.rate_per_year == SMALL["admissions"]["rate_per_year"]
    assert small_scenario.promotion.enabled is True
    # untouched fields of a changed section are kept
    assert changed.admissions.opposition_share == small_scenario.admissions.opposition_share
    assert changed.promotion.stage_days == small_scenario.promotion.stage_days
    assert changed.exits == small_scenario.exits


def test_with_parameters_nested_field_and_table(small_scenario):
    changed = small_scenario.with_parameters(
        {
            "review.criteria.passivity": 3.5,
            "admissions.origin_preference": {
                "worker": 1.0,
                "peasant": 0.0,
                "employee": 0.0,
                "alien": 0.0,
            },
        }
    )
    assert changed.review.criteria.passivity == 3.5
    assert changed.review.criteria.misconduct == small_scenario.review.criteria.misconduct
    assert changed.admissions.origin_preference.as_array() == [1.0, 0.0, 0.0, 0.0]


def test_with_parameters_empty_is_identity(small_scenario):
    assert small_scenario.with_parameters({}) == small_scenario


@pytest.mark.parametrize(
    ("changes", "in_message"),
    [
        ({"admissions.rate_per_yr": 1}, ["'rate_per_year'"]),
        # the section lacks the field, not the path (QA 45: "'review.noise' has no field 'noise'")
        ({"review.noise": 0.8}, ["'review' has no field 'noise'", "did you mean 'noise_sd'"]),
        ({"exitz.rate_per_year": 0.1}, ["'exits'"]),
        # a section alone needs a field (QA 45: "is not a mechanism parameter; did you mean" it)
        ({"admissions": 1}, ["'admissions' needs a field: 'admissions.FIELD', one of "]),
        ({"exits.rate_per_year": 2.0}, ["exits.rate_per_year", "less than or equal to 1"]),
        ({"mortality.rate_per_year": -1}, ["mortality.rate_per_year", "greater than"]),
        ({"promotion.stage_days": 1}, ["promotion.stage_days"]),
    ],
)
def test_with_parameters_validates(small_scenario, changes, in_message):
    with pytest.raises((ScenarioError, ValueError)) as info:
        small_scenario.with_parameters(changes)
    for text in in_message:
        assert text in str(info.value)


def test_every_mechanism_section_is_settable(small_scenario):
    for section in MECHANISM_SECTIONS:
        model = getattr(small_scenario, section)
        for name, info in type(model).model_fields.items():
            if info.annotation in (int, float) and name != "audience_size":
                value = getattr(model, name)
                changed = small_scenario.with_parameters({f"{section}.{name}": value})
                assert getattr(getattr(changed, section), name) == value


# --- documentation of the schema ------------------------------------------------------------


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    seen.add(model)
    for info in model.model_fields.values():
        candidates = [info.annotation, *getattr(info.annotation, "__args__", ())]
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                if candidate not in seen:
                    _models(candidate, seen)


def _undescribed() -> list[str]:
    seen: set[type[BaseModel]] = set()
    _models(Scenario, seen)
    assert len(seen) > 10
    return sorted(
        f"{model.__name__}.{name}"
        for model in seen
        for name, info in model.model_fields.items()
        if not info.description
    )


def test_every_field_has_a_description():
    assert [name for name in _undescribed() if name != "Scenario.scenario"] == []


def test_run_info_field_has_a_description():
    assert "Scenario.scenario" not in _undescribed()


# --- overrides at run time ------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0, -0.1, 1.5])
def test_scale_override_is_validated(small_scenario, scale):
    with pytest.raises((ScenarioError, ValueError)) as info:
        Sim(small_scenario, seed=1, scale=scale)
    assert "scale" in str(info.value)


def test_scale_override_applies(small_scenario):
    sim = Sim(small_scenario, seed=1, scale=0.01)
    assert sim.scenario.population.scale == 0.01
    assert small_scenario.population.scale == SMALL["population"]["scale"]


def test_seed_defaults_to_scenario_seed(small_scenario):
    assert Sim(small_scenario).seed == small_scenario.scenario.seed
    assert Sim(small_scenario, seed=3).seed == 3


def test_dates_parse_as_dates(small_scenario):
    assert small_scenario.scenario.start == dt.date(1925, 1, 1)
    assert isinstance(small_scenario.campaigns[0].start, dt.date)
