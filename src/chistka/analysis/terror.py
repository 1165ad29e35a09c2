"""Analysis of the terror in a run: whom it hit, how it spread, and how it compares with the record.

Pure functions of a `Results` object, returning pandas objects. Every count is in represented
persons (each event counts for the `persons` it stands for). The cascade is read from the event
log's `cause` links: an arrest by testimony points to the arrested person who named the victim, a
self-protective denunciation to the arrested contact whose arrest frightened the denouncer, a
family arrest to the condemned head of the household. Each such arrest is attached to the arrest
of its cause that came last before it (a person can be arrested more than once), which makes the
arrests a forest ordered in time.

Shares that need the population (recall of enemy detection, risk by rank) read
`results.population_summary` (the population on the first day, in persons) and are NaN where
it is absent.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chistka.people import Elite, RankTier, Status
from chistka.record import get
from chistka.scenario.terror import CHANNELS
from chistka.state import EventKind

if TYPE_CHECKING:
    from chistka.results import Results

CATEGORY_CHANNELS = ("category", "national", "routine")
"""Channels that arrest people for what they are (a register, a diaspora, the routine caseload)."""

NETWORK_CHANNELS = (
    "testimony",
    "denunciation",
    "self_protection",
    "family",
    "expelled",
    "army",
    "show_trial",
)
"""Channels that arrest people for whom they know, what they were or what they did in the party."""

CASCADE_CHANNELS = ("testimony", "self_protection", "family")
"""Channels whose `cause` is an arrested (or condemned) person: the links of the cascade."""

RANK_GROUPS = {
    "rank and file": RankTier.RANK_AND_FILE,
    "cell secretary": RankTier.CELL_SECRETARY,
    "district": RankTier.DISTRICT,
    "regional": RankTier.REGIONAL,
    "central": RankTier.CENTRAL,
}
"""Row label -> rank tier in `risk_by_rank`."""

ELITE_GROUPS = {"cc1934": Elite.CENTRAL_COMMITTEE, "congress17": Elite.CONGRESS_DELEGATE}
"""Row label -> elite bit in `risk_by_rank` (keys of population_summary['elite_persons'])."""

_CODE = {name: i for i, name in enumerate(CHANNELS)}
_EDGE_COLUMNS = [
    "parent",
    "cause",
    "person",
    "channel",
    "date",
    "depth",
    "rank",
    "elite",
    "hostile",
    "persons",
    "descendants",
]


# --- building blocks ---------------------------------------------------------------------------


def population(results: Results) -> dict[str, Any]:
    """The run's population summary (first day, in persons), or an empty dict if it has none."""
    return getattr(results, "population_summary", None) or {}


def _select(results: Results, *kinds: EventKind, once: bool = False) -> pd.DataFrame:
    """Events of the given kinds, in log order (by day), with the columns the analyses use.

    With `once`, each person's first such event only (people counted once however often).
    Kept in the results' cache (the report's sections ask for the same selections again; each
    cost 0.3 s at full scale); callers get a shallow copy, so columns they add stay theirs.
    """
    key = ("select", kinds, once)
    if key not in results._cache:
        results._cache[key] = _selected(results, kinds, once)
    return results._cache[key].copy(deep=False)


def _selected(results: Results, kinds: tuple[EventKind, ...], once: bool) -> pd.DataFrame:
    ev = results.events
    mask = np.isin(ev["kind"], [int(k) for k in kinds])
    if once:
        mask = results.first_per_person(mask)
    day = ev["day"][mask].astype(np.int64)
    return pd.DataFrame(
        {
            "day": day,
            "date": np.datetime64(results.start, "D") + day.astype("timedelta64[D]"),
            "kind": ev["kind"][mask].astype(np.int64),
            "person": ev["person"][mask].astype(np.int64),
            "channel": ev["channel"][mask].astype(np.int64),
            "cause": ev["cause"][mask].astype(np.int64),
            "persons": ev["weight"][mask].astype(np.float64),
            "rank": ev["rank"][mask].astype(np.int64),
            "elite": ev["elite"][mask].astype(np.int64),
            "hostile": ev["hostile"][mask].astype(bool),
            "cohort": ev["cohort"][mask].astype(np.int64),
        }
    )


def _arrests(results: Results) -> pd.DataFrame:
    """Arrest events in log order, indexed 0..n-1, with `parent`: the arrest event of the cause.

    `parent` is the position of the cause's last arrest strictly before this one, for arrests of
    the cascade channels (-1 for other arrests, or when the cause was never arrested before).
    """
    arrests = _select(results, EventKind.ARRESTED).reset_index(drop=True)
    arrests["parent"] = -1
    linked = arrests["channel"].isin([_CODE[c] for c in CASCADE_CHANNELS]) & (arrests["cause"] >= 0)
    if linked.any():
        left = pd.DataFrame(
            {"day": arrests.loc[linked, "day"], "key": arrests.loc[linked, "cause"]}
        ).reset_index()
        right = pd.DataFrame(
            {"day": arrests["day"], "key": arrests["person"], "parent": arrests.index}
        )
        found = pd.merge_asof(
            left, right, on="day", by="key", direction="backward", allow_exact_matches=False
        )
        parent = found["parent"].fillna(-1).astype(np.int64).to_numpy()
        arrests.loc[found["index"].to_numpy(), "parent"] = parent
    return arrests


def _channel_names(codes: pd.Series) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.clip(-1).to_numpy(), CHANNELS)


def _periods(results: Results, freq: str) -> pd.DatetimeIndex:
    """Period starts from the run's first day to its last."""
    index = pd.Series(0.0, index=results.dates[[0, -2]])  # the first and last simulated day
    return index.resample(freq).sum().index


def _by_period(dates: pd.Series, values: pd.Series, periods: pd.DatetimeIndex, freq: str):
    """Sum `values` by the period of `dates`, over `periods` (0 where nothing happened)."""
    series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates.to_numpy()))
    return series.resample(freq).sum().reindex(periods, fill_value=0.0)


# --- analyses ----------------------------------------------------------------------------------


def enemy_detection(results: Results) -> pd.DataFrame:
    """Precision and recall of the NKVD's "enemy" detection, overall and by arrest channel.

    Precision is the share of the arrested (each person counted once, at the first arrest, in
    persons) whose hidden type is hostile; recall is the share of all hostile persons in the
    population who were arrested (NaN without `population_summary['hostile_persons']`). The gap
    between the two is what the terror cost in innocent victims per "enemy" caught.

    Returns:
        One row per channel plus 'all', 'category victims' and 'network victims'; columns
        arrested, hostile_arrested, precision, recall.
    """
    first = _select(results, EventKind.ARRESTED, once=True)
    hostile_total = population(results).get("hostile_persons")
    hostile_total = float(hostile_total) if hostile_total else math.nan
    groups: dict[str, pd.DataFrame] = {"all": first}
    for label, channels in (
        ("category victims", CATEGORY_CHANNELS),
        ("network victims", NETWORK_CHANNELS),
    ):
        groups[label] = first[first["channel"].isin([_CODE[c] for c in channels])]
    for name in CHANNELS:
        groups[name] = first[first["channel"] == _CODE[name]]
    rows = []
    for label, part in groups.items():
        arrested = float(part["persons"].sum())
        hostile = float(part.loc[part["hostile"], "persons"].sum())
        rows.append(
            {
                "group": label,
                "arrested": arrested,
                "hostile_arrested": hostile,
                "precision": hostile / arrested if arrested else math.nan,
                "recall": hostile / hostile_total,
            }
        )
    return pd.DataFrame(rows).set_index("group")


def reproduction_number(results: Results, freq: str = "MS") -> pd.DataFrame:
    """The cascade's reproduction number R by period of arrest.

    For the people arrested in a period: the later arrests they caused (by their testimony, by
    the self-protective denunciations their arrest provoked, and of their family after their
    sentence), in persons, divided by the persons arrested in the period. R above 1 means the
    cascade feeds itself. Arrests near the end of the run have had less time to cause others
    (right censoring), so the last months understate R.

    Args:
        results: a run's results.
        freq: pandas offset alias of the periods ("MS": months, "QS": quarters, "YS": years).

    Returns:
        Indexed by period start: arrested, caused_testimony, caused_denunciation (self-protective
        denunciations), caused_family, caused (their sum) and R (NaN where nobody was arrested).
    """
    arrests = _arrests(results)
    periods = _periods(results, freq)
    frame = pd.DataFrame(
        {"arrested": _by_period(arrests["date"], arrests["persons"], periods, freq)}
    )
    linked = arrests[arrests["parent"] >= 0]
    parent_date = arrests["date"].to_numpy()[linked["parent"].to_numpy()]
    for column, channel in (
        ("caused_testimony", "testimony"),
        ("caused_denunciation", "self_protection"),
        ("caused_family", "family"),
    ):
        chosen = (linked["channel"] == _CODE[channel]).to_numpy()
        frame[column] = _by_period(
            pd.Series(parent_date[chosen]), linked.loc[chosen, "persons"], periods, freq
        )
    frame["caused"] = frame[["caused_testimony", "caused_denunciation", "caused_family"]].sum(
        axis=1
    )
    arrested = frame["arrested"].where(frame["arrested"] > 0)
    frame["R"] = frame["caused"] / arrested
    frame.index.name = "period"
    return frame


def risk_by_rank(results: Results) -> pd.DataFrame:
    """The risk of arrest and of execution by rank in the party and for the elite of 1934.

    Counts are persons arrested (event 'arrested') and sentenced to death (event
    'sentenced_death'), each person once. Rank-tier rows count people who were ever in the party
    (rank and file excludes the non-party population but includes former members: the log
    cannot tell an arrested member from one expelled earlier); elite rows count members of the
    1934 Central Committee (cc1934) and delegates to the 17th Congress (congress17). Shares
    divide by the persons in each group at some time in the run: those in it on the first day
    (`population_summary['rank_persons']`, plus the former members for rank and file, and
    `['elite_persons']`; NaN where absent) and, for a rank tier, those admitted to the party
    later, whom its arrests count too (over 1921-53, with millions admitted,
    the arrests divided by the party of 1921 gave "79% of the rank and file arrested"). The
    shares show how the terror climbed the hierarchy.

    Returns:
        One row per group; columns population, arrested, shot, arrested_share, shot_share.
    """
    arrested = _select(results, EventKind.ARRESTED, once=True)
    shot = _select(results, EventKind.SENTENCED_DEATH, once=True)
    admitted = _select(results, EventKind.ADMITTED, once=True)
    summary = population(results)
    rank_persons = summary.get("rank_persons") or {}
    elite_persons = summary.get("elite_persons") or {}
    rows = []
    groups: list[tuple[str, Any, float | None]] = [
        (label, ("rank", int(tier)), _lookup(rank_persons, int(tier)))
        for label, tier in RANK_GROUPS.items()
    ]
    if groups[0][2] is not None:  # former members are rank and file too
        label, key, size = groups[0]
        groups[0] = (label, key, size + _former_members(results))
    groups += [
        (label, ("elite", int(bit)), _lookup(elite_persons, label))
        for label, bit in ELITE_GROUPS.items()
    ]
    for label, (kind, value), size in groups:
        n_arrested = float(arrested.loc[_in_group(arrested, kind, value), "persons"].sum())
        n_shot = float(shot.loc[_in_group(shot, kind, value), "persons"].sum())
        if size and kind == "rank":
            size += float(admitted.loc[_in_group(admitted, kind, value), "persons"].sum())
        size = float(size) if size else math.nan
        rows.append(
            {
                "group": label,
                "population": size,
                "arrested": n_arrested,
                "shot": n_shot,
                "arrested_share": n_arrested / size,
                "shot_share": n_shot / size,
            }
        )
    return pd.DataFrame(rows).set_index("group")


def _former_members(results: Results) -> float:
    """Persons outside the party on the first day who had been in it (expelled or left)."""
    persons = getattr(results, "persons", None)
    if persons is None or not len(persons):
        return 0.0
    return float(persons[0, [int(Status.EXPELLED), int(Status.LEFT)]].sum())


def _in_group(frame: pd.DataFrame, kind: str, value: int) -> pd.Series:
    """Rows of a rank tier (people ever in the party) or with an elite bit."""
    if kind == "rank":
        return (frame["rank"] == value) & (frame["cohort"] >= 0)
    return (frame["elite"] & value) > 0


def _lookup(table: dict[Any, Any], key: Any) -> float | None:
    """A value by key, accepting keys turned into strings (as after a JSON round trip)."""
    value = table.get(key, table.get(str(key)))
    return None if value is None else float(value)


def arrests_by_channel(results: Results, freq: str = "MS") -> pd.DataFrame:
    """Persons arrested per period by channel (how the arrest came about), one column each.

    Args:
        results: a run's results.
        freq: pandas offset alias of the periods ("MS": months, "YS": years).

    Returns:
        Indexed by period start, one column per channel of CHANNELS.
    """
    arrests = _select(results, EventKind.ARRESTED)
    periods = _periods(results, freq)
    frame = pd.DataFrame(index=periods)
    for name in CHANNELS:
        part = arrests[arrests["channel"] == _CODE[name]]
        frame[name] = _by_period(part["date"], part["persons"], periods, freq)
    frame.index.name = "period"
    return frame


def victims_by_origin(results: Results) -> pd.DataFrame:
    """Arrests per calendar year by channel, split into category and network victims.

    Category victims were arrested for what they were (Order 00447's registers, the national
    operations, the routine caseload); network victims for whom they knew or what they had been
    or done (testimony, denunciation, self-protection, family, past expulsion, the army purge,
    show trials). The split tells how much of the terror the cascade drove.

    Returns:
        Indexed by year: one column per channel, then category_victims, network_victims and
        total (persons arrested; the two victim columns add up to total).
    """
    frame = arrests_by_channel(results, "YS")
    frame.index = pd.Index(frame.index.year, name="year")
    frame["category_victims"] = frame[list(CATEGORY_CHANNELS)].sum(axis=1)
    frame["network_victims"] = frame[list(NETWORK_CHANNELS)].sum(axis=1)
    frame["total"] = frame[list(CHANNELS)].sum(axis=1)
    return frame


def cascade_tree(
    results: Results, root: int | None = None, max_depth: int = 4, max_nodes: int = 200
) -> pd.DataFrame:
    """An example cascade: who brought about whose arrest, from one arrested official down.

    The root (if not given) is the arrested official (district rank or above, or one of the 1934
    elite) whose arrest led, directly or through the arrests it caused, to the most further
    arrests by testimony, self-protective denunciation or family arrest. The tree follows the
    `cause` links down, breadth first, to `max_depth` levels and at most `max_nodes` arrests.

    Args:
        results: a run's results.
        root: person id of the root (his arrest with the largest cascade); None to choose.
        max_depth: deepest level drawn (the root's direct victims are depth 1).
        max_nodes: most arrests (edges) drawn.

    Returns:
        One row per edge, breadth first: parent (row of the edge that led to the cause's
        arrest, -1 for the root's direct victims), cause (person id), person, channel, date of
        the person's arrest, depth, the person's rank, elite flags, hostile type, persons and
        descendants (arrests below him in the whole cascade). `attrs` holds root, root_date,
        root_rank, root_elite, root_hostile and root_descendants (root None and no rows if
        there is no cascade).

    Raises:
        ValueError: `root` was never arrested.
    """
    arrests = _arrests(results)
    edges = pd.DataFrame({c: pd.Series(dtype=object) for c in _EDGE_COLUMNS})
    edges.attrs["root"] = None
    parent = arrests["parent"].to_numpy()
    size = np.zeros(len(arrests), dtype=np.int64)
    for child in np.flatnonzero(parent >= 0)[::-1]:
        size[parent[child]] += 1 + size[child]
    if root is None:
        official = (arrests["rank"] >= RankTier.DISTRICT) | (arrests["elite"] > 0)
        if not official.any():
            return edges
        candidates = np.flatnonzero(official.to_numpy())
        start = int(candidates[np.argmax(size[candidates])])  # the earliest among ties
        if size[start] == 0:
            return edges
    else:
        own = np.flatnonzero(arrests["person"].to_numpy() == root)
        if len(own) == 0:
            raise ValueError(f"person {root} was never arrested in this run")
        start = int(own[np.argmax(size[own])])
    children: dict[int, list[int]] = {}
    for child in np.flatnonzero(parent >= 0):
        children.setdefault(int(parent[child]), []).append(int(child))
    rows: list[tuple[int, int]] = []  # (event, depth)
    queue = deque([(start, 0)])
    while queue and len(rows) < max_nodes:
        event, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for child in children.get(event, []):
            if len(rows) >= max_nodes:
                break
            rows.append((child, depth + 1))
            queue.append((child, depth + 1))
    chosen = np.array([e for e, _ in rows], dtype=np.int64)
    part = arrests.iloc[chosen]
    row_of = {int(event): i for i, event in enumerate(chosen)}
    edges = pd.DataFrame(
        {
            "parent": [row_of.get(int(p), -1) for p in parent[chosen]],
            "cause": part["cause"].to_numpy(),
            "person": part["person"].to_numpy(),
            "channel": _channel_names(part["channel"]),
            "date": part["date"].to_numpy(),
            "depth": np.array([d for _, d in rows], dtype=np.int64),
            "rank": part["rank"].to_numpy(),
            "elite": part["elite"].to_numpy(),
            "hostile": part["hostile"].to_numpy(),
            "persons": part["persons"].to_numpy(),
            "descendants": size[chosen],
        }
    )
    head = arrests.iloc[start]
    edges.attrs.update(
        root=int(head["person"]),
        root_date=pd.Timestamp(head["date"]),
        root_rank=int(head["rank"]),
        root_elite=int(head["elite"]),
        root_hostile=bool(head["hostile"]),
        root_descendants=int(size[start]),
    )
    return edges


def monthly_against_record(results: Results) -> pd.DataFrame:
    """Arrests, convictions and death sentences per month against the record's yearly figures.

    The model's monthly counts (convictions are death and camp sentences) sit beside the
    record's figure for the month's year spread evenly over its twelve months (records
    arrested_YEAR, which counts arrests on all charges; death_or_camp_YEAR, the death and camp
    sentences of the same scope as the model's convictions; death_sentences_YEAR; NaN where the
    record has none), so
    that a run's timing within the year can be read against the yearly totals it is calibrated
    on.

    Returns:
        Indexed by month start, over the months of the run: arrests, convictions,
        death_sentences, record_arrests, record_convictions, record_death_sentences.
    """
    frame = pd.DataFrame(
        {
            "arrests": results.monthly_events(("arrested",)),
            "convictions": results.monthly_events(("sentenced_death", "sentenced_camp")),
            "death_sentences": results.monthly_events(("sentenced_death",)),
        }
    )
    frame = frame[frame.index <= pd.Timestamp(results.last_day)]
    years = sorted(set(frame.index.year))
    for column, prefix in (
        ("record_arrests", "arrested"),
        ("record_convictions", "death_or_camp"),
        ("record_death_sentences", "death_sentences"),
    ):
        yearly = {year: _record_value(f"{prefix}_{year}") for year in years}
        frame[column] = [yearly[year] / 12 for year in frame.index.year]
    frame.index.name = "month"
    return frame


def _record_value(record_id: str) -> float:
    """A record row's value, NaN if the row or its value is missing."""
    try:
        value = get(record_id).value
    except KeyError:
        return math.nan
    return math.nan if value is None else float(value)


def limits_trajectory(results: Results, operation: str = "order_00447") -> pd.DataFrame:
    """Week by week: an operation's limits in force, its troikas' sentences, the requests.

    The limits in force are the initial limits plus everything the centre granted up to the
    week's end (`Results.limit_requests`); the sentences are those the operation's troikas
    passed (written on the sentence events), cumulative. Empty if the run has no such operation.

    Returns:
        Indexed by week end: limit_shoot, limit_camp, sentenced_shoot, sentenced_camp
        (cumulative persons), requests (made that week), requested, granted (persons that week).
    """
    if operation not in results.operation_names or results.operations.empty:
        return pd.DataFrame()
    index = results.operation_names.index(operation)
    summary = results.operations.set_index("operation").loc[operation]
    ev = results.events
    sentenced = np.isin(ev["kind"], [int(EventKind.SENTENCED_DEATH), int(EventKind.SENTENCED_CAMP)])
    mask = sentenced & (ev["campaign"] == index)
    dates = pd.to_datetime(
        np.datetime64(results.start, "D") + ev["day"][mask].astype("timedelta64[D]")
    )
    frame = pd.DataFrame(
        {
            "date": dates,
            "shoot": np.where(ev["kind"][mask] == int(EventKind.SENTENCED_DEATH), 1.0, 0.0)
            * ev["weight"][mask].astype(np.float64),
            "camp": np.where(ev["kind"][mask] == int(EventKind.SENTENCED_CAMP), 1.0, 0.0)
            * ev["weight"][mask].astype(np.float64),
        }
    )
    weeks = pd.date_range(results.start, results.dates[-2], freq="W-SUN")
    if len(weeks) == 0:
        return pd.DataFrame()
    weekly = frame.groupby(pd.Grouper(key="date", freq="W-SUN"))[["shoot", "camp"]].sum()
    weekly = weekly.reindex(weeks, fill_value=0.0).cumsum()
    requests = results.limit_requests
    if len(requests):
        requests = requests[requests["operation"] == operation]
    asked = pd.DataFrame(
        {
            "date": pd.to_datetime(requests["date"])
            if len(requests)
            else pd.Series(dtype="datetime64[ns]"),
            "requests": 1.0,
            "requested": requests["requested"] if len(requests) else [],
            "granted_shoot": requests["granted_shoot"] if len(requests) else [],
            "granted_camp": requests["granted_camp"] if len(requests) else [],
        }
    )
    per_week = (
        asked.groupby(pd.Grouper(key="date", freq="W-SUN")).sum().reindex(weeks, fill_value=0.0)
    )
    return pd.DataFrame(
        {
            "limit_shoot": float(summary["initial_limit_shoot"])
            + per_week["granted_shoot"].cumsum(),
            "limit_camp": float(summary["initial_limit_camp"]) + per_week["granted_camp"].cumsum(),
            "sentenced_shoot": weekly["shoot"],
            "sentenced_camp": weekly["camp"],
            "requests": per_week["requests"],
            "requested": per_week["requested"],
            "granted": per_week["granted_shoot"] + per_week["granted_camp"],
        },
        index=pd.DatetimeIndex(weeks, name="week"),
    )
