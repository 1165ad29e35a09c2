"""Named observables computed from any run's results, scaled to the represented population.

Names are `KIND:ARGUMENT`:

- `party_total:DATE`, `party_members:DATE`, `party_candidates:DATE` (DATE as YYYY-MM-DD):
  candidates and/or full members at the start of that day;
- `expelled_share:CAMPAIGN`: share of those reviewed in the campaign whom the commission
  expelled (before appeals), CAMPAIGN being a campaign name of the scenario (1921, 1929, ...);
- `reinstated_share:CAMPAIGN`: share of that campaign's expelled reinstated on appeal;
- `arrests:YEAR`, `political_convictions:YEAR` (death and camp sentences), `death_sentences:YEAR`,
  `camp_sentences:YEAR`: persons in a calendar year that lies wholly within the run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from chistka.errors import ChistkaError

if TYPE_CHECKING:
    from chistka.results import Results


class UnknownObservable(ChistkaError):
    """An observable name that is not in the catalogue."""


class ObservableOutOfRun(ChistkaError):
    """An observable that exists but cannot be computed from this run (date or campaign absent)."""


def _date(results: Results, argument: str) -> int:
    try:
        date = dt.date.fromisoformat(argument)
    except ValueError:
        raise UnknownObservable(f"'{argument}' is not a date (YYYY-MM-DD)") from None
    day = (date - results.start).days
    if not 0 <= day < results.counts.shape[0]:
        last = results.start + dt.timedelta(days=results.counts.shape[0] - 1)
        raise ObservableOutOfRun(f"{date} is outside the run ({results.start} to {last})")
    return day


def _membership(column: str) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        return float(results.membership()[column].iloc[_date(results, argument)])

    return compute


def _campaign_share(column: str) -> Callable[[Results, str], float]:
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


def _year(results: Results, argument: str) -> int:
    try:
        year = int(argument)
    except ValueError:
        raise UnknownObservable(f"'{argument}' is not a year (YYYY)") from None
    first = results.start
    last = results.start + dt.timedelta(days=results.counts.shape[0] - 2)
    if dt.date(year, 1, 1) < first or dt.date(year, 12, 31) > last:
        raise ObservableOutOfRun(f"{year} is not wholly inside the run ({first} to {last})")
    return year


def _yearly(*kinds: str) -> Callable[[Results, str], float]:
    def compute(results: Results, argument: str) -> float:
        year = _year(results, argument)
        return float(results.yearly_events(kinds).get(year, 0.0))

    return compute


OBSERVABLES: dict[str, Callable[[Results, str], float]] = {
    "party_total": _membership("total"),
    "party_members": _membership("members"),
    "party_candidates": _membership("candidates"),
    "expelled_share": _campaign_share("expelled_share"),
    "reinstated_share": _campaign_share("reinstated_share"),
    "arrests": _yearly("arrested"),
    "political_convictions": _yearly("sentenced_death", "sentenced_camp"),
    "death_sentences": _yearly("sentenced_death"),
    "camp_sentences": _yearly("sentenced_camp"),
}
"""The catalogue: observable kind -> function of (results, argument)."""


def compute(results: Results, name: str) -> float:
    """The value of observable `name` in `results`.

    Raises:
        UnknownObservable: the name is not of the form KIND:ARGUMENT with a known KIND.
        ObservableOutOfRun: the observable exists but lies outside this run.
    """
    kind, sep, argument = name.partition(":")
    if not sep or kind not in OBSERVABLES:
        raise UnknownObservable(
            f"unknown observable '{name}'; allowed: " + ", ".join(f"{k}:..." for k in OBSERVABLES)
        )
    return OBSERVABLES[kind](results, argument)
