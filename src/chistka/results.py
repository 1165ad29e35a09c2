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

from chistka.people import Status
from chistka.record import compared_observables, get
from chistka.scenario.schema import COHORTS, ORIGINS
from chistka.state import EventKind, SimState

REVIEW_OUTCOMES = (EventKind.KEPT, EventKind.DEMOTED, EventKind.EXPELLED)


@dataclass
class Results:
    """Everything a run produced, with its provenance."""

    start: dt.date
    scale: float
    counts: np.ndarray  # [day, status, origin] agents at the start of each day (n_days + 1 days)
    events: dict[str, np.ndarray]  # event log columns, with the person's attributes
    campaign_names: list[str]
    provenance: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def collect(cls, state: SimState, counts: np.ndarray, provenance: dict[str, Any]) -> Results:
        """Gather the results from a finished run's state."""
        events = state.log.columns()
        person = events["person"]
        events["origin"] = state.people.origin[person]
        events["cohort"] = state.people.cohort[person]
        events["rank"] = state.people.rank[person]
        events["opposition"] = state.people.opposition[person]
        events["hostile"] = state.people.hostile[person]
        return cls(
            start=state.start,
            scale=state.scale,
            counts=counts,
            events=events,
            campaign_names=[c.name for c in state.scenario.campaigns],
            provenance=provenance,
        )

    # --- tables ------------------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Date of each row of `counts` (counts are taken at the start of the day)."""
        return pd.date_range(self.start, periods=self.counts.shape[0], freq="D")

    def to_frame(self) -> pd.DataFrame:
        """Daily counts by party status and social origin, one row per (date, status, origin)."""
        days, statuses, origins = self.counts.shape
        index = pd.MultiIndex.from_product(
            [self.dates, [s.name.lower() for s in Status], list(ORIGINS)],
            names=["date", "status", "origin"],
        )
        frame = pd.DataFrame({"agents": self.counts.reshape(-1)}, index=index).reset_index()
        frame["persons"] = frame["agents"] / self.scale
        frame["status"] = frame["status"].astype("category")
        frame["origin"] = frame["origin"].astype("category")
        return frame

    def membership(self) -> pd.DataFrame:
        """Candidates, full members and their total per day, in represented persons."""
        by_status = self.counts.sum(axis=2) / self.scale
        return pd.DataFrame(
            {
                "candidates": by_status[:, Status.CANDIDATE],
                "members": by_status[:, Status.MEMBER],
                "total": by_status[:, Status.CANDIDATE] + by_status[:, Status.MEMBER],
                "expelled": by_status[:, Status.EXPELLED],
            },
            index=pd.Index(self.dates, name="date"),
        )

    def events_frame(self) -> pd.DataFrame:
        """The event log: who, what, when, in which campaign, with the commission's score."""
        ev = self.events
        names = np.array(["none", *self.campaign_names], dtype=object)
        return pd.DataFrame(
            {
                "date": np.datetime64(self.start, "D") + ev["day"].astype("timedelta64[D]"),
                "person": ev["person"],
                "event": pd.Categorical.from_codes(
                    ev["kind"].astype(np.int64), [k.name.lower() for k in EventKind]
                ),
                "campaign": names[ev["campaign"].astype(np.int64) + 1],
                "score": ev["score"],
                "origin": pd.Categorical.from_codes(ev["origin"].astype(np.int64), ORIGINS),
                "cohort": np.array(["none", *COHORTS], dtype=object)[
                    ev["cohort"].astype(np.int64) + 1
                ],
                "rank": ev["rank"],
                "opposition": ev["opposition"],
                "hostile": ev["hostile"],
            }
        )

    def campaigns(self) -> pd.DataFrame:
        """Per campaign: reviewed, kept, demoted, expelled, appealed, reinstated (persons)."""
        if "campaigns" in self._cache:
            return self._cache["campaigns"]
        ev = self.events
        rows = []
        for index, name in enumerate(self.campaign_names):
            kinds = ev["kind"][ev["campaign"] == index]
            count = {k: int(np.count_nonzero(kinds == k)) for k in EventKind}
            reviewed = sum(count[k] for k in REVIEW_OUTCOMES)
            expelled = count[EventKind.EXPELLED]
            rows.append(
                {
                    "campaign": name,
                    "reviewed": reviewed / self.scale,
                    "kept": count[EventKind.KEPT] / self.scale,
                    "demoted": count[EventKind.DEMOTED] / self.scale,
                    "expelled": expelled / self.scale,
                    "appealed": count[EventKind.APPEALED] / self.scale,
                    "reinstated": count[EventKind.REINSTATED] / self.scale,
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
        for spec in compared_observables():
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

    # --- writing -----------------------------------------------------------------------------
    def save(self, out_dir: str | Path, *, report: bool = True) -> Path:
        """Write the Parquet tables, summary.json, provenance.json (and report.html) atomically."""
        out_dir = Path(out_dir)
        with atomic_directory(out_dir) as tmp:
            self.to_frame().to_parquet(tmp / "daily.parquet", index=False)
            self.events_frame().to_parquet(tmp / "events.parquet", index=False)
            self.campaigns().to_parquet(tmp / "campaigns.parquet", index=False)
            self.comparison().to_csv(tmp / "comparison.csv", index=False)
            (tmp / "summary.json").write_text(json.dumps(_jsonable(self.summary()), indent=2))
            (tmp / "provenance.json").write_text(json.dumps(_jsonable(self.provenance), indent=2))
            if report:
                from chistka.report import write_report

                write_report(self, tmp / "report.html")
        return out_dir


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
