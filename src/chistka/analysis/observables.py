"""Named observables computed from any run's results, scaled to the represented population.

Names are `KIND:ARGUMENT`. Counts are in represented persons (each event counts for the persons
its agent stands for). Wherever a YEAR is taken, a period is accepted too: `YYYY-YYYY` (the sum
over its years) or `YYYY-MM-DD/YYYY-MM-DD` (from the first day up to, not including, the second:
the span of an archival report "from 1 October 1936 to 1 July 1938"); it must lie wholly within
the run. DATE is YYYY-MM-DD.

Party:

- `party_total:DATE`, `party_members:DATE`, `party_candidates:DATE`: candidates and/or full
  members at the start of that day;
- `expelled_share:CAMPAIGN`: share of those reviewed in the campaign whom the commission
  expelled (before appeals), CAMPAIGN being a campaign name of the scenario (1921, 1929, ...);
- `reinstated_share:CAMPAIGN`: share of that campaign's expelled reinstated on appeal;
- `expelled_origin_share:CAMPAIGN/ORIGIN`: share of that campaign's expelled (before appeals)
  of the social origin ORIGIN (worker, peasant, employee, alien);
- `admitted:YEAR`, `promoted:YEAR`: persons admitted as candidates, and candidates accepted as
  full members, in the year or period (the flows the party's reports gave between congresses).

Repression:

- `arrests:YEAR`, `political_convictions:YEAR` (death and camp sentences), `death_sentences:YEAR`,
  `camp_sentences:YEAR`, `releases:YEAR` (releases from the camps);
- `political_sentences:YEAR`: every sentence in a political case, death, camps, exile and other
  measures (the scope of the 1953 MVD table's `convicted_YEAR`);
- `arrests_by_channel:CHANNEL/YEAR`: arrests in the year or period that came about through one
  channel (category, national, denunciation, self_protection, testimony, expelled, army, family,
  show_trial, routine: `chistka.scenario.terror.CHANNELS`), e.g. `testimony/1937-1938`: how the
  arrests of a period divide between the centre's lists and the cascade;
- `party_share_of_political_convictions:YEAR`: share of the convictions of people who had ever
  been in the party;
- `gulag_population:DATE`: persons serving a camp sentence at the start of that day;
- `political_prisoners:DATE`: those of them sentenced in a political case: everyone the run
  sentenced to the camps, and the part of the first day's prisoners the record counts as
  political (logged as `in_camp_at_start`);
- `order_00447_arrested:DATE`, `order_00447_condemned:DATE` (death and camp sentences),
  `order_00447_shot:DATE`: cumulative from the start of the run to DATE (inclusive), for the
  operation named 'order_00447' (arrests from its lists, channel 'category'; sentences by its
  troikas, whatever the channel that brought the case);
- `operation_arrested:OP`, `operation_sentenced:OP`, `operation_shot:OP`: over the whole run,
  for the operation OP (german, polish, latvian, harbin, other_national, or any operation of
  the run) or for all_national (every national operation);
- `arrested_share:BODY`, `shot_share:BODY`: share of the 1934 Central Committee (cc1934) or of
  the delegates to the 17th Congress (congress17) arrested / sentenced to death (each person
  once);
- `army_officers_dismissed:YEAR`, `army_officers_arrested:YEAR`: dismissals from the Red Army,
  arrests of army officers.

A sentence belongs to the operation whose troika or album passed it (written on the sentence);
a sentence that no operation's body passed belongs to the operation of the person's latest arrest
before it (a case of an operation judged after its end by an ordinary court).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chistka.errors import ChistkaError, did_you_mean
from chistka.people import Fate, Role
from chistka.scenario.schema import ORIGINS
from chistka.scenario.terror import CHANNELS
from chistka.state import EventKind

if TYPE_CHECKING:
    from chistka.results import Results
    from chistka.scenario import Scenario


class UnknownObservable(ChistkaError):
    """An observable name that is not in the catalogue."""


class ObservableOutOfRun(ChistkaError):
    """An observable that exists but cannot be computed from this run (date or campaign absent)."""


NAMED_OPERATIONS = ("german", "polish", "latvian", "harbin", "other_national", "all_national")
"""Operations `operation_*:OP` knows by name (the built-in scenarios' national operations)."""

ORDER_00447 = "order_00447"
"""Name of Order 00447's operation in the scenarios."""

ELITE_BITS = {"cc1934": 1, "congress17": 2}
"""Elite body -> bit of the `elite` column (keys of population_summary['elite_persons'])."""

CONVICTIONS = (EventKind.SENTENCED_DEATH, EventKind.SENTENCED_CAMP)
SENTENCES = (*CONVICTIONS, EventKind.SENTENCED_EXILE, EventKind.SENTENCED_OTHER)
"""Every sentence in a political case: death, camps, exile and other measures."""
_CATEGORY = CHANNELS.index("category")
_NATIONAL = CHANNELS.index("national")


def is_share(observable: str) -> bool:
    """Whether an observable is a share (its kind has the word `share`) rather than a count.

    Not only kinds ending in `_share`: party_share_of_political_convictions is one too, and was
    read as a count (its difference in `compare` shown as "0").
    """
    return "share" in observable.split(":", 1)[0].split("_")


# --- arguments ---------------------------------------------------------------------------------


def observable_number(value: float | None, observable: str) -> str:
    """An observable's value in a command's table: a share in percent, else a count.

    A count is of persons (or of their arrests, sentences...), so it is written whole at any
    size: under 10 it read "3.46" (a mean over seeds). "-" stands for a missing value. Whether
    the observable is a share is `observables.is_share`'s answer, the one every page uses.
    """
    if value is None or math.isnan(value):
        return "-"
    if is_share(observable):
        return f"{value:.1%}"
    return f"{value:,.0f}"


def difference_number(value: float, observable: str) -> str:
    """A difference B - A: of shares in percentage points, of counts in whole persons.

    A difference of shares in % would read as the relative change (the next column). A count's
    difference is of means over seeds, which can fall between persons ("8.5"): it is written
    whole, as the counts are. A difference has its sign, "+" too ("+1,234", as the relative
    change and the experiment's report write theirs); one that rounds to zero has none ("0").
    """
    if value is None or math.isnan(value):
        return "-"
    if is_share(observable):
        return unsigned_zero(f"{value * 100:+.1f} points")
    return unsigned_zero(f"{value:+,.0f}")


def unsigned_zero(text: str) -> str:
    """A number as written, without its sign where every digit is 0 ("-0.0%" -> "0.0%")."""
    if text[:1] in "+-" and not any(digit in text for digit in "123456789"):
        return text[1:]
    return text


def _rows(results: Results) -> int:
    return int(results.persons.shape[0])


def _date(results: Results, argument: str) -> int:
    """Row of a date in the daily counts (the morning after the last day allowed)."""
    try:
        date = dt.date.fromisoformat(argument)
    except ValueError:
        raise UnknownObservable(f"'{argument}' is not a date (YYYY-MM-DD)") from None
    day = (date - results.start).days
    if not 0 <= day < _rows(results):
        last = results.start + dt.timedelta(days=_rows(results) - 1)
        raise ObservableOutOfRun(f"{date} is outside the run ({results.start} to {last})")
    return day


def _event_day(results: Results, argument: str) -> int:
    """Day index of a simulated date (one on which events can happen)."""
    day = _date(results, argument)
    if day > _rows(results) - 2:
        raise ObservableOutOfRun(f"{argument} is after the last simulated day ({results.last_day})")
    return day


def parse_period(argument: str) -> tuple[dt.date, dt.date]:
    """First day, and the day after the last, of a YEAR argument.

    The argument is a year `YYYY`, a period of years `YYYY-YYYY` or a span of days
    `YYYY-MM-DD/YYYY-MM-DD` (the second day excluded).

    Raises:
        UnknownObservable: an argument of none of these forms, or a period that ends before it
            starts (or, for a span of days, where it starts).
    """
    if "/" in argument:
        first_text, _, end_text = argument.partition("/")
        try:
            first, end = dt.date.fromisoformat(first_text), dt.date.fromisoformat(end_text)
        except ValueError:
            raise UnknownObservable(
                f"'{argument}' is not a span of days (YYYY-MM-DD/YYYY-MM-DD)"
            ) from None
        if end <= first:
            raise UnknownObservable(f"span '{argument}' ends before its first day")
        return first, end
    first_text, sep, last_text = argument.partition("-")
    if not (first_text.isdigit() and len(first_text) == 4) or (
        sep and not (last_text.isdigit() and len(last_text) == 4)
    ):
        raise UnknownObservable(
            f"'{argument}' is not a year (YYYY), a period of years (YYYY-YYYY) or a span of "
            "days (YYYY-MM-DD/YYYY-MM-DD)"
        )
    first_year = int(first_text)
    last_year = int(last_text) if sep else first_year
    if last_year < first_year:
        raise UnknownObservable(f"period '{argument}' ends before it starts")
    return dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1)


def _period(results: Results, argument: str) -> tuple[int, int]:
    """First and last day index (inclusive) of a period (`parse_period`) inside the run."""
    first, end = parse_period(argument)
    start, last_day = results.start, results.last_day
    if first < start or end - dt.timedelta(days=1) > last_day:
        raise ObservableOutOfRun(f"{argument} is not wholly inside the run ({start} to {last_day})")
    return (first - start).days, (end - start).days - 1


# --- building blocks ---------------------------------------------------------------------------


def _kinds(results: Results, *kinds: EventKind) -> np.ndarray:
    """Mask of the events of the given kinds."""
    return np.isin(results.events["kind"], [int(k) for k in kinds])


def _within(results: Results, first: int, last: int) -> np.ndarray:
    """Mask of the events from day `first` to day `last` (inclusive)."""
    day = results.events["day"]
    return (day >= first) & (day <= last)


def _persons(results: Results, mask: np.ndarray) -> float:
    """Represented persons of the chosen events."""
    return float(results.events["weight"][mask].astype(np.float64).sum())


def _cache(results: Results) -> dict[str, Any]:
    cache = getattr(results, "_cache", None)
    return cache if cache is not None else {}


def _sentence_operation(results: Results) -> np.ndarray:
    """For each event, the operation a sentence belongs to (-1 if none).

    The operation written on the sentence (its troika or album passed it), else that of the
    person's latest arrest up to it.
    """
    cache = _cache(results)
    if "sentence_operation" in cache:
        return cache["sentence_operation"]
    ev = results.events
    operation = np.full(len(ev["kind"]), -1, dtype=np.int64)
    sentenced = np.flatnonzero(_kinds(results, *CONVICTIONS))
    arrested = np.flatnonzero(_kinds(results, EventKind.ARRESTED))
    if len(sentenced) and len(arrested):
        left = pd.DataFrame(
            {
                "day": ev["day"][sentenced].astype(np.int64),
                "person": ev["person"][sentenced].astype(np.int64),
                "row": sentenced,
            }
        ).sort_values("day", kind="stable")
        right = pd.DataFrame(
            {
                "day": ev["day"][arrested].astype(np.int64),
                "person": ev["person"][arrested].astype(np.int64),
                "operation": ev["campaign"][arrested].astype(np.int64),
            }
        ).sort_values("day", kind="stable")
        found = pd.merge_asof(left, right, on="day", by="person", direction="backward")
        operation[found["row"].to_numpy()] = found["operation"].fillna(-1).astype(np.int64)
        own = ev["campaign"][sentenced].astype(np.int64)
        operation[sentenced] = np.where(own >= 0, own, operation[sentenced])
    cache["sentence_operation"] = operation
    return operation


def _operation_index(results: Results, name: str) -> int | None:
    names = list(results.operation_names)
    return names.index(name) if name in names else None


def _national_operations(results: Results) -> list[int]:
    """Indices of the national operations: kind 'national' in the scenario, or national arrests."""
    indices: set[int] = set()
    parameters = (results.provenance or {}).get("parameters") or {}
    for index, operation in enumerate(parameters.get("operations") or []):
        if isinstance(operation, dict) and operation.get("kind") == "national":
            indices.add(index)
    ev = results.events
    national = _kinds(results, EventKind.ARRESTED) & (ev["channel"] == _NATIONAL)
    indices.update(int(i) for i in np.unique(ev["campaign"][national]) if i >= 0)
    return sorted(i for i in indices if i < len(results.operation_names))


def _operations(results: Results, argument: str) -> list[int]:
    """Operation indices named by an `operation_*` argument."""
    if argument == "all_national":
        found = _national_operations(results)
        if not found:
            raise ObservableOutOfRun("this run has no national operation")
        return found
    index = _operation_index(results, argument)
    if index is not None:
        return [index]
    ran = ", ".join(results.operation_names) or "none"
    if argument in NAMED_OPERATIONS:
        raise ObservableOutOfRun(f"no operation '{argument}' in this run (operations: {ran})")
    raise UnknownObservable(
        f"unknown operation '{argument}'; {did_you_mean(argument, NAMED_OPERATIONS)}"
        f"allowed: {', '.join(NAMED_OPERATIONS)} or an operation of the run ({ran})"
    )


def _population(results: Results) -> dict[str, Any]:
    return getattr(results, "population_summary", None) or {}


# --- observables -------------------------------------------------------------------------------


def _membership(column: str) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        return float(results.membership()[column].iloc[_date(results, argument)])

    return compute


def _party_decline(results: Results, argument: str) -> float:
    first, last = _period(results, argument)
    total = results.membership()["total"]
    return float(total.iloc[first] - total.iloc[last + 1])


def _campaign_column(column: str) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        table = results.campaigns()
        row = table[table["campaign"] == argument]
        if row.empty:
            raise ObservableOutOfRun(
                f"no campaign '{argument}' in this run (campaigns: "
                f"{', '.join(results.campaign_names) or 'none'})"
            )
        value = float(row[column].iloc[0])
        return value if not math.isnan(value) else math.nan

    return compute


def split_origin_argument(argument: str) -> tuple[str, str]:
    """CAMPAIGN and ORIGIN of an `expelled_origin_share` argument (CAMPAIGN/ORIGIN).

    Raises:
        UnknownObservable: no '/', or an origin that is not one of `ORIGINS`.
    """
    campaign, sep, origin = argument.partition("/")
    if not sep or not campaign:
        raise UnknownObservable(f"'{argument}' is not CAMPAIGN/ORIGIN (e.g. 1921/peasant)")
    if origin not in ORIGINS:
        raise UnknownObservable(
            f"unknown origin '{origin}'; {did_you_mean(origin, ORIGINS)}"
            f"allowed: {', '.join(ORIGINS)}"
        )
    return campaign, origin


def _expelled_origin_share(results: Results, argument: str) -> float:
    """Share of a campaign's expelled (before appeals) of one social origin, in persons."""
    campaign, origin = split_origin_argument(argument)
    if campaign not in results.campaign_names:
        raise ObservableOutOfRun(
            f"no campaign '{campaign}' in this run (campaigns: "
            f"{', '.join(results.campaign_names) or 'none'})"
        )
    ev = results.events
    expelled = (ev["campaign"] == results.campaign_names.index(campaign)) & (
        ev["kind"] == int(EventKind.EXPELLED)
    )
    weight = ev["weight"][expelled].astype(np.float64)
    total = weight.sum()
    if total == 0:
        return math.nan
    return float(weight[ev["origin"][expelled] == ORIGINS.index(origin)].sum() / total)


def split_channel_argument(argument: str) -> tuple[str, str]:
    """CHANNEL and YEAR of an `arrests_by_channel` argument (CHANNEL/YEAR).

    Raises:
        UnknownObservable: no '/', or a channel that is not one of `CHANNELS`.
    """
    channel, sep, period = argument.partition("/")
    if not sep or not period:
        raise UnknownObservable(f"'{argument}' is not CHANNEL/YEAR (e.g. testimony/1937)")
    if channel not in CHANNELS:
        raise UnknownObservable(
            f"unknown channel '{channel}'; {did_you_mean(channel, CHANNELS)}"
            f"allowed: {', '.join(CHANNELS)}"
        )
    return channel, period


def _arrests_by_channel(results: Results, argument: str) -> float:
    """Arrests of a period that came about through one channel, in persons."""
    channel, period = split_channel_argument(argument)
    first, last = _period(results, period)
    mask = _kinds(results, EventKind.ARRESTED) & _within(results, first, last)
    return _persons(results, mask & (results.events["channel"] == CHANNELS.index(channel)))


def _periodic(*kinds: EventKind) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        first, last = _period(results, argument)
        return _persons(results, _kinds(results, *kinds) & _within(results, first, last))

    return compute


def _order_00447(*kinds: EventKind) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        index = _operation_index(results, ORDER_00447)
        if index is None:
            raise ObservableOutOfRun(
                f"no operation '{ORDER_00447}' in this run "
                f"(operations: {', '.join(results.operation_names) or 'none'})"
            )
        day = _event_day(results, argument)
        ev = results.events
        mask = _kinds(results, *kinds) & (ev["day"] <= day)
        if EventKind.ARRESTED in kinds:
            mask &= (ev["campaign"] == index) & (ev["channel"] == _CATEGORY)
        else:
            mask &= _sentence_operation(results) == index
        return _persons(results, mask)

    return compute


def _operation(*kinds: EventKind) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        indices = _operations(results, argument)
        if EventKind.ARRESTED in kinds:
            operation = results.events["campaign"].astype(np.int64)
        else:
            operation = _sentence_operation(results)
        return _persons(results, _kinds(results, *kinds) & np.isin(operation, indices))

    return compute


def _elite_share(kind: EventKind) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        if argument not in ELITE_BITS:
            raise UnknownObservable(
                f"unknown body '{argument}'; {did_you_mean(argument, tuple(ELITE_BITS))}"
                f"allowed: {', '.join(ELITE_BITS)}"
            )
        size = (_population(results).get("elite_persons") or {}).get(argument)
        if not size:
            raise ObservableOutOfRun(f"this run has no {argument} (population.elite)")
        chosen = _kinds(results, kind) & ((results.events["elite"] & ELITE_BITS[argument]) > 0)
        return _persons(results, results.first_per_person(chosen)) / float(size)

    return compute


def _army(kind: EventKind) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        first, last = _period(results, argument)
        if _population(results).get("officer_persons", None) == 0:
            raise ObservableOutOfRun("this run has no army officers (population.army_officers)")
        mask = _kinds(results, kind) & _within(results, first, last)
        if kind == EventKind.ARRESTED:
            mask &= results.events["role"] == int(Role.OFFICER)
        return _persons(results, mask)

    return compute


def _party_share_of_convictions(results: Results, argument: str) -> float:
    first, last = _period(results, argument)
    convicted = _kinds(results, *CONVICTIONS) & _within(results, first, last)
    total = _persons(results, convicted)
    if not total:
        return math.nan
    return _persons(results, convicted & (results.events["cohort"] >= 0)) / total


def _gulag_population(results: Results, argument: str) -> float:
    return float(results.persons[_date(results, argument), :, int(Fate.CAMP), :].sum())


FATE_CHANGES = (
    EventKind.IN_CAMP_AT_START,
    EventKind.SENTENCED_CAMP,
    EventKind.ARRESTED,
    EventKind.IN_CUSTODY_AT_START,
    EventKind.SENTENCED_DEATH,
    EventKind.CASE_DROPPED,
    EventKind.CASE_DROPPED_ON_REVIEW,
    EventKind.SENTENCED_EXILE,
    EventKind.SENTENCED_OTHER,
    EventKind.RELEASED,
    EventKind.DIED_IN_CAMP,
    EventKind.DIED,
)
"""The events that change a person's fate: a person is in the camps while the latest is one of
the first two."""


def political_prisoners_by_day(results: Results) -> np.ndarray:
    """Persons in the camps sentenced in a political case, on the morning of each day of the run.

    Each person's fate-changing events (`FATE_CHANGES`), in the order they happened, say when
    they enter the camps (a camp sentence, or the first day's political share) and leave them;
    the first day's prisoners are counted from its morning. Kept in the results' cache.
    """
    cache = _cache(results)
    if "political_prisoners" in cache:
        return cache["political_prisoners"]
    ev = results.events
    chosen = np.flatnonzero(_kinds(results, *FATE_CHANGES))
    chosen = chosen[np.lexsort((ev["day"][chosen], ev["person"][chosen]))]  # stable: log order
    person = ev["person"][chosen]
    kind = ev["kind"][chosen]
    inside = np.isin(kind, [int(k) for k in FATE_CHANGES[:2]])
    before = np.concatenate(([False], inside[:-1]))
    before[np.concatenate(([True], person[1:] != person[:-1]))] = False
    change = inside.astype(np.float64) - before.astype(np.float64)
    morning = ev["day"][chosen].astype(np.int64) + 1
    morning[kind == int(EventKind.IN_CAMP_AT_START)] = 0
    rows = _rows(results)
    weight = ev["weight"][chosen].astype(np.float64) * change
    series = np.cumsum(np.bincount(morning, weights=weight, minlength=rows + 1)[:rows])
    cache["political_prisoners"] = series
    return series


def _political_prisoners(results: Results, argument: str) -> float:
    return float(political_prisoners_by_day(results)[_date(results, argument)])


OBSERVABLES: dict[str, Callable[[Results, str], float]] = {
    "party_total": _membership("total"),
    "party_members": _membership("members"),
    "party_candidates": _membership("candidates"),
    "party_decline": _party_decline,
    "expelled": _campaign_column("expelled"),
    "expelled_share": _campaign_column("expelled_share"),
    "reinstated_share": _campaign_column("reinstated_share"),
    "expelled_origin_share": _expelled_origin_share,
    "admitted": _periodic(EventKind.ADMITTED),
    "promoted": _periodic(EventKind.PROMOTED),
    "arrests": _periodic(EventKind.ARRESTED),
    "arrests_by_channel": _arrests_by_channel,
    "political_convictions": _periodic(*CONVICTIONS),
    "political_sentences": _periodic(*SENTENCES),
    "death_sentences": _periodic(EventKind.SENTENCED_DEATH),
    "camp_sentences": _periodic(EventKind.SENTENCED_CAMP),
    "releases": _periodic(EventKind.RELEASED),
    "party_share_of_political_convictions": _party_share_of_convictions,
    "gulag_population": _gulag_population,
    "political_prisoners": _political_prisoners,
    "order_00447_arrested": _order_00447(EventKind.ARRESTED),
    "order_00447_condemned": _order_00447(*CONVICTIONS),
    "order_00447_shot": _order_00447(EventKind.SENTENCED_DEATH),
    "operation_arrested": _operation(EventKind.ARRESTED),
    "operation_sentenced": _operation(*CONVICTIONS),
    "operation_shot": _operation(EventKind.SENTENCED_DEATH),
    "arrested_share": _elite_share(EventKind.ARRESTED),
    "shot_share": _elite_share(EventKind.SENTENCED_DEATH),
    "army_officers_dismissed": _army(EventKind.DISMISSED),
    "army_officers_arrested": _army(EventKind.ARRESTED),
}
"""The catalogue: observable kind -> function of (results, argument)."""

ARGUMENTS: dict[str, str] = {
    "party_total": "DATE",
    "party_members": "DATE",
    "party_candidates": "DATE",
    "party_decline": "YEAR",
    "expelled": "CAMPAIGN",
    "expelled_share": "CAMPAIGN",
    "reinstated_share": "CAMPAIGN",
    "expelled_origin_share": "CAMPAIGN/ORIGIN",
    "admitted": "YEAR",
    "promoted": "YEAR",
    "arrests": "YEAR",
    "arrests_by_channel": "CHANNEL/YEAR",
    "political_convictions": "YEAR",
    "political_sentences": "YEAR",
    "death_sentences": "YEAR",
    "camp_sentences": "YEAR",
    "releases": "YEAR",
    "party_share_of_political_convictions": "YEAR",
    "gulag_population": "DATE",
    "political_prisoners": "DATE",
    "order_00447_arrested": "DATE",
    "order_00447_condemned": "DATE",
    "order_00447_shot": "DATE",
    "operation_arrested": "OP",
    "operation_sentenced": "OP",
    "operation_shot": "OP",
    "arrested_share": "BODY",
    "shot_share": "BODY",
    "army_officers_dismissed": "YEAR",
    "army_officers_arrested": "YEAR",
}
"""Observable kind -> the argument it takes (YEAR also accepts a period: `parse_period`)."""


MEANINGS: dict[str, str] = {
    "party_total": "candidates and full members at the start of DATE ({unit})",
    "party_members": "full members at the start of DATE ({unit})",
    "party_candidates": "candidates at the start of DATE ({unit})",
    "party_decline": "how far the party (candidates and full members) fell over the year or "
    "period: its size on the first morning less its size on the morning after ({unit})",
    "expelled": "persons the commission expelled in the campaign (before appeals)",
    "expelled_share": "share of those reviewed in the campaign whom the commission expelled "
    "(before appeals)",
    "reinstated_share": "share of the campaign's expelled reinstated on appeal",
    "expelled_origin_share": "share of the campaign's expelled (before appeals) of the origin",
    "admitted": "persons admitted to the party as candidates in the year or period",
    "promoted": "candidates accepted as full members in the year or period ({unit})",
    "arrests": "arrests in the year or period",
    "political_convictions": "death and camp sentences in the year or period",
    "political_sentences": "every political sentence in the year or period: death, camps, exile "
    "and other measures",
    "death_sentences": "death sentences in the year or period",
    "camp_sentences": "camp sentences in the year or period",
    "releases": "releases from the camps in the year or period",
    "party_share_of_political_convictions": "share of the convictions of people who had ever "
    "been in the party",
    "gulag_population": "persons serving a camp sentence at the start of DATE",
    "political_prisoners": "persons serving a camp sentence at the start of DATE who were "
    "sentenced in a political case (of the first day's prisoners, the record's political share)",
    "order_00447_arrested": "arrests under Order 00447 from the start of the run to DATE",
    "order_00447_condemned": "death and camp sentences under Order 00447 to DATE",
    "order_00447_shot": "death sentences under Order 00447 to DATE",
    "operation_arrested": "arrests in the operation OP over the run (all_national: every "
    "national operation)",
    "operation_sentenced": "death and camp sentences in the operation OP over the run",
    "operation_shot": "death sentences in the operation OP over the run",
    "arrested_share": "share of the body (cc1934: 1934 Central Committee; congress17: 17th "
    "Congress delegates) arrested",
    "shot_share": "share of the body (cc1934, congress17) sentenced to death",
    "army_officers_dismissed": "dismissals of Red Army officers in the year or period",
    "army_officers_arrested": "arrests of army officers in the year or period",
    "arrests_by_channel": "arrests in the year or period that came about through the channel "
    "(the centre's lists, a denunciation, testimony, ...)",
}
"""What each observable kind measures, in words (`chistka observables`, experiment reports).

`{unit}` stands where an entry says its unit: `meaning` writes `unit`'s, so that the two cannot
disagree. They did: arrests, sentences and releases were "(persons)" on the pages beside the
unit "arrests", "sentences" or "releases"; their words now name what they count, with no unit.
"""


TITLES: dict[str, str] = {
    "party_total": "Party members and candidates on {date}",
    "party_members": "Full party members on {date}",
    "party_candidates": "Party candidates on {date}",
    "party_decline": "Fall in the party's size, {period}",
    "expelled": "Expelled in the campaign {campaign}",
    "expelled_share": "Share of the reviewed expelled in the campaign {campaign}",
    "reinstated_share": "Share of the expelled reinstated on appeal, campaign {campaign}",
    "expelled_origin_share": "Share of {origin} origin among the expelled, campaign {campaign}",
    "admitted": "Admitted to the party as candidates, {period}",
    "promoted": "Candidates made full members, {period}",
    "arrests": "Arrests, {period}",
    "arrests_by_channel": "Arrests through {channel}, {period}",
    "political_convictions": "Death and camp sentences, {period}",
    "political_sentences": "Every political sentence (death, camps, exile, other), {period}",
    "death_sentences": "Death sentences, {period}",
    "camp_sentences": "Camp sentences, {period}",
    "releases": "Releases from the camps, {period}",
    "party_share_of_political_convictions": "Share of the convicted who had been in the party, "
    "{period}",
    "gulag_population": "Prisoners in the camps on {date}",
    "political_prisoners": "Political prisoners in the camps on {date}",
    "order_00447_arrested": "Arrests under Order 00447 up to {date}",
    "order_00447_condemned": "Death and camp sentences under Order 00447 up to {date}",
    "order_00447_shot": "Death sentences under Order 00447 up to {date}",
    "operation_arrested": "Arrests in {op}",
    "operation_sentenced": "Death and camp sentences in {op}",
    "operation_shot": "Death sentences in {op}",
    "arrested_share": "Share of {body} arrested",
    "shot_share": "Share of {body} sentenced to death",
    "army_officers_dismissed": "Red Army officers dismissed, {period}",
    "army_officers_arrested": "Army officers arrested, {period}",
}
"""Observable kind -> a short title in words, its argument's parts filled in (`title`)."""

CHANNEL_WORDS: dict[str, str] = {
    "category": "Order 00447's lists",
    "national": "the national operations",
    "denunciation": "denunciation",
    "self_protection": "self-protective denunciation",
    "testimony": "testimony",
    "expelled": "a past expulsion",
    "army": "the army purge",
    "family": "family ties",
    "show_trial": "the show trials",
    "routine": "the routine caseload",
}
"""How an arrest came about (`CHANNELS`), in words for a title."""

BODY_WORDS = {"cc1934": "the 1934 Central Committee", "congress17": "the 17th Congress's delegates"}
"""Elite body (`ELITE_BITS`) -> its name in words."""


UNITS: dict[str, str] = {
    "party_total": "persons",
    "party_members": "persons",
    "party_candidates": "persons",
    "party_decline": "persons",
    "expelled": "persons",
    "admitted": "persons",
    "promoted": "persons",
    "arrests": "arrests",
    "arrests_by_channel": "arrests",
    "political_convictions": "sentences",
    "political_sentences": "sentences",
    "death_sentences": "sentences",
    "camp_sentences": "sentences",
    "releases": "releases",
    "gulag_population": "prisoners",
    "political_prisoners": "prisoners",
    "order_00447_arrested": "arrests",
    "order_00447_condemned": "sentences",
    "order_00447_shot": "sentences",
    "operation_arrested": "arrests",
    "operation_sentenced": "sentences",
    "operation_shot": "sentences",
    "army_officers_dismissed": "dismissals",
    "army_officers_arrested": "arrests",
}
"""What a count observable counts, in represented persons (a share, `is_share`, has none)."""

SHARE_UNIT = "share, %"
"""The unit of a share (`unit`); a difference of shares is in percentage points."""


def unit(name: str) -> str:
    """What an observable's values are: what its count counts, or `SHARE_UNIT` for a share.

    The experiment pages gave means and changes with no unit.
    """
    if is_share(name):
        return SHARE_UNIT
    return UNITS.get(name.partition(":")[0], "persons")


def meaning(name: str, *, with_unit: bool = True) -> str:
    """What an observable (a name or its kind) measures, in words, from `MEANINGS`.

    Where the entry says its unit, it is `unit`'s; `with_unit=False` leaves it out, for a
    table that gives the unit in a column of its own (`chistka observables`).
    """
    kind = name.partition(":")[0]
    text = MEANINGS.get(kind, kind)
    if not with_unit:
        return text.replace(" ({unit})", "")
    return text.replace("{unit}", unit(name))


def _day_words(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _period_words(argument: str) -> str:
    """A YEAR argument in words: a year or period of years as it is, a span of days by its days."""
    if "/" not in argument:
        return argument
    first, end = parse_period(argument)
    return f"{_day_words(first)} to {_day_words(end - dt.timedelta(days=1))}"


def _operation_words(op: str) -> str:
    if op == "all_national":
        return "the national operations"
    if op == ORDER_00447:
        return "Order 00447's operation"
    return f"the operation {op}"


def title(name: str) -> str:
    """A short title in words for observable `name`, e.g. "Arrests through testimony, 1937-1938".

    For chart titles and table rows that a reader without the catalogue reads; the code stays
    beside it where the data are named. A name whose argument cannot be read gets its code back.
    """
    kind, _, argument = name.partition(":")
    template = TITLES.get(kind)
    if template is None or not argument:
        return name
    parts: dict[str, str] = {}
    try:
        what = ARGUMENTS[kind]
        if what == "DATE":
            parts["date"] = _day_words(dt.date.fromisoformat(argument))
        elif what == "YEAR":
            parts["period"] = _period_words(argument)
        elif what == "CHANNEL/YEAR":
            channel, period = split_channel_argument(argument)
            parts |= {
                "channel": CHANNEL_WORDS.get(channel, channel),
                "period": _period_words(period),
            }
        elif what == "CAMPAIGN/ORIGIN":
            parts["campaign"], parts["origin"] = split_origin_argument(argument)
        elif what == "CAMPAIGN":
            parts["campaign"] = argument
        elif what == "OP":
            parts["op"] = _operation_words(argument)
        elif what == "BODY":
            parts["body"] = BODY_WORDS.get(argument, argument)
    except (ChistkaError, ValueError):
        return name
    return template.format(**parts)


PLACEHOLDERS = {
    "date": "DATE",
    "period": "YEAR",
    "channel": "CHANNEL",
    "campaign": "CAMPAIGN",
    "origin": "ORIGIN",
    "op": "OP",
    "body": "BODY",
}
"""A title's part -> the argument's part it is filled from, as `ARGUMENTS` writes it."""


def title_pattern(kind: str) -> str:
    """An observable kind's title with its argument's parts named: "Arrests through CHANNEL, YEAR".

    For the catalogue (`chistka observables`), so that a reader finds the code of a chart's
    title on the pages.
    """
    template = TITLES.get(kind)
    return template.format(**PLACEHOLDERS) if template is not None else kind


APPEAL_HORIZON = math.log(1e9)
"""How many mean appeal delays after a campaign's end its reinstatements are read: the delays
are exponential (`chistka.mechanisms.appeals`), so all but a 1e-9 share of them fall within."""


def last_day_read(name: str, scenario: Scenario) -> dt.date | None:
    """The last day of a run of `scenario` on which observable `name` depends (None: any day).

    A run stopped on that day gives the same value, since a day's events depend only on the days
    before it: a DATE is read on its morning, a YEAR or period up to its last day, a
    campaign's expelled share up to its end, its reinstated share until the appeals lodged in it
    are decided (`APPEAL_HORIZON`); the operations' totals and the elite's fate are read over
    the whole run. The calibration uses it to stop each trial's runs after the last day its
    targets read.

    Raises:
        UnknownObservable: as `check_name`, or a malformed date or year.
    """
    kind = check_name(name)
    argument = name.partition(":")[2]
    what = ARGUMENTS[kind]
    try:
        if what == "DATE":
            return dt.date.fromisoformat(argument)
    except ValueError:
        raise UnknownObservable(f"'{name}': '{argument}' is not a date (YYYY-MM-DD)") from None
    if what == "CHANNEL/YEAR":
        what, argument = "YEAR", split_channel_argument(argument)[1]
    if what == "YEAR":
        return parse_period(argument)[1] - dt.timedelta(days=1)
    if what == "CAMPAIGN/ORIGIN":
        argument = split_origin_argument(argument)[0]
    if what in ("CAMPAIGN", "CAMPAIGN/ORIGIN"):
        campaign = next((c for c in scenario.campaigns if c.name == argument), None)
        if campaign is None:
            return None
        if kind in ("expelled", "expelled_share", "expelled_origin_share"):
            return campaign.end
        delays = [scenario.appeals.delay_days] + [
            float(event.set["appeals.delay_days"])
            for event in scenario.events
            if "appeals.delay_days" in event.set
        ]
        return campaign.end + dt.timedelta(days=math.ceil(1 + max(delays) * APPEAL_HORIZON))
    return None


def allowed() -> list[str]:
    """The catalogue as `KIND:ARGUMENT` patterns, for messages and help."""
    return [f"{kind}:{ARGUMENTS[kind]}" for kind in OBSERVABLES]


def check_name(name: str) -> str:
    """The kind of observable `name`, checking only its form (KIND:ARGUMENT, known KIND).

    Raises:
        UnknownObservable: the name is not of the form KIND:ARGUMENT with a known KIND.
    """
    kind, sep, argument = name.partition(":")
    if kind in OBSERVABLES and not argument:
        raise UnknownObservable(f"observable '{name}' needs an argument: {kind}:{ARGUMENTS[kind]}")
    if not sep or kind not in OBSERVABLES:
        hint = did_you_mean(kind, tuple(OBSERVABLES)) if kind else ""
        raise UnknownObservable(
            f"unknown observable '{name}'; {hint}allowed: " + ", ".join(allowed())
        )
    return kind


def compute(results: Results, name: str) -> float:
    """The value of observable `name` in `results`.

    Raises:
        UnknownObservable: the name is not of the form KIND:ARGUMENT with a known KIND, or its
            argument is malformed (not a date, year, known operation or body).
        ObservableOutOfRun: the observable exists but lies outside this run.
    """
    kind = check_name(name)
    return OBSERVABLES[kind](results, name.partition(":")[2])
