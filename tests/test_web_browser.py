"""The browser app end to end, in a real headless Chromium (Debian's chromium and chromedriver).

`chistka serve` runs as a process of its own on a free port; Selenium drives Chromium through
the pages a user goes through: a refused form, a run followed to its end, its report and its
comparison. `make test-slow` installs the browser when it is missing (`make browser`); in CI a
missing browser fails the test, elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_experiment import DESIGN, OUTCOMES
from test_terror import TERROR
from test_web_experiments import TWINS
from tomltext import to_toml

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The address of a `chistka serve` started for these tests, its runs in a fresh folder."""
    runs = tmp_path_factory.mktemp("web") / "runs"
    designs = runs.parent / "designs"
    designs.mkdir()
    (designs / "small.toml").write_text(to_toml(TERROR))
    (designs / "small-levers.toml").write_text(DESIGN.format(outcomes=json.dumps(OUTCOMES)))
    (designs / "twins.toml").write_text(TWINS)  # refused by the loader
    (designs / "Not_A_Name.toml").write_text("refused: a name the app cannot offer")
    port = free_port()
    arguments = ["--runs", str(runs), "--port", str(port), "--experiments", str(designs)]
    process = subprocess.Popen(
        [sys.executable, "-m", "chistka", "serve", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(address + "/", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"chistka serve did not start: {output}") from None
            time.sleep(0.3)
    yield address, runs
    process.terminate()
    process.wait(timeout=60)


def fill(driver, **values: str) -> None:
    """Fill the run form (scenario by its option, the others typed), send it, and wait for the
    page the server answers with (the click returns before the browser has left the form)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    for name, value in values.items():
        field = driver.find_element(By.ID, name)
        if name == "scenario":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    button = driver.find_element(By.ID, "run")
    button.click()
    WebDriverWait(driver, 60).until(lambda _: gone(button))


def wait_until_done(driver, run_url: str, minutes: int = 5) -> None:
    """Reload a run's page until its status is done (fail if it failed or took too long)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + 60 * minutes
    while driver.find_element(By.ID, "status").text not in ("done", "failed"):
        assert time.monotonic() < deadline, f"the run did not end in {minutes} minutes"
        time.sleep(1)
        driver.get(run_url)
    assert driver.find_element(By.ID, "status").text == "done"


def gone(element) -> bool:
    """Whether the page holding `element` has been left.

    Selenium's `staleness_of` expects StaleElementReferenceException; Chromium sometimes answers
    a node of the page being left with an inspector error ("Node with given id does not belong
    to the document") instead, which is the same fact (seen once in the slow tier, session 32).
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def test_a_bad_scale_is_refused_on_the_page(server, browser):
    from selenium.webdriver.common.by import By

    address, runs = server
    browser.get(address + "/")
    options = [o.get_attribute("value") for o in browser.find_elements(By.TAG_NAME, "option")]
    assert options == ["great-terror", "party-purges-1921-1936", "purges-1921-1953"]
    fill(browser, scenario="great-terror", seed="1", scale="5")
    error = browser.find_element(By.ID, "error")
    assert error.get_attribute("data-field") == "scale"
    assert "scale must be in (0, 1] (got 5)" in error.text
    assert browser.find_element(By.ID, "scale").get_attribute("value") == "5"
    assert not any(p.suffix == ".json" for p in runs.iterdir())


def test_a_run_followed_to_its_report_and_comparison(server, browser):
    from selenium.webdriver.common.by import By

    address, runs = server
    browser.get(address + "/")
    fill(browser, scenario="party-purges-1921-1936", seed="3", scale="0.01")
    assert "/runs/party-purges-1921-1936-3-" in browser.current_url
    run_url = browser.current_url
    deadline = time.monotonic() + 300
    while browser.find_element(By.ID, "status").text not in ("done", "failed"):
        assert time.monotonic() < deadline, "the run did not end in 5 minutes"
        time.sleep(1)
        browser.get(run_url)  # as the page's own refresh does
    assert browser.find_element(By.ID, "status").text == "done"
    fit = browser.find_element(By.ID, "fit").text
    assert "calibration:" in fit and "fitted parameters for 14 calibration rows" in fit
    rows = browser.find_elements(By.CSS_SELECTOR, "#comparison tr")
    run_id = run_url.rsplit("/", 1)[1]
    expected = (Path(runs) / run_id / "comparison.csv").read_text().strip().count("\n")
    assert len(rows) == expected + 1
    files = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#files a")]
    assert {"report.html", "comparison.csv", "events.parquet", "summary.json"} <= set(files)

    browser.find_element(By.ID, "report").click()
    assert browser.current_url.endswith(f"/runs/{run_id}/files/report.html")
    assert "party-purges-1921-1936" in browser.find_element(By.TAG_NAME, "h1").text
    charts = browser.find_elements(By.CLASS_NAME, "plotly-graph-div")
    assert charts, "the report drew no chart"
    numbers = browser.find_elements(By.CSS_SELECTOR, "a[data-numbers]")
    assert len(numbers) == len(charts)  # every chart's numbers, downloadable (QA of session 39)
    assert numbers[0].get_attribute("href").startswith("data:text/csv;base64,")

    browser.get(address + "/")
    listed = browser.find_element(By.ID, "runs").text
    assert run_id in listed and "done" in listed


def test_a_what_if_ticked_on_a_scenario_page(server, browser):
    from selenium.webdriver.common.by import By

    address, _ = server
    browser.get(address + "/")
    browser.find_element(By.LINK_TEXT, "party-purges-1921-1936").click()
    timeline = browser.find_elements(By.CSS_SELECTOR, "#timeline tr")
    assert len(timeline) > 5
    browser.find_element(By.CSS_SELECTOR, 'input[name="without"][value="campaigns.1929"]').click()
    fill(browser, seed="4", scale="0.01", set="review.threshold=2.0")
    assert "/runs/party-purges-1921-1936-4-" in browser.current_url
    changes = browser.find_element(By.ID, "changes").text
    assert changes == "review.threshold=2.0; without campaigns.1929"


def test_an_experiment_from_its_design_page_to_its_effects_and_report(server, browser):
    from selenium.webdriver.common.by import By

    address, runs = server
    browser.get(address + "/")
    browser.find_element(By.LINK_TEXT, "small-levers").click()
    assert "What do the levers do?" in browser.find_element(By.ID, "question").text
    arms = browser.find_elements(By.CSS_SELECTOR, "#arms tr")
    assert len(arms) == 3  # the header and two arms
    fill(browser, seeds="1")
    assert "/runs/small-levers-default-" in browser.current_url
    run_url = browser.current_url
    wait_until_done(browser, run_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#effects tr")
    assert len(rows) == 1 + 3 * len(OUTCOMES)
    assert "No mass operation" in browser.find_element(By.ID, "effects").text
    browser.find_element(By.ID, "report").click()
    assert browser.current_url.endswith("/files/experiment.html")
    assert browser.find_elements(By.CLASS_NAME, "plotly-graph-div"), "no chart drawn"
    # a table wider than the window (the effects table has ten columns) scrolls inside the
    # page, not past its edge (session 41)
    browser.set_window_size(800, 900)
    wide = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert browser.execute_script(wide) <= 0, "the report is wider than an 800 px window"
    browser.find_element(By.LINK_TEXT, "baseline/").click()  # an arm's runs (QA of session 39)
    assert browser.current_url.endswith("/files/baseline/")
    assert browser.find_elements(By.CSS_SELECTOR, "#folder a"), "the arm's folder lists nothing"


def test_an_experiment_at_two_values_from_its_form_to_each_values_report(server, browser):
    from selenium.webdriver.common.by import By

    address, runs = server
    browser.get(address + "/experiments/small-levers")
    fill(browser, seeds="1", vary="arrest.delay_days=15")
    error = browser.find_element(By.ID, "error")
    assert error.get_attribute("data-field") == "vary" and "give 2 to 12 values" in error.text
    assert browser.find_element(By.ID, "vary").get_attribute("value") == "arrest.delay_days=15"
    fill(browser, vary="arrest.delay_days=15,25")
    assert "/runs/small-levers-default-" in browser.current_url
    run_url = browser.current_url
    assert browser.find_element(By.ID, "vary").text == "arrest.delay_days=15,25"
    wait_until_done(browser, run_url)
    assert "No mass operation" in browser.find_element(By.ID, "spread").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#values li")) == 2
    browser.find_element(By.ID, "report").click()
    assert browser.current_url.endswith("/files/variants.html")
    assert browser.find_elements(By.CLASS_NAME, "plotly-graph-div"), "no chart drawn"
    browser.find_element(By.CSS_SELECTOR, 'a[href="v02/experiment.html"]').click()
    assert browser.current_url.endswith("/files/v02/experiment.html")
    assert browser.find_elements(By.CLASS_NAME, "plotly-graph-div"), "no chart drawn"


def test_the_pages_fit_a_narrow_window(server, browser):
    """QA of session 42: at 400 px the forms' text boxes, the scenario's timeline and the wide
    tables (an ensemble's record over the seeds, an experiment's effects, a comparison) ran past
    the window's edge; now a wide table scrolls inside the page."""
    address, _ = server
    body = {"scenario": "party-purges-1921-1936", "seed": 3, "seeds": 2, "scale": 0.01}
    request = urllib.request.Request(
        address + "/api/runs",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    run_id = json.loads(urllib.request.urlopen(request, timeout=30).read())["id"]
    deadline = time.monotonic() + 300
    while True:
        state = json.loads(urllib.request.urlopen(f"{address}/api/runs/{run_id}").read())
        if state["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, "the ensemble did not end in 5 minutes"
        time.sleep(1)
    assert state["status"] == "done", state["error"]
    size = browser.get_window_size()
    wide = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    try:
        browser.set_window_size(400, 900)
        for path in (
            "/",
            "/scenarios/great-terror",
            "/experiments/no-halt",
            f"/runs/{run_id}",
            "/runs/no-such-run",
        ):
            browser.get(address + path)
            assert browser.execute_script(wide) <= 0, f"{path} is wider than a 400 px window"
    finally:
        browser.set_window_size(size["width"], size["height"])


REFUSED_BOX = """
const box = arguments[0];
const name = document.createRange();
name.setStart(box.parentElement, 0);
name.setEndBefore(box);
const text = document.createRange();
text.selectNodeContents(box);
const edges = (rect) => [rect.left, rect.top, rect.right, rect.bottom];
return [name, box, text].map((part) => edges(part.getBoundingClientRect()));
"""
"""The edges (left, top, right, bottom) of what a refused design's item names before its red
box (the design and its file), of the box, and of the box's text."""


def test_a_refused_designs_red_box_encloses_its_message_below_its_name(server, browser):
    """QA: the red box of a refused design on the index, an inline box wrapped over several
    lines, drew its border through the design's name; it is a block below the name."""
    from selenium.webdriver.common.by import By

    address, _ = server
    size = browser.get_window_size()
    try:
        for width in (1280, 400):
            browser.set_window_size(width, 900)
            browser.get(address + "/")
            boxes = browser.find_elements(By.CSS_SELECTOR, "#refused-experiments .error")
            assert len(boxes) == 2  # twins.toml and Not_A_Name.toml
            for box in boxes:
                name, border, text = browser.execute_script(REFUSED_BOX, box)
                assert name[3] <= border[1], f"at {width} px the box crosses its name"
                assert border[0] <= text[0] and text[2] <= border[2], (width, border, text)
                assert border[1] <= text[1] and text[3] <= border[3], (width, border, text)
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_the_runs_status_is_in_sight_in_a_narrow_window(server, browser):
    """QA: at 400 px the runs table's status, its seventh column, was past the window's edge
    (the table scrolls inside the page); it is the column after the run's."""
    from selenium.webdriver.common.by import By

    address, runs = server
    run_id = "party-purges-1921-1936-3-20000101-000000-abcd"  # as long as a real one
    state = {"id": run_id, "scenario": "party-purges-1921-1936", "seed": 3, "scale": 0.01}
    state |= {"status": "failed", "error": "made up", "submitted": "2000-01-01T00:00:00"}
    (runs / f"{run_id}.json").write_text(json.dumps(state))
    in_sight = (
        "const cell = arguments[0].getBoundingClientRect();"
        "const table = document.getElementById('runs').getBoundingClientRect();"
        "const right = Math.min(table.right, document.documentElement.clientWidth);"
        "return cell.left >= table.left && cell.right <= right;"
    )
    size = browser.get_window_size()
    try:
        browser.set_window_size(400, 900)
        browser.get(address + "/")
        cells = browser.find_elements(By.CSS_SELECTOR, "#runs td.status")
        assert cells, "the runs table lists no run"
        for cell in cells:
            assert browser.execute_script(in_sight, cell), f"status {cell.text!r} out of sight"
    finally:
        browser.set_window_size(size["width"], size["height"])


DATES_ON_LINES = r"""
const lines = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  for (const match of node.data.matchAll(/\d{1,2} [A-Z][a-z]{2} \d{4}/g)) {
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    lines.push([match[0], tops.size]);
  }
}
return lines;
"""
"""Each date of the page ('21 Sep 1936') and how many lines it is drawn on."""


def test_a_runs_simulated_date_stays_on_one_line_in_a_narrow_window(browser, tmp_path):
    """QA of session 46: at 400 px the runs' status column and a run's page broke the date of
    its progress, '(21' above 'Sep 1936)'."""
    from chistka.web.jobs import RunJobs
    from chistka.web.layout import page
    from chistka.web.run_pages import run_page, runs_table

    jobs = RunJobs(tmp_path / "runs")
    base = {"scenario": "great-terror", "seed": 3, "scale": 0.01, "status": "running"}
    base |= {"submitted": "2000-01-01T00:00:00+00:00", "set": [], "without": []}
    single = base | {"id": "great-terror-3-20000101-000000-abcd", "seeds": 1}
    single |= {"days_done": 400, "days_total": 2222, "day_date": "1936-09-21"}
    ensemble = base | {"id": "great-terror-3-20000101-000000-abce", "seeds": 8}
    ensemble |= {"runs_done": 3, "runs_total": 8, "run_seed": 6, "run_days_done": 400}
    ensemble |= {"run_days_total": 2222, "run_day_date": "1936-09-21"}
    pages = {"runs.html": page("Runs", runs_table([single, ensemble]))}
    for state in (single, ensemble):
        pages[f"{state['id']}.html"] = run_page(jobs, state)
    size = browser.get_window_size()
    try:
        browser.set_window_size(400, 900)
        for name, text in pages.items():
            path = tmp_path / name
            path.write_text(re.sub(r'<meta http-equiv="refresh"[^>]*>', "", text))
            browser.get(path.as_uri())
            lines = browser.execute_script(DATES_ON_LINES)
            assert ["21 Sep 1936", 1] in lines, (name, lines)
            assert all(count == 1 for _, count in lines), (name, lines)
    finally:
        browser.set_window_size(size["width"], size["height"])


AXIS_TITLES = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).flatMap((div) => {
  const chart = div.getBoundingClientRect();
  return Array.from(div.querySelectorAll('.xtitle')).map((title) => {
    const box = title.getBoundingClientRect();
    return [title.textContent, box.left - chart.left, chart.right - box.right];
  });
});
"""
"""Each chart's x axis title, and how far it is inside the chart's left and right edges."""


@pytest.mark.parametrize("make", ["_morris_result", "_sobol_result"])
def test_the_sensitivity_page_fits_a_narrow_window(browser, tmp_path, make):
    """QA 44 (5): sensitivity.html, unstyled, was 927 px wide in a 400 px window (its tables
    outside any scroll container); in the reports' shared style a wide table scrolls inside
    the page. QA of session 46: each chart's x axis title, one long line, was cut at both
    edges of the chart."""
    import test_calibrate
    from chistka.report.sensitivity import write_sensitivity_report

    result = getattr(test_calibrate, make)()
    page = write_sensitivity_report(result, tmp_path / "sensitivity.html")
    size = browser.get_window_size()
    wide = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    try:
        browser.set_window_size(400, 900)
        browser.get(page.as_uri())
        time.sleep(1)  # plotly lays the charts out again once the page has its width
        assert browser.execute_script(wide) <= 0, "sensitivity.html is wider than 400 px"
        assert browser.execute_script("return document.querySelectorAll('.main-svg').length")
        titles = browser.execute_script(AXIS_TITLES)
        assert len(titles) == len(result.observables), titles
        for text, left, right in titles:
            assert left >= 0 and right >= 0, (text, left, right)
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_a_charts_camera_downloads_it_with_its_title(browser, tmp_path):
    """Since a chart's title went above it in HTML (QA 44), the modebar's camera gave a PNG with
    no title, as plot-image.png. It now gives the chart with its title over the plot (wrapped to the
    chart's width, the image taller by it), named by the title; the page's chart draws none."""
    import plotly.graph_objects as go

    from chistka.report.common import FigureRenderer, page

    title = "Arrests by channel of denunciation in the party purge of 1937 and after"
    fig = go.Figure(go.Bar(x=["testimony", "denunciation"], y=[3, 5]))
    fig.update_layout(title=f"{title}<br><sup>a share of the arrests of each year</sup>")
    path = tmp_path / "chart.html"
    path.write_text(page("a chart", [FigureRenderer().add(fig, "arrests")]), encoding="utf-8")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    size = browser.get_window_size()
    try:
        browser.set_window_size(500, 900)
        browser.get(path.as_uri())
        chart = "document.querySelector('.plotly-graph-div')"
        assert browser.execute_script(f"return {chart}.querySelectorAll('.gtitle').length") == 0
        width, height = browser.execute_script(
            f"var r = {chart}.getBoundingClientRect(); return [Math.round(r.width), r.height]"
        )
        button = '[data-title="Download plot as a PNG"]'
        browser.execute_script(f"{chart}.querySelector('{button}').click()")
        png = downloads / f"{title.replace(' ', '-')}.png"
        for _ in range(100):
            if png.is_file() and png.stat().st_size:
                break
            time.sleep(0.1)
        assert [file.name for file in downloads.iterdir()] == [png.name]
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        shape = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert shape[0] == width and shape[1] > height + 40, (shape, width, height)
        svg = browser.execute_async_script(
            f"var done = arguments[0]; Plotly.toImage(window.chistkaImageFigure({chart}), "
            "{format: 'svg'}).then(function (url) { done(decodeURIComponent(url)); });"
        )
        assert "Arrests by channel" in svg and "a share of the arrests of each year" in svg
        assert title not in svg  # wrapped to 500 px
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_a_refused_comparison_is_seen_beside_the_ticks(server, browser):
    """QA of session 42: one run ticked and Compare pressed, the message was at the top of the
    index, out of sight, the ticks at its bottom. Last in this module: its runs are made up."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    address, runs = server
    for number in range(12):  # enough rows to put the table below the fold
        run_id = f"made-up-{number:02d}"
        state = {"id": run_id, "scenario": "great-terror", "seed": 1, "scale": 0.01}
        (runs / f"{run_id}.json").write_text(
            json.dumps({**state, "status": "done", "submitted": f"2000-01-01T00:00:{number:02d}"})
        )
    size = browser.get_window_size()
    try:
        browser.set_window_size(1000, 700)
        browser.get(address + "/")
        browser.find_element(By.CSS_SELECTOR, 'input[name="run"][value="made-up-03"]').click()
        button = browser.find_element(By.ID, "compare")
        button.click()
        WebDriverWait(browser, 60).until(lambda _: gone(button))
        error = browser.find_element(By.ID, "error")
        assert error.get_attribute("data-field") == "run" and "tick two" in error.text
        box = browser.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return [r.top, r.bottom, window.innerHeight, window.scrollY];",
            error,
        )
        assert box[3] > 0 and 0 <= box[0] and box[1] <= box[2], box  # scrolled, in sight
        ticked = browser.find_element(By.CSS_SELECTOR, 'input[name="run"][value="made-up-03"]')
        assert ticked.is_selected()
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_a_wide_table_and_a_long_message_in_a_narrow_window(server, browser):
    """QA of session 45: at 400 px the runs table scrolled with no hint (its "seed" cut to
    "see"), and a 3,000-digit scale and a 5,000-character parameter, echoed whole, made the
    page 28,000 px wide."""
    from selenium.webdriver.common.by import By

    address, runs = server
    run_id = "party-purges-1921-1936-3-20000101-000000-abce"
    state = {"id": run_id, "scenario": "party-purges-1921-1936", "seed": 3, "scale": 0.01}
    state |= {"status": "failed", "error": "made up", "submitted": "2000-01-01T00:00:00+00:00"}
    (runs / f"{run_id}.json").write_text(json.dumps(state))
    wide = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    size = browser.get_window_size()
    try:
        browser.set_window_size(1280, 900)
        browser.get(address + "/")
        assert not browser.find_element(By.ID, "scroll-note").is_displayed()
        browser.set_window_size(400, 900)
        browser.get(address + "/")
        assert browser.find_element(By.ID, "scroll-note").is_displayed()
        table = browser.find_element(By.ID, "runs")
        scrolled = browser.execute_script("return arguments[0].scrollWidth", table)
        assert scrolled > table.size["width"]
        fill(browser, scenario="great-terror", scale="9" * 3000, set="x" * 5000 + "=1")
        assert "too large" in browser.find_element(By.ID, "error").text
        assert browser.execute_script(wide) <= 0, "a long message is wider than the window"
    finally:
        browser.set_window_size(size["width"], size["height"])
