"""Judging a run against the record: every modelled row of a role, not a hand-picked subset.

Also the rows the issues promised inside, shared by the built-in scenarios' tests (issue 2 item
6, issue 3, issue 11 section 4; tolerances in chistka/record/data/observables.csv).
"""

from __future__ import annotations

import warnings

import pandas as pd

from chistka.analysis.comparison import SCORED_STATUSES

PARTY_PROMISED = (
    "purge1921_share",
    "purge1929_share",
    "purge1933_share",
    "proverka1935_share",
    "party_total_1928_07",
    "party_total_1933_01",
    "party_full_17congress",
)
"""The party's rows promised inside: each campaign's expulsion share within 3 points and the
membership anchors within 10%."""


def yearly_sentence_rows(first: int, last: int, *, every_sentence: bool = False) -> tuple[str, ...]:
    """The yearly death-and-camp and death-sentence rows from `first` to `last` (within 20%).

    With `every_sentence`, also the 1953 table's whole count of the convicted (`convicted_YEAR`,
    with exile and other measures), in a scenario that sentences to exile.
    """
    kinds = ("convicted",) * every_sentence + ("death_or_camp", "death_sentences")
    return tuple(f"{kind}_{year}" for year in range(first, last + 1) for kind in kinds)


def scored(table: pd.DataFrame, role: str) -> pd.DataFrame:
    """The rows of a role that count in the fit (kinds the scenario models, inside its run)."""
    return table[(table["role"] == role) & table["status"].isin(SCORED_STATUSES)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def outside_text(rows: pd.DataFrame) -> str:
    """The rows outside tolerance, one per line: id, model, record and accepted range."""
    lines = [
        f"  {row.record_id}: model {_number(row.model)}, record {_number(row.record)} "
        f"(accepted {_number(row.low)} - {_number(row.high)})"
        for row in rows[rows["status"] == "outside"].itertuples()
    ]
    return "\n".join(lines) or "  none"


def assert_fit(
    table: pd.DataFrame, role: str, minimum_share: float, promised: tuple[str, ...] = ()
) -> None:
    """At least `minimum_share` of the role's modelled rows inside, and every promised row.

    The failure message lists every row of the role outside its tolerance; when the assertion
    holds, the rows still outside are reported as a warning (in pytest's warnings summary), so
    that no modelled row outside tolerance goes unreported.
    """
    rows = scored(table, role)
    assert len(rows), f"no {role} row is compared"
    missing = sorted(set(promised) - set(rows["record_id"]))
    assert not missing, f"promised {role} rows not compared: {missing}"
    share = float((rows["status"] == "inside").mean())
    broken = rows[rows["record_id"].isin(promised) & (rows["status"] == "outside")]
    assert broken.empty and share >= minimum_share, (
        f"{role}: {share:.0%} of {len(rows)} rows inside (at least {minimum_share:.0%} and "
        f"every promised row required); outside:\n{outside_text(rows)}"
    )
    if (rows["status"] == "outside").any():
        warnings.warn(
            f"{role}: {int((rows['status'] == 'outside').sum())} of {len(rows)} rows outside "
            f"tolerance:\n{outside_text(rows)}",
            UserWarning,
            stacklevel=2,
        )
