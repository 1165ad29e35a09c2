"""A run's report read in a real headless Chromium at a phone's width and a desktop's (QA 44).

At 400 px the reproduction number's chart was crushed to 60 px by its legend at the right, every
title was cut at the right under the modebar, and the comparison's fit column was off-screen.
The browser as in `test_web_browser.py`: Debian's chromium and chromedriver, skipped with the
reason where they are missing (failed in CI).
"""

from __future__ import annotations

import time

import pytest

from chistka import Sim
from chistka.report import write_report
from chistka.scenario import scenario_from_dict
from test_report import SMALL_TERROR

pytestmark = pytest.mark.slow

LAYOUT = """
const width = document.documentElement.clientWidth;
const charts = Array.from(document.querySelectorAll('.plotly-graph-div')).map(div => {
  const box = div.getBoundingClientRect();
  const plots = Array.from(div.querySelectorAll('.nsewdrag')).map(e => e.getBoundingClientRect());
  const legend = div.querySelector('.legend');
  const key = legend ? legend.getBoundingClientRect() : null;
  const overlaps = plots.some(p => key && key.width > 0 && key.left < p.right && p.left < key.right
                                   && key.top < p.bottom && p.top < key.bottom);
  return {id: div.id, width: box.width, right: box.right,
          plot: Math.max(0, ...plots.map(p => p.width)), overlaps: overlaps,
          title: !!div.querySelector('.gtitle')};
});
const titles = Array.from(document.querySelectorAll('.chart-title')).map(
  e => e.getBoundingClientRect().right);
const fit = document.querySelector('section#comparison tbody td.inside');
return {inner: window.innerWidth, width: width, scroll: document.documentElement.scrollWidth,
        charts: charts, titles: titles, fit: fit ? fit.getBoundingClientRect().right : null};
"""
"""What the test reads of the page: each chart's box, plot area, legend and title; each HTML
chart title's right edge; the first fit cell's right edge (its table opened)."""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A small terror run's report: every section of the run report, the terror's too."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(Sim(scenario_from_dict(SMALL_TERROR)).run(), path)
    return path


@pytest.mark.parametrize("width", [400, 1280])
def test_every_chart_and_the_fit_column_can_be_read_at_any_width(browser, page, width):
    browser.set_window_size(width, 900)
    inner = browser.execute_script("return window.innerWidth")
    browser.set_window_size(2 * width - inner, 900)
    browser.get(page.as_uri())
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    time.sleep(1)  # plotly lays the charts out again once the page has its width
    seen = browser.execute_script(LAYOUT)
    assert seen["inner"] == width
    width = seen["width"]  # less the scroll bar
    assert seen["scroll"] <= width, "the page scrolls sideways"
    assert len(seen["charts"]) >= 8
    for chart in seen["charts"]:
        assert chart["right"] <= width, chart
        assert chart["plot"] >= 0.6 * chart["width"], chart  # not squeezed by its legend
        assert not chart["overlaps"], chart
        assert not chart["title"], chart  # the title is HTML above it
    assert seen["titles"] and max(seen["titles"]) <= width
    assert seen["fit"] is not None and seen["fit"] <= width  # visible without scrolling
