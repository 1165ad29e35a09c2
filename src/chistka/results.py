"""Results of a run: daily counts (tidy table), event log (Parquet), campaigns, summary, provenance.

A passive container with its input and output: the engine fills it (`Results.collect`), the
analyses read it (`chistka.analysis`), and the reports draw it (`chistka.report`); it imports
none of them. Counts are kept per agent and reported per represented person (divided by the
run's scale). Writing is atomic and never deletes what chistka did not write (see
`chistka.outputs`); `Results.load` reads a run back.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.errors import ChistkaError
from chistka.outputs import atomic_directory
from chistka.people import Fate, Status
from chistka.scenario.schema import COHORTS, ORIGINS
from chistka.scenario.terror import CATEGORIES, CHANNELS, DIASPORAS
from chistka.state import EventKind, SimState

REVIEW_OUTCOMES = (EventKind.KEPT, EventKind.DEMOTED, EventKind.EXPELLED)

REQUIRED_RUN_FILES = ("daily.parquet", "events.parquet", "summary.json", "provenance.json")
"""Files a saved run must have (`Results.load` reads them; population.json, operations.csv and
citizen_deaths.parquet are read where present)."""


def citizen_deaths_table(
    start: dt.date | None = None,
    agents: np.ndarray | None = None,
    persons: np.ndarray | None = None,
) -> pd.DataFrame:
    """The citizens' natural deaths counted by a run (`SimState.natural_deaths`), as a table.

    `agents` and `persons` are [day, region, origin] arrays counted from the run's first day
    `start`; the table has a row (date, region, origin, agents, persons) per non-empty cell, and
    none without them.
    """
    if start is None or agents is None or persons is None:
        start = dt.date(1970, 1, 1)  # no rows: the date is never read
        agents = np.zeros((0, 0, len(ORIGINS)), dtype=np.int64)
        persons = np.zeros(agents.shape, dtype=np.float64)
    day, region, origin = np.nonzero(agents)
    return pd.DataFrame(
        {
            "date": np.datetime64(start, "D") + day.astype("timedelta64[D]"),
            "region": region.astype(np.int16),
            "origin": pd.Categorical.from_codes(origin, list(ORIGINS)),
            "agents": agents[day, region, origin].astype(np.int64),
            "persons": persons[day, region, origin].astype(np.float64),
        }
    )


@dataclass
class Results:
    """Everything a run produced, with its provenance."""

    start: dt.date
    scale: float
    counts: np.ndarray  # [day, status, fate, origin] agents at the start of each day, and after
    persons: np.ndarray  # the same in represented persons
    events: dict[str, np.ndarray]  # event log columns, with the person's attributes
    campaign_names: list[str]
    operation_names: list[str]
    provenance: dict[str, Any]
    population_summary: dict[str, Any] = field(default_factory=dict)
    operations: pd.DataFrame = field(default_factory=pd.DataFrame)  # limits and their use
    limit_requests: pd.DataFrame = field(default_factory=pd.DataFrame)  # regions' requests
    citizen_deaths: pd.DataFrame = field(default_factory=citizen_deaths_table)
    """Natural deaths of citizens the log does not follow, counted instead of logged: one row per
    date, region and origin with any (`SimState.natural_deaths`)."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def collect(
        cls, state: SimState, counts: np.ndarray, persons: np.ndarray, provenance: dict[str, Any]
    ) -> Results:
        """Gather the results from a finished run's state.

        The log holds the attributes that change during a run (cohort, rank, opposition past)
        as they were at each event; the fixed ones are read from the people, in two threads
        (numpy's gathers leave Python's lock: 2.3 s for 15 million events at full scale alone,
        1 s in two). A spin-up's days (before `state.first_day`) are left out: the results
        start on the scenario's first day, with its events and counts only. The log is in day
        order, so its events from the first day on are the columns' ends, taken as views: a copy
        was 0.5 GiB of a full-scale run's peak memory (docs/scale.md).
        """
        events = state.log.columns()
        first = state.first_day
        if first:
            begin = int(np.searchsorted(events["day"], first))
            events = {name: column[begin:] for name, column in events.items()}
            events["day"] = (events["day"] - first).astype(events["day"].dtype)
            counts, persons = counts[first:], persons[first:]
        person = events["person"]
        with ThreadPoolExecutor(2) as threads:
            gathered = threads.map(lambda name: getattr(state.people, name)[person], FIXED)
            events.update(zip(FIXED, gathered, strict=True))
        start = state.start + dt.timedelta(days=first)
        return cls(
            start=start,
            scale=state.scale,
            counts=counts,
            persons=persons,
            events=events,
            campaign_names=[c.name for c in state.scenario.campaigns],
            operation_names=[o.name for o in state.scenario.operations],
            provenance=provenance,
            population_summary=state.population_summary,
            citizen_deaths=citizen_deaths_table(
                start, state.citizen_deaths[first:], state.citizen_death_persons[first:]
            ),
        )

    # --- tables ------------------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Date of each row of `counts` (counts are taken at the start of the day)."""
        return pd.date_range(self.start, periods=self.counts.shape[0], freq="D")

    @property
    def last_day(self) -> dt.date:
        """The last simulated day (the last row of `counts` is the morning after it)."""
        return self.start + dt.timedelta(days=int(self.counts.shape[0]) - 2)

    def to_frame(self) -> pd.DataFrame:
        """Daily counts by party status, fate and social origin (tidy: one row per group and day).

        Groups that are empty on every day of the run are left out.
        """
        days = self.counts.shape[0]
        groups = self.counts.reshape(days, -1)
        used = np.flatnonzero(groups.any(axis=0))
        status, fate, origin = np.unravel_index(used, self.counts.shape[1:])
        status_names = np.array([s.name.lower() for s in Status])
        fate_names = np.array([f.name.lower() for f in Fate])
        frame = pd.DataFrame(
            {
                "date": np.repeat(self.dates.values, len(used)),
                "status": pd.Categorical(
                    np.tile(status_names[status], days), categories=status_names
                ),
                "fate": pd.Categorical(np.tile(fate_names[fate], days), categories=fate_names),
                "origin": pd.Categorical(
                    np.tile(np.array(ORIGINS)[origin], days), categories=list(ORIGINS)
                ),
                "agents": groups[:, used].reshape(-1),
                "persons": self.persons.reshape(days, -1)[:, used].reshape(-1),
            }
        )
        return frame

    def membership(self) -> pd.DataFrame:
        """Candidates, full members and their total per day, in represented persons."""
        if "membership" in self._cache:
            return self._cache["membership"]
        by_status = self.persons.sum(axis=(2, 3))
        frame = pd.DataFrame(
            {
                "candidates": by_status[:, Status.CANDIDATE],
                "members": by_status[:, Status.MEMBER],
                "total": by_status[:, Status.CANDIDATE] + by_status[:, Status.MEMBER],
                "expelled": by_status[:, Status.EXPELLED],
            },
            index=pd.Index(self.dates, name="date"),
        )
        self._cache["membership"] = frame
        return frame

    def events_frame(self) -> pd.DataFrame:
        """The event log: who, what, when, why, with the person's attributes.

        `campaign` names the purge campaign of review events, `operation` the NKVD operation of
        an arrest, `channel` how an arrest came about, `cause` the person whose denunciation or
        testimony led to it (-1 if none); `persons` is the number of people the agent stands for.

        The columns taken from the log as they are (person, cause, score, persons, rank, region,
        opposition, hostile, role, elite) share its memory and are read-only: copy the frame to
        change them. Copying tens of millions of events cost seconds at full scale.
        """
        ev = {name: _read_only(column) for name, column in self.events.items()}
        kinds = ev["kind"].astype(np.int64)
        review = kinds <= int(EventKind.APPEAL_REJECTED)
        # the campaign field holds a campaign for reviews and an operation for arrests; as
        # categories (code 0 for none) both write as small dictionary-encoded Parquet columns
        index = ev["campaign"].astype(np.int64) + 1
        campaign = np.where(review, np.minimum(index, len(self.campaign_names)), 0)
        operation = np.where(review, 0, np.minimum(index, len(self.operation_names)))
        return pd.DataFrame(
            {
                "date": np.datetime64(self.start, "D") + ev["day"].astype("timedelta64[D]"),
                "person": ev["person"],
                "event": pd.Categorical.from_codes(kinds, [k.name.lower() for k in EventKind]),
                "campaign": pd.Categorical.from_codes(campaign, ["", *self.campaign_names]),
                "operation": pd.Categorical.from_codes(operation, ["", *self.operation_names]),
                "channel": pd.Categorical.from_codes(
                    ev["channel"].astype(np.int64).clip(-1), CHANNELS
                ),
                "cause": ev["cause"],
                "score": ev["score"],
                "persons": ev["weight"],
                "origin": pd.Categorical.from_codes(ev["origin"].astype(np.int64), ORIGINS),
                "cohort": pd.Categorical.from_codes(
                    ev["cohort"].astype(np.int64) + 1, ["none", *COHORTS]
                ),
                "rank": ev["rank"],
                "region": ev["region"],
                "opposition": ev["opposition"],
                "hostile": ev["hostile"],
                "category": pd.Categorical.from_codes(ev["category"].astype(np.int64), CATEGORIES),
                "diaspora": pd.Categorical.from_codes(ev["diaspora"].astype(np.int64), DIASPORAS),
                "role": ev["role"],
                "elite": ev["elite"],
            },
            copy=False,
        )

    def first_per_person(self, chosen: np.ndarray) -> np.ndarray:
        """Of the chosen events (a mask of the log), each person's first: people counted once."""
        index = np.flatnonzero(chosen)
        _, first = np.unique(self.events["person"][index], return_index=True)
        once = np.zeros(len(chosen), dtype=bool)
        once[index[first]] = True
        return once

    def yearly_events(self, kinds: tuple[str, ...]) -> pd.Series:
        """Persons with events of the given kinds (names of EventKind) per calendar year."""
        key = ("yearly", kinds)
        if key not in self._cache:
            codes = [int(EventKind[k.upper()]) for k in kinds]
            mask = np.isin(self.events["kind"], codes)
            dates = np.datetime64(self.start, "D") + self.events["day"][mask].astype(
                "timedelta64[D]"
            )
            years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
            weights = self.events["weight"][mask].astype(np.float64)
            self._cache[key] = pd.Series(weights).groupby(years).sum()
        return self._cache[key]

    def sentences_by_operation(self) -> pd.DataFrame:
        """Persons each operation's bodies sentenced to death and to the camps, from the events.

        Indexed by operation; columns sentenced_shoot, sentenced_camp. The operations' ledgers
        count the room their limits leave, not the sentences: an album's cases are booked
        against no limit, and an operation with one limit for both categories books both under
        the camps (operations.csv gave the national operations no sentences).
        """
        ev = self.events
        count = len(self.operation_names)
        columns = {}
        for column, kind in (
            ("sentenced_shoot", EventKind.SENTENCED_DEATH),
            ("sentenced_camp", EventKind.SENTENCED_CAMP),
        ):
            mine = (ev["kind"] == int(kind)) & (ev["campaign"] >= 0)
            columns[column] = np.bincount(
                ev["campaign"][mine].astype(np.int64),
                weights=ev["weight"][mine].astype(np.float64),
                minlength=count,
            )[:count]
        return pd.DataFrame(columns, index=pd.Index(self.operation_names, name="operation"))

    def monthly_events(self, kinds: tuple[str, ...]) -> pd.Series:
        """Persons with events of the given kinds per calendar month (indexed by month start).

        The months run from the first day's to the last day's (`dates` ends the day after the
        last, the counts after the run).
        """
        codes = [int(EventKind[k.upper()]) for k in kinds]
        mask = np.isin(self.events["kind"], codes)
        dates = np.datetime64(self.start, "D") + self.events["day"][mask].astype("timedelta64[D]")
        months = dates.astype("datetime64[M]")
        weights = self.events["weight"][mask].astype(np.float64)
        series = pd.Series(weights, index=pd.DatetimeIndex(months)).groupby(level=0).sum()
        full = pd.date_range(self.start.replace(day=1), self.dates[-2], freq="MS")
        return series.reindex(full, fill_value=0.0)

    def campaigns(self) -> pd.DataFrame:
        """Reviewed, kept, demoted, expelled, left unreviewed, appealed, reinstated per campaign."""
        if "campaigns" in self._cache:
            return self._cache["campaigns"]
        ev = self.events
        rows = []
        for index, name in enumerate(self.campaign_names):
            mask = (ev["campaign"] == index) & (ev["kind"] <= int(EventKind.APPEAL_REJECTED))
            kinds, weights = ev["kind"][mask], ev["weight"][mask].astype(np.float64)
            count = {k: float(weights[kinds == k].sum()) for k in EventKind}
            reviewed = sum(count[k] for k in REVIEW_OUTCOMES)
            expelled = count[EventKind.EXPELLED]
            rows.append(
                {
                    "campaign": name,
                    "reviewed": reviewed,
                    "kept": count[EventKind.KEPT],
                    "demoted": count[EventKind.DEMOTED],
                    "expelled": expelled,
                    "left": count[EventKind.LEFT],
                    "appealed": count[EventKind.APPEALED],
                    "reinstated": count[EventKind.REINSTATED],
                    "expelled_share": expelled / reviewed if reviewed else math.nan,
                    "reinstated_share": count[EventKind.REINSTATED] / expelled
                    if expelled
                    else math.nan,
                }
            )
        frame = pd.DataFrame(
            rows,
            columns=[
                "campaign",
                "reviewed",
                "kept",
                "demoted",
                "expelled",
                "left",
                "appealed",
                "reinstated",
                "expelled_share",
                "reinstated_share",
            ],
        )
        self._cache["campaigns"] = frame
        return frame

    def summary(self) -> dict[str, Any]:
        """Key figures of the run, the campaigns and the provenance (without the parameters).

        `chistka.analysis.comparison.run_summary` adds the comparison with the record.
        """
        membership = self.membership()
        return {
            "scenario": self.provenance.get("scenario"),
            "seed": self.provenance.get("seed"),
            "scale": self.scale,
            "start": str(self.start),
            "end": str(self.last_day),
            "party_total_first_day": float(membership["total"].iloc[0]),
            "party_total_last_day": float(membership["total"].iloc[-1]),
            "party_total_peak": float(membership["total"].max()),
            "party_total_peak_date": str(membership["total"].idxmax().date()),
            "campaigns": self.campaigns().to_dict(orient="records"),
            "provenance": {
                k: v for k, v in self.provenance.items() if k not in ("parameters", "environment")
            },
        }

    # --- reading and writing -------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | Path) -> Results:
        """A run read back from the directory `save` wrote.

        Everything the observables read is restored: `start`, `scale`, `counts` and `persons`,
        `events` (as integer columns, as `collect` makes them), `campaign_names`,
        `operation_names`, `provenance`, `operations`, and the `population_summary` if the run
        saved one (empty otherwise, so that shares of the elite cannot be computed).

        Raises:
            ChistkaError: a file is missing or cannot be read.
        """
        run_dir = Path(run_dir)
        missing = [name for name in REQUIRED_RUN_FILES if not (run_dir / name).is_file()]
        if missing:
            raise ChistkaError(f"'{run_dir}' is not a saved run: missing {', '.join(missing)}")
        summary = _read_json(run_dir / "summary.json")
        provenance = _read_json(run_dir / "provenance.json")
        daily = _read_parquet(run_dir / "daily.parquet")
        frame = _read_parquet(run_dir / "events.parquet")
        try:
            start = dt.date.fromisoformat(str(summary.get("start") or daily["date"].min().date()))
        except (ValueError, KeyError, AttributeError) as exc:
            raise ChistkaError(f"{run_dir / 'summary.json'}: no valid start date ({exc})") from None
        if summary.get("end"):
            rows = (dt.date.fromisoformat(str(summary["end"])) - start).days + 2
        else:
            rows = int(daily["date"].nunique())
        scale = summary.get("scale", provenance.get("scale"))
        if scale is None:
            raise ChistkaError(f"{run_dir / 'summary.json'}: no scale")
        campaign_names = _names(
            provenance,
            "campaigns",
            [str(c["campaign"]) for c in summary.get("campaigns") or [] if "campaign" in c],
            frame.get("campaign"),
        )
        operations = pd.DataFrame()
        if (run_dir / "operations.csv").is_file():
            operations = pd.read_csv(run_dir / "operations.csv")
        limit_requests = pd.DataFrame()
        if (run_dir / "limit_requests.csv").is_file():
            limit_requests = pd.read_csv(run_dir / "limit_requests.csv", parse_dates=["date"])
        operation_names = _names(
            provenance,
            "operations",
            [str(x) for x in operations["operation"]] if "operation" in operations else [],
            frame.get("operation"),
        )
        counts, persons = _counts(daily, start, rows)
        citizen_deaths = citizen_deaths_table()
        if (run_dir / "citizen_deaths.parquet").is_file():
            citizen_deaths = _read_parquet(run_dir / "citizen_deaths.parquet")
        return cls(
            start=start,
            scale=float(scale),
            counts=counts,
            persons=persons,
            events=_events(frame, start, campaign_names, operation_names),
            campaign_names=campaign_names,
            operation_names=operation_names,
            provenance=provenance,
            population_summary=_population_summary(summary, run_dir),
            operations=operations,
            limit_requests=limit_requests,
            citizen_deaths=citizen_deaths,
        )

    def save(
        self,
        out_dir: str | Path,
        *,
        summary: dict[str, Any] | None = None,
        extra: Callable[[Path], None] | None = None,
        force: bool = False,
    ) -> Path:
        """Write the Parquet tables, summary.json, provenance.json, population.json atomically.

        `summary` replaces `self.summary()` in summary.json (the analyses add the comparison with
        the record); `extra(directory)` writes more files into the directory before it is moved
        into place (see `chistka.analysis.comparison.save_run`). An earlier run in `out_dir` is
        replaced; anything else there is refused (a ChistkaError) unless `force`, which writes the
        run beside it. Nothing chistka did not write is deleted (see `chistka.outputs`).

        The event log is written in a second thread while the rest (and `extra`, the report) is
        written in this one: Parquet's encoding leaves Python's lock, so on a second core it
        costs no time (2.4 s of 11 s of writing at full scale).
        """
        out_dir = Path(out_dir)
        with atomic_directory(out_dir, force=force) as tmp, ThreadPoolExecutor(1) as thread:
            self.to_frame().to_parquet(tmp / "daily.parquet", index=False)
            events = thread.submit(_write_events, self.events_frame, tmp / "events.parquet")
            self.campaigns().to_parquet(tmp / "campaigns.parquet", index=False)
            if len(self.operations):
                self.operations.to_csv(tmp / "operations.csv", index=False)
            if len(self.limit_requests):
                self.limit_requests.to_csv(tmp / "limit_requests.csv", index=False)
            self.citizen_deaths.to_parquet(tmp / "citizen_deaths.parquet", index=False)
            summary = self.summary() if summary is None else summary
            (tmp / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
            (tmp / "provenance.json").write_text(json.dumps(jsonable(self.provenance), indent=2))
            (tmp / "population.json").write_text(
                json.dumps(jsonable(self.population_summary), indent=2)
            )
            if extra is not None:
                extra(tmp)
            events.result()
        return out_dir


def _read_only(column: np.ndarray) -> np.ndarray:
    """A read-only view of a column (the column itself stays as it was)."""
    view = column.view()
    view.flags.writeable = False
    return view


FIXED = ("origin", "hostile", "weight", "region", "category", "diaspora", "role", "elite")
"""The person's attributes that do not change during a run, added to the events by `collect`."""

UNIQUE_PER_EVENT = ("person", "cause", "score")
"""Event-log columns with about as many values as rows: not dictionary-encoded."""


def _write_events(events_frame: Callable[[], pd.DataFrame], path: Path) -> None:
    """Build the event log's frame and write it to Parquet, twice as fast as pyarrow's defaults.

    The frame is built in the writer's thread too (2.7 s at full scale, mostly numpy and pandas
    code that leaves Python's lock).

    Dictionary-encoding the columns with many distinct values and keeping min/max statistics of
    every column cost half the time of writing 15 million events (`bench/full_scale.py`); the
    other columns are dictionary-encoded and statistics are kept for the date and the person,
    the columns a reader filters on.
    """
    frame = events_frame()
    frame.to_parquet(
        path,
        index=False,
        use_dictionary=[c for c in frame.columns if c not in UNIQUE_PER_EVENT],
        write_statistics=["date", "person"],
    )


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN becomes null; numpy values, dates and paths plain numbers or text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.date | pd.Timestamp | Path):
        return str(value)
    return value


# --- reading a saved run ---------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None
    if not isinstance(value, dict):
        raise ChistkaError(f"{path} does not hold a JSON object")
    return value


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds of errors on a broken file
        raise ChistkaError(f"cannot read {path}: {exc}") from None


def _codes(column: pd.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Index of each value in `names` (-1 for missing or unknown values)."""
    lookup = {name: i for i, name in enumerate(names)}
    values = column.astype(object).to_numpy()
    return np.array([lookup.get(v, -1) if isinstance(v, str) else -1 for v in values])


def _category_codes(column: pd.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Like `_codes`, fast for categorical columns (mapping the categories, then the codes)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        mapped = _codes(pd.Series(column.cat.categories), names)
        codes = column.cat.codes.to_numpy().astype(np.int64)
        return np.where(codes >= 0, mapped[np.maximum(codes, 0)], -1)
    return _codes(column, names)


def _names(
    provenance: dict[str, Any], key: str, fallback: list[str], found: pd.Series | None
) -> list[str]:
    """Campaign or operation names: the scenario's (provenance), else `fallback`, else found."""
    listed = (provenance.get("parameters") or {}).get(key)
    if isinstance(listed, list) and all(isinstance(x, dict) and "name" in x for x in listed):
        return [str(x["name"]) for x in listed]
    if fallback:
        return fallback
    if found is None:
        return []
    return sorted({str(v) for v in found.dropna().unique() if str(v)})


def _counts(daily: pd.DataFrame, start: dt.date, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily counts [day, status, fate, origin] in agents and persons, from the tidy table."""
    shape = (rows, len(Status), len(Fate), len(ORIGINS))
    counts = np.zeros(shape, dtype=np.int64)
    persons = np.zeros(shape, dtype=np.float64)
    if len(daily):
        day = (daily["date"].to_numpy().astype("datetime64[D]") - np.datetime64(start, "D")).astype(
            np.int64
        )
        status = _category_codes(daily["status"], [s.name.lower() for s in Status])
        fate = _category_codes(daily["fate"], [f.name.lower() for f in Fate])
        origin = _category_codes(daily["origin"], list(ORIGINS))
        ok = (day >= 0) & (day < rows) & (status >= 0) & (fate >= 0) & (origin >= 0)
        index = (day[ok], status[ok], fate[ok], origin[ok])
        np.add.at(counts, index, daily["agents"].to_numpy()[ok].astype(np.int64))
        np.add.at(persons, index, daily["persons"].to_numpy()[ok].astype(np.float64))
    return counts, persons


def _events(
    frame: pd.DataFrame, start: dt.date, campaign_names: list[str], operation_names: list[str]
) -> dict[str, np.ndarray]:
    """The event log as `Results.collect` makes it, from the saved events table."""
    n = len(frame)

    def column(name: str, dtype: Any, default: Any = 0) -> np.ndarray:
        if name in frame:
            return frame[name].to_numpy().astype(dtype)
        return np.full(n, default, dtype=dtype)

    day = (frame["date"].to_numpy().astype("datetime64[D]") - np.datetime64(start, "D")).astype(
        np.int32
    )
    kind = _category_codes(frame["event"], [k.name.lower() for k in EventKind])
    if (kind < 0).any():
        unknown = sorted(set(frame["event"].astype(str)[kind < 0]))
        raise ChistkaError(f"events.parquet has unknown event kinds: {', '.join(unknown)}")
    review = kind <= int(EventKind.APPEAL_REJECTED)
    campaign = np.where(
        review,
        _codes(frame["campaign"], campaign_names) if "campaign" in frame else -1,
        _codes(frame["operation"], operation_names) if "operation" in frame else -1,
    )

    def coded(name: str, names: tuple[str, ...], default: int) -> np.ndarray:
        if name not in frame:
            return np.full(n, default, dtype=np.int8)
        return _category_codes(frame[name], names).astype(np.int8)

    events: dict[str, np.ndarray] = {
        "day": day,
        "person": column("person", np.int64),
        "kind": kind.astype(np.int8),
        "campaign": campaign.astype(np.int8),
        "score": column("score", np.float32, np.nan),
        "cause": column("cause", np.int64, -1),
        "channel": coded("channel", CHANNELS, -1),
        "origin": coded("origin", ORIGINS, 0),
        "cohort": (
            _codes(frame["cohort"], COHORTS) if "cohort" in frame else np.full(n, -1)
        ).astype(np.int8),
        "rank": column("rank", np.int8),
        "opposition": column("opposition", bool, False),
        "hostile": column("hostile", bool, False),
        "weight": column("persons", np.float32, 1.0),
        "region": column("region", np.int16),
        "category": coded("category", CATEGORIES, -1),
        "diaspora": coded("diaspora", DIASPORAS, -1),
        "role": column("role", np.int8),
        "elite": column("elite", np.uint8),
    }
    return events


def _population_summary(summary: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The population summary a run saved (population.json, or in summary.json), else {}."""
    path = run_dir / "population.json"
    if path.is_file():
        return _read_json(path)
    for key in ("population_summary", "population"):
        value = summary.get(key)
        if isinstance(value, dict):
            return value
    return {}
