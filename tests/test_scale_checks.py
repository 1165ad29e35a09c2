"""The Python API refuses what the commands refuse: an empty stratum, a population too large."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chistka.cli import app
from chistka.engine import BUILD_OVERHEAD, Sim, bytes_per_agent, check_memory, region_sizes
from chistka.errors import ScenarioError
from chistka.scenario import load_scenario, with_scale

SCENARIO = "party-purges-1921-1936"


@pytest.fixture
def no_build(monkeypatch):
    """Any population built in this process fails the test: the refusal must come first."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("a population was built before the scenario was checked")

    monkeypatch.setattr(Sim, "build", refuse)


def test_sim_refuses_a_scale_at_which_the_party_has_no_agent(no_build):
    with pytest.raises(ScenarioError, match="the party .* would have no agent"):
        Sim(load_scenario(SCENARIO), scale=1e-9)
    with pytest.raises(ScenarioError, match="beyond the party stratum"):
        Sim.from_scenario("great-terror", scale=1e-9)


def test_sim_refuses_a_scenario_whose_own_scale_empties_a_stratum(no_build):
    scenario = with_scale(load_scenario(SCENARIO), 1e-9)
    with pytest.raises(ScenarioError, match="the party"):
        Sim(scenario)


def test_sim_accepts_a_usable_scale():
    assert Sim(load_scenario(SCENARIO), scale=1e-3).scenario.population.scale == 1e-3


def test_memory_estimate_counts_every_agent_array():
    scenario = load_scenario(SCENARIO)
    agents = int(region_sizes(scenario)[0].sum())
    assert bytes_per_agent(scenario) >= 20  # the stored People arrays: 17 of 1 or 2 bytes
    estimate = check_memory(scenario, available=2**62)
    assert estimate == int(agents * bytes_per_agent(scenario) * BUILD_OVERHEAD)
    with pytest.raises(ScenarioError, match=r"population.size .* population.scale \(--scale\)"):
        check_memory(scenario, available=estimate - 1)


def big(tmp_path, persons: int = 10_000_000_000):
    path = tmp_path / "big.toml"
    path.write_text(
        '[scenario]\nname = "big"\nstart = 1921-03-01\nend = 1921-12-31\n'
        f"[population]\nsize = {persons}\nscale = 1.0\n",
        encoding="utf-8",
    )
    return path


def test_sim_refuses_a_population_far_larger_than_memory(tmp_path, no_build):
    with pytest.raises(ScenarioError, match="GiB of memory") as refused:
        Sim.from_scenario(big(tmp_path))
    assert "10,000,000,000 agents" in str(refused.value)


def test_run_refuses_a_population_far_larger_than_memory_with_exit_2(tmp_path, no_build):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(big(tmp_path)), "--out", str(out)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in ("population.size", "--scale", "GiB of memory", "is available"):
        assert text in result.output
    assert not out.exists()
