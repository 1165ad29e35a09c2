"""Results of a run: daily counts (tidy table), event log (Parquet), campaigns, summary, provenance.

Counts are kept per agent and reported per represented person (divided by the run's scale).
Writing is atomic: files go to a temporary directory next to the target, which is moved into
place only when everything has been written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.people import Fate, Status
from chistka.record import compared_observables, get
from chistka.scenario.schema import COHORTS, ORIGINS
from chistka.scenario.terror import CATEGORIES, CHANNELS, DIASPORAS
from chistka.state import EventKind, SimState

REVIEW_OUTCOMES = (EventKind.KEPT, EventKind.DEMOTED, EventKind.EXPELLED)


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
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def collect(
        cls, state: SimState, counts: np.ndarray, persons: np.ndarray, provenance: dict[str, Any]
    ) -> Results:
        """Gather the results from a finished run's state."""
        events = state.log.columns()
        person = events["person"]
        events["origin"] = state.people.origin[person]
        events["cohort"] = state.people.cohort[person]
        events["rank"] = state.people.rank[person]
        events["opposition"] = state.people.opposition[person]
        events["hostile"] = state.people.hostile[person]
        for name in ("weight", "region", "category", "diaspora", "role", "elite"):
            events[name] = getattr(state.people, name)[person]
        return cls(
            start=state.start,
            scale=state.scale,
            counts=counts,
            persons=persons,
            events=events,
            campaign_names=[c.name for c in state.scenario.campaigns],
            operation_names=[o.name for o in state.scenario.operations],
            provenance=provenance,
            population_summary=state.population_summary,
        )

    # --- tables ------------------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Date of each row of `counts` (counts are taken at the start of the day)."""
        return pd.date_range(self.start, periods=self.counts.shape[0], freq="D")

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
        """
        ev = self.events
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
            }
        )

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

    def monthly_events(self, kinds: tuple[str, ...]) -> pd.Series:
        """Persons with events of the given kinds per calendar month (indexed by month start)."""
        codes = [int(EventKind[k.upper()]) for k in kinds]
        mask = np.isin(self.events["kind"], codes)
        dates = np.datetime64(self.start, "D") + self.events["day"][mask].astype("timedelta64[D]")
        months = dates.astype("datetime64[M]")
        weights = self.events["weight"][mask].astype(np.float64)
        series = pd.Series(weights, index=pd.DatetimeIndex(months)).groupby(level=0).sum()
        full = pd.date_range(self.start.replace(day=1), self.dates[-1], freq="MS")
        return series.reindex(full, fill_value=0.0)

    def campaigns(self) -> pd.DataFrame:
        """Per campaign: reviewed, kept, demoted, expelled, appealed, reinstated (persons)."""
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
                "appealed",
                "reinstated",
                "expelled_share",
                "reinstated_share",
            ],
        )
        self._cache["campaigns"] = frame
        return frame

    # --- observables and the record ------------------------------------------------------------
    def observable(self, name: str) -> float:
        """The value of a named observable (see `chistka.analysis.observables`)."""
        from chistka.analysis.observables import compute

        return compute(self, name)

    def comparison(self) -> pd.DataFrame:
        """The run against the record rows it can be compared with (model, record, tolerance)."""
        from chistka.analysis.observables import ObservableOutOfRun, compute

        rows = []
        compare = self.provenance.get("parameters", {}).get("scenario", {}).get("compare")
        for spec in compared_observables():
            if compare is not None and spec.observable.split(":")[0] not in compare:
                continue
            try:
                model = compute(self, spec.observable)
            except ObservableOutOfRun:
                continue
            row = get(spec.record_id)
            record = float(row.value) if row.value is not None else math.nan
            rows.append(
                {
                    "record_id": spec.record_id,
                    "observable": spec.observable,
                    "label": spec.label,
                    "model": model,
                    "record": record,
                    "low": row.low,
                    "high": row.high,
                    "tolerance": f"±{spec.tolerance:g}"
                    if spec.tolerance_kind == "absolute"
                    else f"±{spec.tolerance:.0%}",
                    "inside": spec.inside(model, record),
                    "verified": row.verified,
                    "source": row.source,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """Key figures of the run, the campaigns, the comparison with the record, provenance."""
        membership = self.membership()
        comparison = self.comparison()
        return {
            "scenario": self.provenance.get("scenario"),
            "seed": self.provenance.get("seed"),
            "scale": self.scale,
            "start": str(self.start),
            "end": str((self.dates[-1] - pd.Timedelta(days=1)).date()),
            "party_total_first_day": float(membership["total"].iloc[0]),
            "party_total_last_day": float(membership["total"].iloc[-1]),
            "party_total_peak": float(membership["total"].max()),
            "party_total_peak_date": str(membership["total"].idxmax().date()),
            "campaigns": self.campaigns().to_dict(orient="records"),
            "comparison": comparison.to_dict(orient="records"),
            "comparison_inside": int(comparison["inside"].sum()) if len(comparison) else 0,
            "comparison_rows": len(comparison),
            "provenance": {k: v for k, v in self.provenance.items() if k != "parameters"},
        }

    @classmethod
    def load(cls, run_dir: str | Path) -> Results:
        """A run read back from the directory `save` wrote."""
        from chistka.analysis.saved import load_results

        return load_results(run_dir)

    # --- writing -----------------------------------------------------------------------------
    def save(self, out_dir: str | Path, *, report: bool = True) -> Path:
        """Write the Parquet tables, summary.json, provenance.json (and report.html) atomically."""
        out_dir = Path(out_dir)
        with atomic_directory(out_dir) as tmp:
            self.to_frame().to_parquet(tmp / "daily.parquet", index=False)
            _write_events(self.events_frame(), tmp / "events.parquet")
            self.campaigns().to_parquet(tmp / "campaigns.parquet", index=False)
            self.comparison().to_csv(tmp / "comparison.csv", index=False)
            if len(self.operations):
                self.operations.to_csv(tmp / "operations.csv", index=False)
            (tmp / "summary.json").write_text(json.dumps(_jsonable(self.summary()), indent=2))
            (tmp / "provenance.json").write_text(json.dumps(_jsonable(self.provenance), indent=2))
            (tmp / "population.json").write_text(
                json.dumps(_jsonable(self.population_summary), indent=2)
            )
            if report:
                from chistka.report import write_report

                write_report(self, tmp / "report.html")
        return out_dir


UNIQUE_PER_EVENT = ("person", "cause", "score")
"""Event-log columns with about as many values as rows: not dictionary-encoded."""


def _write_events(frame: pd.DataFrame, path: Path) -> None:
    """Write the event log to Parquet, about twice as fast as pyarrow's defaults.

    Dictionary-encoding the columns with many distinct values and keeping min/max statistics of
    every column cost half the time of writing 15 million events (`bench/full_scale.py`); the
    other columns are dictionary-encoded and statistics are kept for the date and the person,
    the columns a reader filters on.
    """
    frame.to_parquet(
        path,
        index=False,
        use_dictionary=[c for c in frame.columns if c not in UNIQUE_PER_EVENT],
        write_statistics=["date", "person"],
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NaN becomes null)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        return str(value)
    return value


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """A temporary directory that replaces `target` only if the block finishes without error.

    On error the temporary directory is removed and `target` is left as it was (or absent).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
