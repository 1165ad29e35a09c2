"""Shared fixtures: a small scenario, builders of simulation states, and a replay of the event log.

The replay re-applies every status-changing event of a run's log to the initial population and
checks that each change is legal (e.g. only non-party people are admitted, only full members are
demoted) and that the daily counts the run reports are those the log implies.

Hypothesis runs with the `ci` profile when the CI environment variable is set (`.ci/run` sets
it): examples derived from each test's name instead of random ones, and no example database, so
that CI is deterministic. Elsewhere the `dev` profile keeps random examples, which find more.

The built-in scenarios at their default seed and scale (about a minute each here) run once per
session (`great_terror`, `party_purges`, `purges`) and are shared by the slow tests. Tests of
sweeps and commands that need runs but no history run `small_file`, the small scenario as a
file (three years: a run takes a quarter of the time of party-purges-1921-1936's fifteen).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from chistka import Sim
from chistka.people import Status
from chistka.scenario import Scenario, scenario_from_dict
from chistka.scenario.schema import ORIGINS
from chistka.state import EventKind
from tomltext import to_toml

for _name in ("COLUMNS", "LINES"):
    if _name not in os.environ:
        # GNU readline, which pytest imports, can export the terminal's size into the C
        # environment only (os.environ does not see it), and the commands the tests start
        # inherit it: their tables were then cut to 80 columns, so that 'expelled' was folded
        # out of the campaigns' table (tests/test_cli.py) when the tests ran from a terminal.
        os.unsetenv(_name)

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")

BUILTIN = "party-purges-1921-1936"

SMALL: dict[str, Any] = {
    "scenario": {"name": "small", "start": "1925-01-01", "end": "1927-12-31", "seed": 7},
    "population": {
        "size": 200_000,
        "scale": 0.02,
        "regions": [2.0, 1.0, 1.0],
        "party": {"total": 20_000},
    },
    "network": {"workplace_size": 20, "district_workplaces": 5},
    "admissions": {"rate_per_year": 10_000},
    "exits": {"rate_per_year": 0.05},
    "mortality": {"rate_per_year": 0.02},
    "promotion": {"stage_days": 200},
    "appeals": {"delay_days": 60},
    "campaigns": [
        {"name": "c1", "start": "1925-06-01", "end": "1925-08-31", "threshold": 1.5},
        {"name": "c2", "start": "1927-02-01", "end": "1927-03-31", "threshold": 2.0},
    ],
    "events": [
        {"date": "1926-01-01", "set": {"admissions.rate_per_year": 30_000}},
        {
            "date": "1926-07-01",
            "set": {"admissions.rate_per_year": 0, "promotion.enabled": False},
        },
        {"date": "1927-01-01", "set": {"promotion.enabled": True, "exits.rate_per_year": 0.1}},
    ],
}
"""A small scenario: 4,000 agents (400 in the party) over three years, two campaigns."""


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `changes` merged in (nested dicts merged, other values replaced)."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def make_scenario(changes: dict[str, Any] | None = None, base: dict[str, Any] = SMALL) -> Scenario:
    """The small scenario with `changes` merged in, validated."""
    return scenario_from_dict(deep_merge(base, changes or {}))


def build(changes: dict[str, Any] | None = None, seed: int = 1) -> tuple[Any, dict[str, Any]]:
    """A freshly built state of the small scenario and its mechanisms by name."""
    state, mechanisms = Sim(make_scenario(changes), seed=seed).build()
    return state, {m.name: m for m in mechanisms}


def day_of(scenario: Scenario, date: str | dt.date) -> int:
    """Day index of a date in a scenario's run."""
    return (dt.date.fromisoformat(str(date)) - scenario.scenario.start).days


def end_of_day_counts(counts: np.ndarray, n_days: int) -> np.ndarray:
    """Rows of Results.counts after each day's mechanisms, whichever convention is used.

    The engine stores one row per day, taken after the day's mechanisms; Results documents
    n_days + 1 rows taken at the start of each day. Accept both. Extra axes between status and
    origin (if any) are summed over, giving [day, status, origin].
    """
    if counts.ndim > 3:
        counts = counts.sum(axis=tuple(range(2, counts.ndim - 1)))
    if counts.shape[0] == n_days:
        return counts
    if counts.shape[0] == n_days + 1:
        return counts[1:]
    raise AssertionError(f"counts has {counts.shape[0]} rows for a run of {n_days} days")


PARTY = {int(Status.CANDIDATE), int(Status.MEMBER)}
FOLLOWED = PARTY | {int(Status.EXPELLED), int(Status.LEFT)}

TRANSITIONS: dict[int, tuple[set[int], int | None]] = {
    int(EventKind.ADMITTED): ({int(Status.NONPARTY)}, int(Status.CANDIDATE)),
    int(EventKind.PROMOTED): ({int(Status.CANDIDATE)}, int(Status.MEMBER)),
    int(EventKind.LEFT): (PARTY, int(Status.LEFT)),
    int(EventKind.DIED): (FOLLOWED | {int(Status.NONPARTY)}, int(Status.DEAD)),
    int(EventKind.DEMOTED): ({int(Status.MEMBER)}, int(Status.CANDIDATE)),
    int(EventKind.EXPELLED): (PARTY, int(Status.EXPELLED)),
    int(EventKind.REINSTATED): ({int(Status.EXPELLED)}, None),  # back to the previous status
    # events that do not change the status, and the statuses they require
    int(EventKind.KEPT): (PARTY, -1),
    int(EventKind.APPEALED): ({int(Status.EXPELLED)}, -1),
    int(EventKind.APPEAL_REJECTED): ({int(Status.EXPELLED)}, -1),
}


def replay(
    initial_status: np.ndarray, origin: np.ndarray, events: dict[str, np.ndarray], n_days: int
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Re-apply the event log to the initial statuses.

    Returns the counts [day, status, origin] after each day implied by the log, a list of
    illegal events found (empty if none), and the final statuses.
    """
    status = initial_status.astype(np.int64).tolist()
    origin_list = origin.astype(np.int64).tolist()
    before_expulsion: dict[int, int] = {}
    counts = np.zeros((len(Status), len(ORIGINS)), dtype=np.int64)
    np.add.at(counts, (initial_status.astype(np.int64), origin.astype(np.int64)), 1)
    daily = np.zeros((n_days, len(Status), len(ORIGINS)), dtype=np.int64)
    problems: list[str] = []
    days = events["day"].astype(np.int64)
    if len(days) and np.any(np.diff(days) < 0):
        problems.append("event log days are not in order")
    people = events["person"].astype(np.int64).tolist()
    kinds = events["kind"].astype(np.int64).tolist()
    bounds = np.searchsorted(days, np.arange(n_days + 1), side="left").tolist()
    for day in range(n_days):
        for i in range(bounds[day], bounds[day + 1]):
            person, kind = people[i], kinds[i]
            if kind not in TRANSITIONS:
                continue  # an event outside the party statuses
            allowed, new = TRANSITIONS[kind]
            old = status[person]
            if old not in allowed:
                problems.append(
                    f"day {day}: {EventKind(kind).name} of person {person} in status "
                    f"{Status(old).name}"
                )
                if len(problems) > 20:
                    return daily, problems, np.array(status)
            if new == -1:
                continue
            if kind == EventKind.EXPELLED:
                before_expulsion[person] = old
            if new is None:
                new = before_expulsion.get(person, old)
            counts[old, origin_list[person]] -= 1
            counts[new, origin_list[person]] += 1
            status[person] = new
        daily[day] = counts
    if bounds[n_days] != len(days):
        problems.append("events logged after the last day of the run")
    return daily, problems, np.array(status)


def sweep_small_file(small_file: Path, out: Path, setting: str) -> Any:
    """`chistka sweep` of the small scenario's file: two seeds of each point of `setting` (a
    --set option) at its scale (0.01: 2,000 agents), serially, without the report."""
    from typer.testing import CliRunner

    from chistka.cli import app

    args = ["sweep", str(small_file), "--seeds", "2", "--scale", "0.01", "--jobs", "1"]
    args += ["--set", setting, "--out", str(out), "--no-report"]
    return CliRunner().invoke(app, args, env={"COLUMNS": "300"})


@pytest.fixture(scope="session")
def small_file(tmp_path_factory) -> Path:
    """The small scenario at seed 1 as a TOML file, as a user would write it."""
    path = tmp_path_factory.mktemp("scenario") / "small.toml"
    path.write_text(to_toml(deep_merge(SMALL, {"scenario": {"seed": 1}})), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="session")
def small_results(small_scenario):
    return Sim(small_scenario, seed=11).run()


@pytest.fixture(scope="session")
def builtin_sim() -> Sim:
    return Sim.from_scenario(BUILTIN, seed=1, scale=0.002)


@pytest.fixture(scope="session")
def builtin_results(builtin_sim):
    return builtin_sim.run()


@pytest.fixture(scope="session")
def small_terror_run():
    """tests/test_terror.py's small terror scenario at its own seed: (results, state, mechanisms).

    Run once and shared by the terror mechanisms' tests and the analyses' (read only).
    """
    from test_terror import TERROR

    return Sim(scenario_from_dict(TERROR)).run_with_state()


@pytest.fixture(scope="session")
def party_purges():
    """The built-in party-purges-1921-1936 at its default seed and scale (run once)."""
    return Sim.from_scenario("party-purges-1921-1936").run()


@pytest.fixture(scope="session")
def great_terror():
    """The built-in great-terror at its default seed and scale (run once)."""
    return Sim.from_scenario("great-terror").run()


@pytest.fixture(scope="session")
def purges():
    """The built-in purges-1921-1953 at its default seed and scale (run once)."""
    return Sim.from_scenario("purges-1921-1953").run()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
"""Debian's Chromium and its driver (`make browser` installs them), or None."""


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Selenium (the browser tests of the web app and the
    reports); skipped where it is not installed, a failure under CI."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        message = "Debian's chromium and chromium-driver are not installed (make browser)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()
