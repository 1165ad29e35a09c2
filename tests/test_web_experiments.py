"""The browser app's experiments (chistka.web.experiments): designs, submissions, effects.

A submitted experiment run to its end (six small runs in a worker process) is in the slow tier,
beside the same path driven in Chromium (tests/test_web_browser.py).
"""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from chistka.analysis.experiment import builtin_experiments
from chistka.web.app import create_app
from chistka.web.experiments import arms_list, effects_note, effects_table, spread_table
from chistka.web.jobs import write_json_atomically
from test_experiment import DESIGN, LATE_EFFECTS, OUTCOMES, SHARE_EFFECTS
from test_terror import TERROR
from test_web import wait_for
from tomltext import to_toml


@pytest.fixture
def designs(tmp_path):
    folder = tmp_path / "designs"
    folder.mkdir()
    (folder / "small.toml").write_text(to_toml(TERROR))
    (folder / "small-levers.toml").write_text(DESIGN.format(outcomes=json.dumps(OUTCOMES)))
    (folder / "Not_A_Name.toml").write_text("refused: its name cannot start a run id")
    return folder


@pytest.fixture
def client(tmp_path, designs):
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        yield client


def test_the_index_lists_the_built_in_designs_and_the_folders(client):
    page = client.get("/").text
    for name in [*builtin_experiments(), "small-levers"]:
        assert f'href="/experiments/{name}"' in page
    assert "/experiments/Not_A_Name" not in page  # named as refused (below), not offered


NAME_WORDS = "a design file's name must be lower-case letters, digits and hyphens"
"""What the app says of a design file whose name it cannot offer."""


def test_a_design_file_whose_name_cannot_be_offered_is_named_as_refused(designs, tmp_path):
    """QA of session 43: a design file whose name has capitals, spaces or underscores, or is a
    built-in design's, was left out of the index and `GET /api/experiments` without a word."""
    (designs / "Odd Name.toml").write_text("[experiment\n")
    (designs / "no-halt.toml").write_text((designs / "small-levers.toml").read_text())
    (designs / "Scenario_File.toml").write_text(to_toml(TERROR))  # not a design: left alone
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        listed = {entry["file"]: entry for entry in client.get("/api/experiments").json()}
        assert "Scenario_File.toml" not in listed
        for file in ("Odd Name.toml", "Not_A_Name.toml"):
            assert listed[file]["name"] is None and listed[file]["page"] is None
            assert NAME_WORDS in listed[file]["refused"]
        assert "(e.g. odd-name.toml)" in listed["Odd Name.toml"]["refused"]
        assert "a built-in design is named no-halt" in listed["no-halt.toml"]["refused"]
        assert listed["no-halt.toml"]["page"] is None
        assert client.get("/api/experiments/no-halt").json()["file"] == "built-in"
        refused = client.get("/").text.partition("id='refused-experiments'")[2]
        for file in ("Odd Name.toml", "Not_A_Name.toml", "no-halt.toml"):
            item = f'<li>{html.escape(file)}: <span class="error" data-file="{html.escape(file)}">'
            assert item in refused
        assert html.escape(NAME_WORDS) in refused and "a built-in design is named" in refused


def test_the_index_gives_each_designs_title_and_question(client):
    """QA of session 42: the index listed the experiments by name only, where each scenario
    has its description."""
    page = client.get("/").text
    listed = page[page.index("<ul id='experiments'>") :]
    listed = listed[: listed.index("</ul>")]
    for name in builtin_experiments():
        facts = client.get(f"/api/experiments/{name}").json()
        item = listed[listed.index(f'href="/experiments/{name}"') :]
        item = item[: item.index("</li>")]
        assert html.escape(facts["title"]) in item and html.escape(facts["question"]) in item
    assert "What do the levers do?" in listed and "<b>Small</b>" in listed


def test_a_design_page_shows_the_question_arms_and_a_form(client):
    page = client.get("/experiments/centre-or-periphery")
    assert page.status_code == 200
    assert 'id="arms"' in page.text and 'id="experiment-form"' in page.text
    assert "without operations.order_00447" in page.text
    assert "interrogation.names_mean = 0.0" in page.text
    # QA of session 40 (B9): outcomes were named by their codes alone
    assert "Arrests through testimony, 1937-1938 <code>arrests_by_channel:testimony/1937-1938" in (
        page.text
    )
    facts = client.get("/api/experiments/centre-or-periphery").json()
    assert facts["scenario"] == "great-terror" and len(facts["arms"]) == 7
    assert client.get("/experiments/nope").status_code == 404
    assert {d["name"] for d in client.get("/api/experiments").json()} >= set(builtin_experiments())


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"experiment": "nope"}, "experiment", "experiment must be one of centre-or-periphery"),
        ({"experiment": "small-levers", "seeds": "0"}, "seeds", "at least 1 run per arm (got 0)"),
        ({"experiment": "small-levers", "seeds": "65"}, "seeds", "seeds 65: at most 64 seeds"),
        ({"experiment": "small-levers", "seeds": "9-8"}, "seeds", "the span ends before it"),
        ({"experiment": "small-levers", "seeds": "1-65"}, "seeds", "65 seeds; at most 64 seeds"),
        ({"experiment": "small-levers", "seeds": "1-2-3"}, "seeds", "neither a count nor a span"),
        ({"experiment": "small-levers", "scale": "2"}, "scale", "scale must be in (0, 1] (got 2)"),
        ({"experiment": "small-levers", "scale": "1e-9"}, "scale", "arm 'baseline'"),
    ],
)
def test_a_bad_submission_is_refused_naming_the_field_and_starts_nothing(
    client, data, field, words
):
    page = client.post("/experiments", data=data, follow_redirects=False)
    assert page.status_code == 422
    assert f'data-field="{field}"' in page.text
    assert html.escape(words) in page.text
    answer = client.post("/api/experiments", json=data)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", field]
    assert client.get("/api/runs").json() == []


def test_every_bad_field_of_the_experiment_form_is_named_not_the_first_alone(client):
    """QA of session 42: seeds `abc` and scale `0.5x` were refused naming the scale alone."""
    data = {"experiment": "small-levers", "seeds": "abc", "scale": "0.5x", "vary": "x=1"}
    page = client.post("/experiments", data=data, follow_redirects=False)
    assert page.status_code == 422
    paragraph = r'<p class="error" id="([^"]+)" data-field="([^"]+)">([^<]*)</p>'
    errors = re.findall(paragraph, page.text)
    assert [(i, f) for i, f, _ in errors] == [
        ("error", "seeds"),
        ("error-scale", "scale"),
        ("error-vary", "vary"),
    ]
    seeds_words = "seeds: 'abc' is neither a count nor a span; give N (that many seeds from the"
    assert errors[0][2].startswith(html.escape(seeds_words))
    assert html.escape("scale must be a number in (0, 1] (got '0.5x')") == errors[1][2]
    assert "give 2 to 12 values" in errors[2][2]
    answer = client.post("/api/experiments", json=data)
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [
        ["body", "seeds"],
        ["body", "scale"],
        ["body", "vary"],
    ]
    both = {"experiment": "small-levers", "scale": "2", "set": "interrogation.name_mean=1"}
    page = client.post("/experiments", data=both, follow_redirects=False).text
    assert [f for _, f, _ in re.findall(paragraph, page)] == ["scale", "set"]
    assert client.get("/api/runs").json() == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (["interrogation.name_mean=1"], "did you mean 'names_mean'"),
        (["denunciation.arrest_probability=0.1"], "the timeline sets it again on 1938-11-17"),
        (["interrogation.names_mean=1,2"], "takes one value"),
    ],
)
def test_a_bad_variant_is_refused_naming_the_set_field(client, changes, words):
    data = {"experiment": "small-levers", "set": "\n".join(changes)}
    page = client.post("/experiments", data=data, follow_redirects=False)
    assert page.status_code == 422 and 'data-field="set"' in page.text
    assert html.escape(words) in page.text
    assert html.escape(changes[0]) in page.text  # the form keeps what was sent
    answer = client.post("/api/experiments", json={"experiment": "small-levers", "set": changes})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "set"]
    wrong = client.post("/api/experiments", json={"experiment": "small-levers", "set": "x=1"})
    assert wrong.status_code == 422
    assert client.get("/api/runs").json() == []


TWINS = DESIGN.format(outcomes=json.dumps(OUTCOMES)).replace(
    'label = "No names"', 'label = "No mass operation"'
)
"""The small design with two arms of one label, which the loader refuses."""

TWINS_WORDS = "arms[1].label: arm labels must be unique"


def test_a_design_whose_arms_share_a_label_is_refused_naming_the_field(designs, tmp_path):
    """QA of session 42: two arms of one label would be one column of the overview.

    Its page and a form submitting it are HTML in the app's layout with the message and a link
    back (they were JSON), the API's answer JSON.
    """
    (designs / "twins.toml").write_text(TWINS)
    words = html.escape(TWINS_WORDS)
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        page = client.get("/experiments/twins")
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
        assert words in page.text and 'data-field="experiment"' in page.text
        assert "<title>Experiment twins: refused - chistka</title>" in page.text
        assert 'href="/" id="back"' in page.text and "twins.toml" in page.text
        assert str(designs) not in page.text  # the file by its name, not the server's path
        assert client.get("/experiments/small-levers").status_code == 200
        data = {"experiment": "twins"}
        form = client.post("/experiments", data=data, follow_redirects=False)
        assert form.status_code == 422 and form.headers["content-type"].startswith("text/html")
        assert words in form.text and 'data-field="experiment"' in form.text
        assert client.get("/api/experiments/twins").status_code == 422
        answer = client.post("/api/experiments", json=data)
        assert answer.status_code == 422 and TWINS_WORDS in answer.json()["detail"][0]["msg"]
        assert answer.json()["detail"][0]["loc"] == ["body", "experiment"]
        assert client.get("/api/runs").json() == []


def test_the_list_of_designs_gives_each_designs_page(designs, tmp_path):
    """`GET /api/experiments` gave a design by the name inside its file, which need not be the
    name its page takes (the file's): a client could not build the page's address from it."""
    (designs / "renamed.toml").write_text((designs / "small-levers.toml").read_text())
    (designs / "twins.toml").write_text(TWINS)
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        listed = {entry["file"]: entry for entry in client.get("/api/experiments").json()}
        renamed = listed["renamed.toml"]
        assert renamed["name"] != "renamed" and renamed["page"] == "/experiments/renamed"
        assert listed["twins.toml"]["page"] == "/experiments/twins"
        for entry in listed.values():
            expected = 422 if "refused" in entry else 200
            if entry["page"] is not None:  # None: a file whose name cannot be offered
                assert client.get(entry["page"]).status_code == expected, entry["page"]


def test_a_design_as_data_gives_its_file_and_page_as_the_list_does(designs, tmp_path):
    """QA of session 43: `GET /api/experiments/NAME` lacked the "file" and "page" the list gives
    each design, and two designs of one "name" inside their files could not be told apart."""
    (designs / "renamed.toml").write_text((designs / "small-levers.toml").read_text())
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        for entry in client.get("/api/experiments").json():
            if entry["page"] is None:  # a file whose name cannot be offered
                continue
            name = entry["page"].removeprefix("/experiments/")
            assert client.get(f"/api/experiments/{name}").json() == entry
        renamed = client.get("/api/experiments/renamed").json()
        same = client.get("/api/experiments/small-levers").json()
        assert renamed["name"] == same["name"] and renamed["file"] == "renamed.toml"
        assert renamed["page"] == "/experiments/renamed"
        assert client.get("/api/experiments/no-halt").json()["file"] == "built-in"


def test_a_refused_design_is_named_in_the_lists_and_the_others_still_served(designs, tmp_path):
    """A refused design in the folder made `GET /api/experiments` a 422 for every design, and
    the index hid it: now the list serves the others and names each refused one with its file
    and the loader's message."""
    (designs / "twins.toml").write_text(TWINS)
    (designs / "broken.toml").write_text("[experiment\nname = 'x'\n")
    with TestClient(create_app(tmp_path / "runs", experiments_folder=designs)) as client:
        answer = client.get("/api/experiments")
        assert answer.status_code == 200
        listed = {entry["file"]: entry for entry in answer.json()}
        files = {"small-levers.toml", "twins.toml", "broken.toml", "Not_A_Name.toml", "built-in"}
        assert files == set(listed)
        assert listed["small-levers.toml"]["arms"] and "refused" not in listed["small-levers.toml"]
        assert listed["twins.toml"]["name"] == "twins" and "arms" not in listed["twins.toml"]
        assert TWINS_WORDS in listed["twins.toml"]["refused"]
        assert "is not valid TOML" in listed["broken.toml"]["refused"]
        assert len(answer.json()) == len(builtin_experiments()) + 4  # and Not_A_Name.toml
        assert str(designs) not in answer.text
        index = client.get("/")
        assert index.status_code == 200
        offered, _, refused = index.text.partition("id='refused-experiments'")
        assert 'href="/experiments/small-levers"' in offered.split("<h2>Experiments")[1]
        assert 'href="/experiments/twins"' not in offered.split("<h2>Experiments")[1]
        assert "twins.toml" in refused and html.escape(TWINS_WORDS) in refused
        assert "broken.toml" in refused and "is not valid TOML" in refused
        assert client.get("/experiments/broken").status_code == 422
        (designs / "twins.toml").write_text(DESIGN.format(outcomes=json.dumps(OUTCOMES)))
        fixed = client.get("/").text  # a fixed file is offered at the next request
        assert "twins.toml" not in fixed and 'href="/experiments/twins"' in fixed
        assert client.get("/experiments/twins").status_code == 200


def offered_designs(page: str) -> str:
    """The index's list of the designs it offers (not those it names as refused)."""
    return page.partition("<ul id='experiments'>")[2].partition("</ul>")[0]


def test_the_designs_folder_is_read_again_as_its_files_come_change_and_go(client, designs):
    """QA: the experiments folder was read at the server's start only, so that a design file
    added, fixed, broken, renamed or removed afterwards needed a restart (and the refusals said
    so)."""
    small_levers = DESIGN.format(outcomes=json.dumps(OUTCOMES))
    assert 'href="/experiments/added"' not in client.get("/").text
    (designs / "added.toml").write_text(small_levers)
    assert 'href="/experiments/added"' in offered_designs(client.get("/").text)
    listed = {entry["file"]: entry for entry in client.get("/api/experiments").json()}
    assert listed["added.toml"]["page"] == "/experiments/added"
    assert "refused" not in listed["added.toml"]
    assert client.get("/experiments/added").status_code == 200
    assert client.get("/api/experiments/added").json()["file"] == "added.toml"
    data = {"experiment": "added", "seeds": "0"}  # a known design: its seeds are refused
    form = client.post("/experiments", data=data, follow_redirects=False)
    assert form.status_code == 422 and 'data-field="seeds"' in form.text
    answer = client.post("/api/experiments", json=data)
    assert answer.json()["detail"][0]["loc"] == ["body", "seeds"]

    (designs / "added.toml").write_text(TWINS)
    index = client.get("/").text
    assert 'href="/experiments/added"' not in offered_designs(index)
    refused = index.partition("id='refused-experiments'")[2]
    assert "added.toml" in refused and html.escape(TWINS_WORDS) in refused
    listed = {entry["file"]: entry for entry in client.get("/api/experiments").json()}
    assert TWINS_WORDS in listed["added.toml"]["refused"]
    assert client.get("/experiments/added").status_code == 422

    (designs / "added.toml").write_text(small_levers)
    (designs / "added.toml").rename(designs / "Added Design.toml")
    listed = {entry["file"]: entry for entry in client.get("/api/experiments").json()}
    assert "added.toml" not in listed and listed["Added Design.toml"]["page"] is None
    assert "restart the server" not in listed["Added Design.toml"]["refused"]
    assert client.get("/experiments/added").status_code == 404

    (designs / "Added Design.toml").unlink()
    index = client.get("/").text
    assert "/experiments/added" not in index and "Added Design.toml" not in index
    assert "Added Design.toml" not in {e["file"] for e in client.get("/api/experiments").json()}
    assert client.get("/api/experiments/added").status_code == 404


def test_the_designs_folder_is_not_read_again_while_nothing_changed(designs, monkeypatch):
    """Each request that lists or opens designs looks at the folder: the files' names, sizes and
    times, not their contents, unless one of them changed."""
    from chistka.web import experiments

    current = experiments.Designs(designs)

    def read(path):
        raise AssertionError(f"{path.name} was read again though nothing changed")

    monkeypatch.setattr(experiments, "is_design", read)
    current.refresh()
    assert "small-levers" in current.names()
    monkeypatch.undo()
    (designs / "another.toml").write_text((designs / "small-levers.toml").read_text())
    current.refresh()
    assert "another" in current.names()


def test_a_variant_is_kept_in_the_run_state_and_shown(client):
    body = {"experiment": "small-levers", "seeds": 1, "set": ["interrogation.names_mean=3"]}
    state = client.post("/api/experiments", json=body).json()
    assert state["set"] == ["interrogation.names_mean=3"] and state["experiment"] == "small-levers"
    page = client.get(f"/runs/{state['id']}").text
    assert "Variant, in the scenario and every arm" in page


@pytest.mark.parametrize("api", [False, True])
def test_the_seeds_per_arm_take_a_span_as_the_command_line_does(client, api):
    """QA of session 46: the form took a count of seeds alone, where `chistka experiment run
    --seeds` (`parse_seeds`) also takes a span A-B. A span is kept as its first seed and its
    length, and the page names its seeds."""
    assert "or the seeds A to B, e.g. 9-16" in client.get("/experiments/small-levers").text
    data = {"experiment": "small-levers", "seeds": "9-10"}
    if api:
        state = client.post("/api/experiments", json=data).json()
    else:
        page = client.post("/experiments", data=data, follow_redirects=False)
        assert page.status_code == 303
        state = client.get(f"/api/runs/{page.headers['location'].rpartition('/')[2]}").json()
    assert (state["seed"], state["seeds"]) == (9, 2)
    assert "seeds 9-10 per arm" in client.get(f"/runs/{state['id']}").text


def test_the_api_gives_a_folder_designs_run_without_the_servers_path(client, designs):
    """A run of a design of the experiments folder gave "design" as the server's path to the
    file in `POST /api/experiments`, `GET /api/runs` and `GET /api/runs/ID` (QA 43), while the
    list of designs takes care to give its file by name."""
    answer = client.post("/api/experiments", json={"experiment": "small-levers", "seeds": 1})
    assert answer.status_code == 202
    for text, state in (
        (answer.text, answer.json()),
        (client.get("/api/runs").text, client.get("/api/runs").json()[0]),
        (client.get(f"/api/runs/{answer.json()['id']}").text, None),
    ):
        assert str(designs) not in text
        if state is not None:
            assert state["design"] == "small-levers.toml"


def test_an_unknown_field_of_the_json_body_is_named(client):
    answer = client.post("/api/experiments", json={"experiment": "small-levers", "seed": 3})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "seed"]


@pytest.mark.slow
def test_a_submitted_experiment_runs_and_its_page_gives_the_effects_and_files(client, tmp_path):
    data = {"experiment": "small-levers", "seeds": "2", "set": "arrest.delay_days=25"}
    answer = client.post("/experiments", data=data)
    assert answer.status_code == 200  # followed to the run's page
    run_id = answer.url.path.rsplit("/", 1)[1]
    state = wait_for(client, run_id)
    assert state["status"] == "done", state
    assert state["experiment"] == "small-levers" and state["seeds"] == 2
    document = json.loads((tmp_path / "runs" / run_id / "experiment.json").read_text())
    assert document["set"] == {"arrest.delay_days": "25"}
    page = client.get(f"/runs/{run_id}").text
    assert 'id="effects"' in page and "No mass operation" in page
    fit = pd.read_csv(tmp_path / "runs" / run_id / "fit.csv")
    inside = fit[fit["arm"] == "baseline"]["calibration_inside"]
    if fit["calibration_rows"].max():
        assert f"{', '.join(str(n) for n in inside)} of" in page
    for name in ("experiment.html", "effects.csv", "outcomes.csv", "experiment.json"):
        assert client.get(f"/runs/{run_id}/files/{name}").status_code == 200
    effects = pd.read_csv(tmp_path / "runs" / run_id / "effects.csv")
    assert len(state["effects"]) == len(effects) == 3 * len(OUTCOMES)
    row = effects[(effects["arm"] == "no-names") & (effects["outcome"] == OUTCOMES[1])].iloc[0]
    shown = next(
        r for r in state["effects"] if r["arm"] == "no-names" and r["outcome"] == OUTCOMES[1]
    )
    assert float(shown["difference"]) == pytest.approx(row["difference"])
    assert f"{row['relative']:+.1%}" in page
    index = client.get("/").text
    assert "experiment small-levers (small-terror" in index or "experiment small-levers" in index
    assert f'value="{run_id}"' not in index  # an experiment is not ticked for a comparison
    assert not list((tmp_path / "runs").glob(".*.tmp"))


@pytest.mark.parametrize(
    ("vary", "changes", "words"),
    [
        ("interrogation.names_mean", "", "expected PARAMETER=VALUE[,VALUE...]"),
        ("interrogation.names_mean=1", "", "give 2 to 12 values (got 1)"),
        ("interrogation.names_mean=1,1", "", "a value is repeated (1, 1)"),
        ("interrogation.name_mean=1,2", "", "did you mean 'names_mean'"),
        ("interrogation.names_mean=1,2", "interrogation.names_mean=3", "also given with set"),
        ("denunciation.arrest_probability=0.1,0.2", "", "the timeline sets it again on 1938-11-17"),
    ],
)
def test_bad_values_to_vary_are_refused_naming_the_vary_field(client, vary, changes, words):
    data = {"experiment": "small-levers", "vary": vary, "set": changes}
    page = client.post("/experiments", data=data, follow_redirects=False)
    assert page.status_code == 422 and 'data-field="vary"' in page.text
    assert html.escape(words) in page.text
    assert f'id="vary" size="60" value="{html.escape(vary)}"' in page.text  # kept in the form
    body = {"experiment": "small-levers", "vary": vary, "set": [changes] if changes else []}
    answer = client.post("/api/experiments", json=body)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "vary"]
    listed = client.post("/api/experiments", json={"experiment": "small-levers", "vary": ["x=1"]})
    assert listed.status_code == 422 and listed.json()["detail"][0]["loc"] == ["body", "vary"]
    assert client.get("/api/runs").json() == []


def test_values_to_vary_are_kept_in_the_run_state_and_shown(client):
    body = {"experiment": "small-levers", "seeds": 1, "vary": " interrogation.names_mean=1,3 "}
    state = client.post("/api/experiments", json=body).json()
    assert state["vary"] == "interrogation.names_mean=1,3" and state["set"] == []
    page = client.get(f"/runs/{state['id']}").text
    assert '<code id="vary">interrogation.names_mean=1,3</code>' in page
    index = client.get("/").text
    assert "experiment small-levers (small.toml) at values of interrogation.names_mean" in index
    plain = client.post("/api/experiments", json={"experiment": "small-levers"}).json()
    assert "vary" not in plain  # an experiment without values to vary is as before


def test_a_value_folder_serves_only_an_experiments_files(client, tmp_path):
    body = {"experiment": "small-levers", "seeds": 1, "vary": "interrogation.names_mean=1,3"}
    run_id = client.post("/api/experiments", json=body).json()["id"]
    for path in ("v1/experiment.html", "v01/summary.json", "../experiment.html", "v01/x.html"):
        assert client.get(f"/runs/{run_id}/files/{path}").status_code == 404
    assert client.get("/runs/nope/files/v01/experiment.html").status_code == 404


@pytest.mark.slow
def test_an_experiment_at_two_values_runs_and_its_page_gives_the_spread_and_files(client, tmp_path):
    data = {"experiment": "small-levers", "seeds": "1", "vary": "arrest.delay_days=15,25"}
    answer = client.post("/experiments", data=data)
    assert answer.status_code == 200  # followed to the run's page
    run_id = answer.url.path.rsplit("/", 1)[1]
    state = wait_for(client, run_id, timeout=300)
    assert state["status"] == "done", state
    assert state["runs_total"] == 2 * 3 and state["runs_done"] == 6
    output = tmp_path / "runs" / run_id
    document = json.loads((output / "variants.json").read_text())
    assert document["vary"] == {"arrest.delay_days": ["15", "25"]}
    for folder, days in (("v01", "15"), ("v02", "25")):
        assert json.loads((output / folder / "experiment.json").read_text())["set"] == {
            "arrest.delay_days": days
        }
    spread = pd.read_csv(output / "spread.csv")
    assert len(state["spread"]) == len(spread) > len(OUTCOMES)  # an effect on nothing has no row
    page = client.get(f"/runs/{run_id}").text
    assert 'id="spread"' in page and "No mass operation" in page
    row = spread[(spread["arm"] == "no-mass") & (spread["outcome"] == OUTCOMES[0])].iloc[0]
    assert f"{row['lowest']:+.1%}" in page and f"{row['highest']:+.1%}" in page
    for name in ("variants.html", "variants.json", "variants.csv", "spread.csv"):
        assert client.get(f"/runs/{run_id}/files/{name}").status_code == 200
    for folder in ("v01", "v02"):
        assert f'href="/runs/{run_id}/files/{folder}/experiment.html"' in page
        shown = client.get(f"/runs/{run_id}/files/{folder}/experiment.html")
        assert shown.status_code == 200 and "plotly" in shown.text
        assert client.get(f"/runs/{run_id}/files/{folder}/effects.csv").status_code == 200
    report = client.get(f"/runs/{run_id}/files/variants.html").text
    assert 'href="v01/experiment.html"' in report  # relative: served by the route above
    assert not list((tmp_path / "runs").glob(".*.tmp"))


def test_an_experiments_arm_folder_is_listed_and_its_runs_files_served(tmp_path):
    """QA of session 39: experiment.html links each arm's folder (`baseline/`), which was 404."""
    runs = tmp_path / "runs"
    run_id = "no-halt-default-1-abcd"
    output = runs / run_id
    seed_run = output / "baseline" / "p000-s001"
    seed_run.mkdir(parents=True)
    (output / "experiment.html").write_text('<a href="baseline/">baseline/</a>')
    (output / "baseline" / "plan.json").write_text("[]")
    (seed_run / "summary.json").write_text('{"fit": {}}')
    (seed_run / "secret.txt").write_text("not a run's file")
    (output / ".baseline.seeds.tmp").mkdir()
    state = {"id": run_id, "scenario": "great-terror", "seed": None, "scale": None}
    write_json_atomically(
        runs / f"{run_id}.json",
        {**state, "experiment": "no-halt", "status": "done", "submitted": "now"},
    )
    with TestClient(create_app(runs)) as client:
        for path in ("baseline/", "baseline"):
            listing = client.get(f"/runs/{run_id}/files/{path}")
            assert listing.status_code == 200, path
            assert f'href="/runs/{run_id}/files/baseline/p000-s001/"' in listing.text
            assert f'href="/runs/{run_id}/files/baseline/plan.json"' in listing.text
        served = client.get(f"/runs/{run_id}/files/baseline/p000-s001/summary.json")
        assert served.status_code == 200 and served.json() == {"fit": {}}
        assert "summary.json" in client.get(f"/runs/{run_id}/files/baseline/p000-s001/").text
        for path in (
            "baseline/p000-s001/secret.txt",
            "baseline/..%2F..%2Fx.json",
            ".baseline.seeds.tmp/",
            "baseline/p000-s009/summary.json",
            "Baseline/",
        ):
            assert client.get(f"/runs/{run_id}/files/{path}").status_code == 404, path


def test_the_effects_table_says_its_units_and_gives_a_change_of_shares_in_points(tmp_path):
    """QA of session 40 (B9): 'mean' and 'change' had no unit, and a share's mean showed '0'."""
    SHARE_EFFECTS.assign(label="an arm").to_csv(tmp_path / "effects.csv", index=False)
    page = effects_table(tmp_path / "effects.csv")
    assert "<th>unit</th>" in page
    assert "<td>share, % (change in points)</td>" in page and "<td>arrests</td>" in page
    assert '<td class="number">17.6%</td>' in page
    assert '<td class="number">+2.0 points</td>' in page and "+1.2 points to +2.8 points" in page
    assert '<td class="number">-15,124</td>' in page


def test_the_effects_are_explained_under_their_table(tmp_path):
    """QA of session 42: the page gave the effects without the report's reading of them: what
    a change is, a blank row (an outcome the arm leaves out), an interval past -100%."""
    path = tmp_path / "effects.csv"
    SHARE_EFFECTS.assign(label="an arm").to_csv(path, index=False)
    note = effects_note(path)
    assert 'id="effects-note"' in note and "relative change: that change divided" in note
    assert "Blank: the outcome names what the arm leaves out" in note
    assert "below -100%" not in note
    SHARE_EFFECTS.assign(label="an arm", relative_low=-1.25).to_csv(path, index=False)
    assert "below -100% (fewer than none) is the mark of too few seeds" in effects_note(path)
    assert "over 2 seeds" in effects_note(path)


def test_an_arm_identical_to_the_baseline_reads_no_change_at_any_seed(tmp_path):
    """Review of session 42: an arm whose lever acts after the outcome's period showed
    "+0 (+0 to +0)" and "+0.0%"; the page says what the report says."""
    path = tmp_path / "effects.csv"
    LATE_EFFECTS.assign(label=["baseline", "an arm", "baseline", "an arm", "late"]).to_csv(
        path, index=False
    )
    page = effects_table(path)
    late = page[page.index("<td>late</td>") :]
    assert '<td class="number" colspan="4">no change at any seed</td>' in late
    assert "+0" not in late and "+0.0%" not in late
    assert page.count("no change at any seed") == 1 and '<td class="number">-15,124</td>' in page
    words = html.escape("No change at any seed: the arm's value is the scenario's")
    assert words in effects_note(path)
    SHARE_EFFECTS.assign(label="an arm").to_csv(path, index=False)
    assert "No change at any seed" not in effects_note(path)


def test_a_folder_designs_scenario_file_is_named_not_linked_to_a_missing_page(designs, tmp_path):
    """QA of session 42: a design of the experiments folder names its scenario by a file
    (small.toml), and its page and its run's page linked /scenarios/small.toml, a 404."""
    runs = tmp_path / "runs"
    runs.mkdir()
    state = {"id": "small-levers-1-a", "scenario": "small.toml", "seed": None, "scale": None}
    write_json_atomically(
        runs / "small-levers-1-a.json",
        {**state, "experiment": "small-levers", "seeds": 1, "status": "failed", "error": "x"}
        | {"submitted": "2026-01-01T00:00:00"},
    )
    with TestClient(create_app(runs, experiments_folder=designs)) as client:
        design = client.get("/experiments/small-levers").text
        run = client.get("/runs/small-levers-1-a").text
        builtin = client.get("/experiments/no-halt").text
    for page in (design, run):
        assert 'href="/scenarios/small.toml"' not in page
        assert "<code>small.toml</code> (a file of the experiments folder)" in page
    assert (
        "on scenario <code>small.toml</code> (a file of the experiments folder), 1 seed per arm"
        in run
    )
    assert '<a href="/scenarios/great-terror">great-terror</a>' in builtin


def test_an_experiments_page_links_each_arms_runs(tmp_path):
    """QA of session 42: the page said the arms' runs were "on the server", unlinked."""
    output = tmp_path / "out"
    for name in ("no-mass", "baseline", "no-names", ".no-names.seeds.tmp"):
        (output / name).mkdir(parents=True)
    (output / "fit.csv").write_text("")
    text = arms_list("small-levers-1-a", output)
    links = re.findall(r'href="([^"]+)"', text)
    assert links == [f"/runs/small-levers-1-a/files/{arm}/" for arm in ("baseline", "no-mass")] + [
        "/runs/small-levers-1-a/files/no-names/"
    ]


def test_a_design_whose_file_goes_while_a_page_is_made_is_named_not_a_server_error(designs):
    """A page lists the names, then asks each one's file and title; a request that read the
    folder again meanwhile dropped a removed design, and the page's next question was a
    KeyError (noticed in session 44)."""
    from chistka.web.experiments import Designs

    offered = Designs(designs)
    names = offered.names()
    assert "small-levers" in names
    (designs / "small-levers.toml").unlink()
    offered.refresh()
    assert offered.file("small-levers") == "small-levers.toml"
    assert offered.about("small-levers") == ("", "")


@pytest.mark.parametrize("span", [False, True])
@pytest.mark.parametrize("vary", [None, "interrogation.names_mean=1,3"])
def test_an_experiment_job_records_the_seeds_its_arms_run_at(tmp_path, monkeypatch, vary, span):
    """The worker recorded a run's seed and an ensemble's first (`seed_used`), but none for an
    experiment: its state said no seed and its page "2 seeds per arm", not which. The seeds are
    recorded before the runs (here stood in for: the recording is what is tested). A span of
    the form (seeds 8-9: seed 8, 2 seeds) runs at those seeds."""
    import chistka.analysis.experiment as experiment_module
    import chistka.analysis.variants as variants_module
    import chistka.report.experiment as report_module
    from chistka.web.jobs import RunJobs, read_state
    from chistka.web.run_pages import run_page
    from chistka.web.worker import run_job
    from test_experiment import write_design
    from test_web import page_words

    design = write_design(tmp_path)  # the scenario's seed is 5
    jobs = RunJobs(tmp_path / "runs")
    monkeypatch.setattr(jobs, "start_queued", lambda: None)
    first = 8 if span else None
    state = jobs.submit("small.toml", first, 0.01, seeds=2, experiment=("small", design), vary=vary)
    state_file = jobs.state_file(state["id"])
    seen = []

    def runs(*arguments, **kwargs):  # run_experiment(experiment, out) or run_variants(.., out)
        seen.append((kwargs["seeds"], read_state(state_file).get("seed_used")))
        arguments[-1].mkdir(parents=True, exist_ok=True)

    target = variants_module if vary else experiment_module
    monkeypatch.setattr(target, "run_variants" if vary else "run_experiment", runs)
    monkeypatch.setattr(report_module, "write_experiment_report", lambda folder: None)
    monkeypatch.setattr(report_module, "write_variants_report", lambda folder: None)
    assert run_job(state_file) == 0
    done = read_state(state_file)
    used, seeds = (8, [8, 9]) if span else (5, 2)
    assert done["status"] == "done" and seen == [(seeds, used)]  # recorded before the runs
    assert done["seed_used"] == used
    words = f"seeds {used}-{used + 1} per arm"
    assert words in page_words(run_page(jobs, {**done, "status": "running"}))


def test_the_spread_over_values_leaves_an_interval_blank_at_one_seed(tmp_path):
    """QA of session 45: an experiment run at two values with one seed per arm gave its widest
    90% interval as a bare 'to' (one seed has no interval)."""
    path = tmp_path / "spread.csv"
    path.write_text(
        "outcome,arm,label,values,lowest,highest,lowest_low,highest_high,same_direction,"
        "intervals_agree\n"
        "arrests:1937-1938,no-mass,No mass,2,-0.305,-0.194,,,True,False\n"
        "arrests:1937-1938,no-names,No names,2,-0.435,-0.421,-0.6,-0.2,True,True\n"
    )
    table = spread_table(path)
    assert '<td class="number">-19.4%</td><td class="number"></td><td>yes</td>' in table
    assert '<td class="number">-60.0% to -20.0%</td>' in table
    assert " to </td>" not in table


def test_an_arm_that_changes_nothing_reads_no_change_not_no(tmp_path):
    """QA of session 45: an arm at +0.0% to +0.0% over every value read "same direction: no",
    as if its effect changed sign; the web page and the report say "no change"."""
    import pandas as pd

    from chistka.report.experiment import _spread_table

    path = tmp_path / "spread.csv"
    path.write_text(
        "outcome,arm,label,values,lowest,highest,lowest_low,highest_high,same_direction,"
        "intervals_agree\n"
        "arrests:1937-1938,no-show,No show trials,2,0.0,0.0,,,False,False\n"
        "arrests:1937-1938,no-names,No names,2,-0.435,0.1,-0.6,0.2,False,False\n"
    )
    table = spread_table(path)
    assert "<td>no change</td>" in table and "<td>no</td><td>no</td>" in table
    report = _spread_table(pd.read_csv(path))
    assert "<td>no change</td>" in report and "<td>no</td><td>no</td>" in report
