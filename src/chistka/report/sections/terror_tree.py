"""An example cascade drawn as a tree: who brought about whose arrest, from one official down."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import CHANNEL_COLOURS, RunReport, figure_section, section

KEY = "terror_tree"
TITLE = "An example cascade: who brought about whose arrest"

RANK_NAMES = ("rank and file", "cell secretary", "district", "regional", "central")

OFFICIALS = "arrested official (diamond)"
OTHERS = "arrested, not an official (circle)"
"""The legend's names of the markers below the root, by their shape (QA 44: the note spoke of
diamonds, which the legend did not name and the example did not have)."""


def official(person: pd.Series) -> bool:
    """Whether an arrested person was an official: district rank and above, or the 1934 elite."""
    return bool(person["rank"] >= 2 or person["elite"] > 0)


def run_section(report: RunReport) -> str:
    """The tree of the cascade below the official whose arrest led to the most others."""
    tree = terror.cascade_tree(report.results)
    if not len(tree):
        return section(KEY, TITLE, "<p>No arrest caused another.</p>")
    return figure_section(report, KEY, TITLE, _figure(tree), _note(tree))


def _figure(tree: pd.DataFrame) -> go.Figure:
    """The cascade as a tree: the root on top, each level below, edges coloured by channel."""
    children: dict[int, list[int]] = {}
    for row, parent in enumerate(tree["parent"]):
        children.setdefault(int(parent), []).append(row)
    x: dict[int, float] = {}
    leaves = 0

    def place(node: int) -> float:
        nonlocal leaves
        kids = children.get(node, [])
        if not kids:
            x[node] = float(leaves)
            leaves += 1
        else:
            x[node] = float(np.mean([place(k) for k in kids]))
        return x[node]

    place(-1)  # -1 is the root
    depth = {-1: 0, **{row: int(d) for row, d in enumerate(tree["depth"])}}
    fig = go.Figure()
    for channel in dict.fromkeys(str(c) for c in tree["channel"]):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for row in np.flatnonzero((tree["channel"].astype(str) == channel).to_numpy()):
            parent = int(tree["parent"].iloc[row])
            xs += [x[parent], x[int(row)], None]
            ys += [-depth[parent], -depth[int(row)], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=channel.replace("_", " "),
                line={"color": CHANNEL_COLOURS.get(channel, "#999"), "width": 1.5},
                hoverinfo="skip",
            )
        )
    for is_official, name, symbol, size in (
        (True, OFFICIALS, "diamond", 11),
        (False, OTHERS, "circle", 7),
    ):
        rows = [r for r in range(len(tree)) if official(tree.iloc[r]) == is_official]
        if not rows:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x[r] for r in rows],
                y=[-depth[r] for r in rows],
                mode="markers",
                name=name,
                marker={
                    "size": size,
                    "symbol": symbol,
                    "color": [
                        CHANNEL_COLOURS.get(str(tree["channel"].iloc[r]), "#999") for r in rows
                    ],
                    "line": {"color": "#333", "width": 0.5},
                },
                hovertext=[_hover(tree.iloc[r]) for r in rows],
                hoverinfo="text",
            )
        )
    attrs = tree.attrs
    fig.add_trace(
        go.Scatter(
            x=[x[-1]],
            y=[0],
            mode="markers",
            name="root",
            marker={"size": 16, "symbol": "star", "color": "#000"},
            hovertext=[
                f"<b>person {attrs['root']}</b> (root)<br>{_rank_label(attrs['root_rank'])}"
                f"{_elite_label(attrs['root_elite'])}<br>arrested "
                f"{attrs['root_date']:%Y-%m-%d}<br>{attrs['root_descendants']} arrests below"
            ],
            hoverinfo="text",
        )
    )
    levels = int(tree["depth"].max())
    fig.update_layout(
        title=TITLE,
        xaxis={"visible": False},
        yaxis={
            "title": "generation of the cascade",
            "tickvals": [-d for d in range(levels + 1)],
            "ticktext": ["root", *(str(d) for d in range(1, levels + 1))],
            "zeroline": False,
        },
        hovermode="closest",
    )
    return fig


def _hover(edge: pd.Series) -> str:
    channel = str(edge["channel"]).replace("_", " ")
    return (
        f"<b>person {edge['person']}</b><br>{_rank_label(edge['rank'])}"
        f"{_elite_label(edge['elite'])}<br>arrested {pd.Timestamp(edge['date']):%Y-%m-%d} "
        f"by {channel} of person {edge['cause']}<br>hidden type: "
        f"{'hostile' if edge['hostile'] else 'loyal'}<br>{edge['descendants']} arrests below"
    )


def _rank_label(rank: Any) -> str:
    rank = int(rank)
    return RANK_NAMES[rank] if 0 <= rank < len(RANK_NAMES) else f"rank {rank}"


def _elite_label(elite: Any) -> str:
    elite = int(elite)
    parts = [n for bit, n in ((1, "CC 1934"), (2, "17th Congress")) if elite & bit]
    return f" ({', '.join(parts)})" if parts else ""


def _note(tree: pd.DataFrame) -> str:
    """Which arrest the tree starts from, what its levels are, and what its markers are."""
    attrs = tree.attrs
    officials = sum(official(person) for _, person in tree.iterrows())
    markers = (
        f"diamonds are the {officials} official{'s' if officials > 1 else ''} below the root, "
        "circles the others"
        if officials
        else "no one below the root was an official (district rank and above, or the 1934 "
        "elite, drawn as diamonds): every circle is someone else"
    )
    return (
        f"The root is person {attrs['root']}, {_rank_label(attrs['root_rank'])} official"
        f"{_elite_label(attrs['root_elite'])}, arrested on {attrs['root_date']:%Y-%m-%d}: "
        "of the arrested officials (district rank and above, or the 1934 elite) the one whose "
        f"arrest led to the most further arrests, {attrs['root_descendants']} in all. Each level "
        "below is one generation: people named in his testimony, denounced by his frightened "
        f"contacts, or arrested as his family, and so on ({len(tree)} arrests drawn, to depth "
        f"{int(tree['depth'].max())}). The star is the root; {markers}; a line's colour is "
        "the channel of the arrest it leads to. Hover for dates and ranks."
    )
