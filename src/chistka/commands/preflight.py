"""Checks every command makes before its first simulation, so that failures come early and clean.

A command that would spend minutes running and then fail on an argument (an observable outside
the scenario, an output path that is a file, a scale at which the party has no agent) is
stopped before it starts, with a message naming the argument and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chistka.analysis.comparison import check_modelled as check_modelled
from chistka.analysis.observables import (
    ARGUMENTS,
    ELITE_BITS,
    NAMED_OPERATIONS,
    ORDER_00447,
    UnknownObservable,
    check_name,
    parse_period,
    split_channel_argument,
    split_origin_argument,
)
from chistka.errors import ChistkaError
from chistka.scenario import Scenario
from chistka.scenario import check_strata as check_strata  # re-exported: the commands' checks
from chistka.scenario import empty_strata as empty_strata
from chistka.scenario import with_scale as with_scale


def check_scale(scenario: Scenario, scale: float | None) -> Scenario:
    """The scenario at `scale`, once checked as `Sim` checks it, before any simulation.

    Raises:
        ScenarioError: a scale outside (0, 1], a stratum the scenario needs without an agent,
            or a population too large for the memory available (`chistka.engine.check_memory`).
    """
    from chistka.engine import check_memory

    scaled = with_scale(scenario, scale)
    check_strata(scaled)
    check_memory(scaled)
    return scaled


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _year_argument(argument: str, where: str) -> tuple[dt.date, dt.date]:
    """First day and the day after the last of a YEAR argument (`parse_period`)."""
    try:
        return parse_period(argument)
    except UnknownObservable as error:
        raise ChistkaError(f"{where}: {error}") from None


def _date_argument(argument: str, where: str) -> dt.date:
    try:
        if not _DATE.match(argument):
            raise ValueError
        return dt.date.fromisoformat(argument)
    except ValueError:
        raise ChistkaError(f"{where}: '{argument}' is not a date (YYYY-MM-DD)") from None


def check_observable_form(name: str, where: str = "observable") -> None:
    """Refuse a malformed observable: unknown kind, or an argument not of its kind's form.

    Raises:
        ChistkaError: names the observable, the problem and what is allowed.
    """
    try:
        kind = check_name(name)
    except UnknownObservable as exc:
        raise ChistkaError(f"{where}: {exc}") from None
    argument = name.partition(":")[2]
    form = ARGUMENTS[kind]
    where = f"{where} '{name}'"
    if form == "CHANNEL/YEAR":
        try:
            form, argument = "YEAR", split_channel_argument(argument)[1]
        except UnknownObservable as exc:
            raise ChistkaError(f"{where}: {exc}") from None
    if form == "YEAR":
        _year_argument(argument, where)
    elif form == "DATE":
        _date_argument(argument, where)
    elif form == "BODY" and argument not in ELITE_BITS:
        raise ChistkaError(f"{where}: unknown body '{argument}'; allowed: {', '.join(ELITE_BITS)}")
    elif form in ("OP", "CAMPAIGN") and not re.match(r"^[\w.-]+$", argument):
        raise ChistkaError(f"{where}: '{argument}' is not a name ({form})")
    elif form == "CAMPAIGN/ORIGIN":
        try:
            campaign, _ = split_origin_argument(argument)
        except UnknownObservable as exc:
            raise ChistkaError(f"{where}: {exc}") from None
        if not re.match(r"^[\w.-]+$", campaign):
            raise ChistkaError(f"{where}: '{campaign}' is not a name (CAMPAIGN)")


class OutsideScenarioDates(ChistkaError):
    """An observable whose date or year lies outside the scenario's run (`check_observable`).

    `partly`: a year or a period that overlaps the run without lying wholly inside it (1921 in a
    run from 1 Mar 1921), told apart from one wholly outside where targets are counted by reason.
    """

    def __init__(self, message: str, partly: bool = False) -> None:
        super().__init__(message)
        self.partly = partly


def check_observable(name: str, scenario: Scenario, where: str = "observable") -> None:
    """Refuse an observable the scenario's runs could never give (form, dates, names).

    Raises:
        ChistkaError: a malformed observable (see `check_observable_form`), a date or a year
            outside the scenario, a campaign or an operation it does not have.
    """
    check_observable_form(name, where)
    kind = check_name(name)
    argument = name.partition(":")[2]
    form = ARGUMENTS[kind]
    run = scenario.scenario
    span = f"the scenario runs {run.start} to {run.end}"
    where = f"{where} '{name}'"
    if form == "CHANNEL/YEAR":
        form, argument = "YEAR", split_channel_argument(argument)[1]
    if form == "YEAR":
        first, end = _year_argument(argument, where)
        last = end - dt.timedelta(days=1)
        if first < run.start or last > run.end:
            raise OutsideScenarioDates(
                f"{where}: {argument} is not wholly inside the run ({span})",
                partly=first <= run.end and last >= run.start,
            )
    elif form == "DATE":
        date = _date_argument(argument, where)
        if not run.start <= date <= run.end + dt.timedelta(days=1):
            raise OutsideScenarioDates(f"{where}: {date} is outside the run ({span})")
    elif form in ("CAMPAIGN", "CAMPAIGN/ORIGIN"):
        names = [c.name for c in scenario.campaigns]
        if form == "CAMPAIGN/ORIGIN":
            argument = split_origin_argument(argument)[0]
        if argument not in names:
            raise ChistkaError(
                f"{where}: the scenario has no campaign '{argument}' "
                f"(campaigns: {', '.join(names) or 'none'})"
            )
    elif form == "BODY":
        elite = scenario.population.elite
        size = elite.central_committee if argument == "cc1934" else elite.congress_delegates
        if not size:
            raise ChistkaError(f"{where}: the scenario has no {argument} (population.elite)")
    elif form == "OP":
        names = [o.name for o in scenario.operations]
        national = any(o.kind == "national" for o in scenario.operations)
        if argument not in names and not (argument == "all_national" and national):
            allowed = ", ".join(names) or "none"
            known = " (a name of a national operation of another scenario)" * (
                argument in NAMED_OPERATIONS
            )
            raise ChistkaError(
                f"{where}: the scenario has no operation '{argument}'{known} "
                f"(operations: {allowed})"
            )
    if kind.startswith("order_00447") and ORDER_00447 not in [o.name for o in scenario.operations]:
        raise ChistkaError(f"{where}: the scenario has no operation '{ORDER_00447}'")
    if kind.startswith("army_") and not scenario.population.army_officers:
        raise ChistkaError(f"{where}: the scenario has no army officers (population.army_officers)")


MAX_SEED = 2**63 - 1
"""The largest seed a run takes (a scenario's `scenario.seed` allows no more)."""


def check_seed(seed: int | None, option: str = "--seed") -> None:
    """Refuse a seed outside 0..2**63-1 (what a scenario file allows), before anything runs.

    Raises:
        ChistkaError: the seed is negative or too large.
    """
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ChistkaError(
            f"{option}: a seed must be a whole number from 0 to 2**63 - 1 (got {seed})"
        )


@dataclass(frozen=True)
class LeftOut:
    """A target a command leaves out, and why.

    Attributes:
        id: the target's id.
        observable: its observable.
        reason: why, in a few words shared by every target left out for the same cause (the
            group `left_out_lines` counts).
        message: the full reason, naming the target and what the scenario has.
    """

    id: str
    observable: str
    reason: str
    message: str


NOT_MODELLED = "of a kind the scenario does not model (not in its compare list)"
"""The reason of a target whose kind is not in the scenario's `compare` list."""


def left_out_reason(name: str, scenario: Scenario, where: str = "observable") -> LeftOut | None:
    """Why the scenario's runs could not give a well-formed observable (None: they can).

    The reason is one of four: outside the scenario's dates, not wholly inside them (a year or a
    period the run covers only in part), a campaign, operation or body it does not have
    (`check_observable`), or a kind it does not model (`check_modelled`).
    """
    try:
        check_observable(name, scenario, where)
    except OutsideScenarioDates as exc:
        run = scenario.scenario
        how = "not wholly inside" if exc.partly else "outside"
        reason = f"{how} the scenario's dates ({run.start} to {run.end})"
        return LeftOut("", name, reason, str(exc))
    except ChistkaError as exc:
        reason = "naming a campaign, operation or body the scenario does not have"
        return LeftOut("", name, reason, str(exc))
    try:
        check_modelled(name, scenario, where)
    except ChistkaError as exc:
        return LeftOut("", name, NOT_MODELLED, str(exc))
    return None


def left_out_counts(left: Sequence[LeftOut]) -> str:
    """How many targets each reason leaves out, in words.

    '2 outside the scenario's dates (...); 1 naming a campaign, operation or body the scenario
    does not have', for a message that counts them by reason in one line.
    """
    counts: dict[str, int] = {}
    for item in left:
        counts[item.reason] = counts.get(item.reason, 0) + 1
    return "; ".join(f"{n} {reason}" for reason, n in counts.items())


def left_out_lines(left: Sequence[LeftOut], first: int = 3, rest: str = "") -> list[str]:
    """One line per reason: how many targets it leaves out, and the first few of them.

    `rest` says where the full list is (e.g. "--verbose lists them"); it follows a line that
    names only some of its targets.
    """
    groups: dict[str, list[LeftOut]] = {}
    for item in left:
        groups.setdefault(item.reason, []).append(item)
    lines = []
    for reason, items in groups.items():
        named = ", ".join(f"{item.id} ({item.observable})" for item in items[:first])
        more = f" and {len(items) - first} more" if len(items) > first else ""
        hint = f"; {rest}" if more and rest else ""
        count = f"{len(items)} target{'s' if len(items) > 1 else ''}"
        lines.append(f"left out, {reason}: {count}: {named}{more}{hint}")
    return lines
