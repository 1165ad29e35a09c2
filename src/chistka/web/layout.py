"""The web app's page layout: the style, the frame of every page, tables and the error page."""

from __future__ import annotations

import html
import http
from typing import Any

from chistka.web.jobs import RUN_ID, RunJobs

REFRESH_SECONDS = 2
"""A running run's page reloads itself this often."""


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
  color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
table:not(#timeline) { display: block; max-width: 100%; overflow-x: auto; }
table { background: linear-gradient(to right, #fff 30%, #fff0) left / 3em 100% no-repeat local,
    linear-gradient(to left, #fff 30%, #fff0) right / 3em 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, #0005, #0000) left / 1em 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, #0005, #0000) right / 1em 100% no-repeat scroll; }
.scroll-note { display: none; font-size: 0.9em; color: #555; }
textarea, input { max-width: 100%; box-sizing: border-box; }
fieldset label { display: inline-block; }
h1 { overflow-wrap: anywhere; }
@media (max-width: 40em) { #timeline { display: block; overflow-x: auto; }
  .scroll-note { display: block; } }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
#timeline td:first-child, #campaigns td:nth-child(n+2):nth-child(-n+3),
#operations td:nth-child(n+2):nth-child(-n+3), #fitted td:nth-child(-n+3) { white-space: nowrap; }
#timeline { table-layout: fixed; width: 100%; }
#timeline th:nth-child(1) { width: 7em; } #timeline th:nth-child(2) { width: 34%; }
#timeline th:nth-child(3) { width: 24%; }
#timeline td:nth-child(n+3), #operations td:last-child, #campaigns td:last-child {
  overflow-wrap: anywhere; }
#fitted td:nth-child(4) { min-width: 22em; }
#differences td:nth-child(n+2) { text-align: right; font-variant-numeric: tabular-nums; }
#comparison td:nth-child(n+3) { white-space: nowrap; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.error { background: #fde8e8; border: 1px solid #c33; padding: 0.5em 1em; overflow-wrap: anywhere; }
span.error { display: block; margin: 0.25em 0 0.5em; }
.inside { color: #17631b; } .outside { color: #a11; }
label { margin-right: 1em; }
.when { white-space: nowrap; }
"""


SCROLL_NOTE = (
    '<p class="scroll-note" id="scroll-note">A table wider than the window scrolls sideways:'
    " a shadow at its edge marks more beyond it.</p>"
)
"""Said in a narrow window on a page with a table (the style shows it there alone): at 400 px a
wide table's columns past the edge (the runs' "seed", cut to "see") gave no hint of it."""


def page(title: str, body: str, *, refresh: bool = False) -> str:
    """A whole page around `body` (already HTML); `SCROLL_NOTE` above its first table."""
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    body = body.replace("<table", SCROLL_NOTE + "<table", 1)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)} - chistka</title><style>{STYLE}</style></head>"
        f'<body><p><a href="/">chistka</a></p><h1>{html.escape(title)}</h1>{body}'
        "</body></html>"
    )


def escape(value: Any) -> str:
    """A value as HTML text."""
    return html.escape("" if value is None else str(value))


def table_html(
    element_id: str,
    head: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    numbers: tuple[int, ...] = (),
) -> str:
    """An HTML table of escaped cells; the columns at the indices `numbers` right-aligned.

    Numbers are right-aligned (`td.number`) so that their digits line up, as in a single run's
    comparison; an ensemble's left-aligned them.
    """
    header = "".join(f"<th>{escape(name)}</th>" for name in head)

    def cell(index: int, value: Any) -> str:
        kind = ' class="number"' if index in numbers else ""
        return f"<td{kind}>{escape(value)}</td>"

    body = "".join(
        "<tr>" + "".join(cell(index, value) for index, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table id="{element_id}"><tr>{header}</tr>{body}</table>'


def error_page(jobs: RunJobs, path: str, status: int, detail: Any) -> str:
    """The page of an HTTP error on an HTML route: what went wrong and a link back.

    An unknown run, file, scenario or design answered a browser with JSON.
    """
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    message = str(detail) if detail else phrase
    if status == 404 and message == phrase:  # no route: the router's bare "Not Found"
        message = f"there is no page {path}"
    elif status == 405:
        message = f"{path} does not take this method ({message})"
    back = '<a href="/" id="back">Back to the scenarios, experiments and runs</a>'
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "runs" and RUN_ID.match(parts[2]):
        if jobs.state_file(parts[2]).is_file():
            back = f'<a href="/runs/{parts[2]}" id="back">Back to run {parts[2]}</a>'
    body = f'<p class="error" id="error">{escape(message)}</p><p>{back}</p>'
    return page(f"{status} {phrase}".strip(), body)
