"""The browser app (FastAPI): run a built-in scenario, watch it, read its report and its data.

Pages:
- `/`: the scenarios, a form to run one (with a what-if: changed parameters, decisions left
  out) and the runs so far;
- `/scenarios/NAME`: its documented decisions with their sources, its operations and
  campaigns, the values fitted to the record with their ranges and reasons, and the form with a
  box for each decision to leave out;
- `/runs/ID`: a run's progress, then its fit against the record, its comparison row by row,
  its report and every file behind the charts; `/runs/ID/files/NAME`: one of those files;
- `/experiments/NAME`: an experiment's design (its question, arms and outcomes) and a form to
  run it; a submitted experiment is a run whose page gives each arm's effect on each outcome
  with its 90% interval, the experiment's report and its files (`chistka.web.experiments`);
  with values of one parameter to vary, the whole design once per value, each arm's effect over
  all the values, the variants' report and each value's experiment;
- `/compare?run=A&run=B`: two done runs, the later against the earlier, figure by figure, with
  the charts and differences.csv of `chistka compare`.

The same as JSON under `/api/...` (`/api/scenarios/NAME` gives a scenario's page as data,
with its default "scale" and "party_scale", what a blank scale runs;
`/api/experiments/NAME` a design's, with its "file" and "page" as the list gives them; `POST
/api/experiments` takes {"experiment", "seeds", "scale", "set", "vary"}, "seeds" a count N or
a span "A-B" as `chistka experiment run --seeds` takes it, "vary" one
`PARAM=V1,V2,...` string that runs the design once per value, as `chistka experiment run
--vary`):
`POST /api/runs` takes {"scenario", "seed", "seeds", "scale",
"set", "without"}: more than one seed runs an ensemble (as `chistka sweep --seeds`), and the last
two are lists of `PARAM=VALUE` changes and of decisions to leave out, as `chistka run --set` and
`--without` take them. A bad request (an unknown scenario, a seed or
scale out of range, an unknown parameter or decision, a value a parameter does not allow) gets
422 with a message naming the field and what is allowed; an unknown run or file 404. An HTTP
error (an unknown run, file, scenario, design or page; a method a route does not take) is JSON
({"detail": ...}) under /api/ and elsewhere a page in the app's layout with the message and a
link back (`error_page`). A design
of the experiments folder that the loader refuses (a field it does not allow, two arms of one
label, a file that is not TOML) is named on the index with its file and the loader's message,
and in `GET /api/experiments` as {"name", "file", "page", "refused"} beside the others' facts
(each with its "page", /experiments/NAME, NAME the file's); its page,
and a form submitting it, is an HTML page with the message and a link back (422), as JSON
only under /api/. A design file whose name the app cannot offer (not lower-case letters, digits
and hyphens, or a built-in design's name) is named there too, with why, and in the list as
{"name": null, "file", "page": null, "refused"}. The folder is read again, when a file of it
came, went or changed, at each request that lists or opens designs (no restart).
`GET /api/runs/ID` (and each of `GET /api/runs`) is the run's state: "id", "scenario", "seed",
"seeds", "scale", "set", "without", "status" (queued, running, done or failed), "submitted",
"started", "finished" (ISO times in UTC, with the zone; an earlier version's, without one, the
server's local time), "error" (a failed run's reason) and, once started, "seed_used" (a run's
seed, an ensemble's first, an experiment's first of the seeds every arm runs at) and
"spin_up_days" (the scenario's spin-up, every run's: the days up to it, counted in the
progress's days, precede the scenario's start); an experiment's also "experiment" (the design's
page name), "design" (the built-in's name or the file's name) and, at values of one parameter,
"vary". Its progress: a
single run's "days_done", "days_total" and "day_date" (the simulated date of that day, ISO; null
before its first day); an ensemble's or an experiment's "runs_done" and "runs_total" (null until
its runs are planned) and, for the run under way, "run_seed", "run_days_done", "run_days_total"
and "run_day_date", an experiment's "arm" (the arm's name;
"baseline" is the scenario as it stands) and at values of one parameter "value" (the value of the
run under way, as the variants' report writes it): null between runs and once the job has ended. A
done run's answer adds its "fit" and "parameter_budget", an ensemble's "fit_by_seed", an
experiment's "effects", and at values of one parameter its "spread".
`chistka serve` starts it.
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from chistka.errors import ChistkaError
from chistka.outputs import RUN_FILES
from chistka.web.experiments import (
    EXPERIMENT_FILES,
    VARIANTS_FILES,
    Designs,
    design_body,
    design_facts,
    effects_rows,
    error_message,
    experiment_form,
)
from chistka.web.forms import RequestError, check_experiment_request, check_request
from chistka.web.jobs import RUN_ID, RunJobs
from chistka.web.layout import error_page, escape, page
from chistka.web.run_pages import (
    SEED_RUN,
    compare_page,
    comparison_folder,
    ensemble_fit,
    run_form,
    run_page,
    runs_table,
)
from chistka.web.scenario_pages import scenario_facts, scenario_page

TICK_SECONDS = 1.0
"""How often the server looks for queued runs to start."""


ENSEMBLE_FILES = frozenset({"ensemble.html", "plan.json"})
"""The files at the top of an ensemble's output folder (its runs are in folders below)."""


OUTPUT_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}$")
"""A folder inside a run's output that the app shows: an experiment's arm, a value's experiment,
a seed's run (hidden folders, being built, are not)."""


# --- HTML ----------------------------------------------------------------------------------------


# --- the app -------------------------------------------------------------------------------------


def create_app(
    runs_folder: Path, *, max_running: int = 1, experiments_folder: Path | None = None
) -> FastAPI:
    """The browser app, keeping its runs under `runs_folder`.

    `experiments_folder` adds its experiment designs (``*.toml``) to the built-in ones.
    """
    from chistka.scenario import builtin_scenarios

    jobs = RunJobs(Path(runs_folder), max_running=max_running)
    designs = Designs(experiments_folder)
    scenarios = builtin_scenarios()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK_SECONDS):
            jobs.start_queued()

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        ticker = threading.Thread(target=tick, name="chistka-runs", daemon=True)
        ticker.start()
        yield
        stop.set()
        ticker.join()
        jobs.stop_all()

    app = FastAPI(title="chistka", lifespan=lifespan)
    app.state.jobs = jobs

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        """An HTTP error (an unknown run, file or page, a method a route does not take).

        As JSON ({"detail": ...}) under /api/; elsewhere a page in the app's layout with the
        message and a link back: to the run's page for a file of a known run, else to the index.
        """
        path = request.url.path
        if path == "/api" or path.startswith("/api/"):
            return await http_exception_handler(request, error)
        return HTMLResponse(
            error_page(jobs, path, error.status_code, error.detail),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

    def index_page(
        values: dict[str, str],
        error: RequestError | None = None,
        compare_error: RequestError | None = None,
        ticked: list[str] | None = None,
    ) -> str:
        """The index: a refused run's `error` above its form, a comparison's beside the runs.

        `ticked`: the runs a refused comparison had ticked, ticked again. The designs are those
        of the experiments folder as it is now (`Designs.refresh`).
        """
        designs.refresh()
        items = "".join(
            f'<li><a href="/scenarios/{escape(name)}">{escape(name)}</a>: {escape(description)}'
            "</li>"
            for name, description in scenarios.items()
        )
        problems = {name: designs.problem(name) for name in designs.names()}
        designs_list = "".join(
            f'<li><a href="/experiments/{escape(name)}">{escape(name)}</a>: <b>{escape(title)}</b>'
            f'<br><span class="question">{escape(question)}</span></li>'
            for name, problem in problems.items()
            if problem is None
            for title, question in [designs.about(name)]
        )
        refused = "".join(
            f'<li><a href="/experiments/{escape(name)}">{escape(name)}</a>'
            f" ({escape(designs.file(name))}): "
            f'<span class="error" data-design="{escape(name)}">{escape(problem)}</span></li>'
            for name, problem in problems.items()
            if problem is not None
        ) + "".join(
            f'<li>{escape(file)}: <span class="error" data-file="{escape(file)}">'
            f"{escape(reason)}</span></li>"
            for file, reason in designs.refused_files.items()
        )
        if refused:
            refused = (
                "<p>Refused: these designs cannot be run as they stand (fix the file and"
                f" reload this page):</p><ul id='refused-experiments'>{refused}</ul>"
            )
        return page(
            "Scenarios",
            f"<ul id='scenarios'>{items}</ul>{run_form(scenarios, values, error)}"
            "<h2>Experiments</h2><p>A scenario against arms that each take a lever away, at the"
            f" same seeds, with each arm's effect and its 90% interval:</p>"
            f"<ul id='experiments'>{designs_list}</ul>{refused}"
            f"<h2>Runs</h2>{runs_table(jobs.all(), compare_error, ticked)}",
        )

    def loaded_design(name: str) -> Any:
        """Design `name`; 404 if unknown, RequestError naming the field if the loader refuses it.

        The experiments folder is read again first if it changed (`Designs.refresh`).
        """
        designs.refresh()
        if name not in designs.refs:
            raise HTTPException(status_code=404, detail=f"no experiment {name!r}")
        try:
            return designs.load(name)
        except ChistkaError as exc:
            raise RequestError("experiment", str(exc)) from None

    def design_of(name: str) -> Any:
        """Design `name` for the JSON API: 404 if unknown, 422 with the loader's message."""
        try:
            return loaded_design(name)
        except RequestError as error:
            raise HTTPException(status_code=422, detail=error.message) from None

    def experiment_page(name: str, values: dict[str, str], error: RequestError | None) -> str:
        facts = design_facts(loaded_design(name))
        runs_per_seed = len(facts["arms"]) + 1  # the scenario as it stands, then each arm
        form = experiment_form(
            name, facts["seeds"], values, error, runs_per_seed, facts["scenario"]
        )
        return page(facts["title"], design_body(facts, form))

    def refused_page(name: str, error: RequestError) -> HTMLResponse:
        """A design the loader refuses, as a page: its message above a link back (422).

        As a refused form's message (`error_message`): the page layout, not JSON, for a browser.
        """
        body = (
            f"<p>The design in {escape(designs.file(name))} cannot be run as it stands:</p>"
            f"{error_message(error)}"
            '<p><a href="/" id="back">Back to the scenarios and experiments</a> (fix the file'
            " and reload this page)</p>"
        )
        return HTMLResponse(page(f"Experiment {name}: refused", body), status_code=422)

    def submit_experiment(
        name: str, seeds: str, scale: str, changes: list[str] | None = None, vary: str = ""
    ) -> dict[str, Any]:
        designs.refresh()
        ref, experiment, chosen, chosen_scale, variant, chosen_vary = check_experiment_request(
            designs, name, seeds, scale, changes, vary
        )
        # a span A-B is kept as its first seed and its length, as a run's seeds are
        first, count = (None, chosen) if isinstance(chosen, int) else (chosen[0], len(chosen))
        return jobs.submit(
            experiment.design.experiment.scenario,
            first,
            chosen_scale,
            variant,
            seeds=count,
            experiment=(name, ref),
            vary=chosen_vary or None,
        )

    def state_of(run_id: str) -> dict[str, Any]:
        try:
            return jobs.get(run_id)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no run {run_id!r}") from None

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """No icon, answered without a 404: every page logged one.

        The pages name none (`<link rel="icon" href="data:,">`); a browser still asks for it on
        a file the app serves, such as a report.
        """
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return index_page({})

    @app.get("/scenarios/{name}", response_class=HTMLResponse)
    def show_scenario(name: str) -> str:
        if name not in scenarios:
            raise HTTPException(status_code=404, detail=f"no built-in scenario {name!r}")
        return scenario_page(name, scenarios)

    @app.post("/runs", response_model=None)
    def submit_form(
        scenario: Annotated[str, Form()] = "",
        seed: Annotated[str, Form()] = "",
        scale: Annotated[str, Form()] = "",
        changes: Annotated[str, Form(alias="set")] = "",
        removed: Annotated[list[str] | None, Form(alias="without")] = None,
        seeds: Annotated[str, Form()] = "",
    ) -> HTMLResponse | RedirectResponse:
        names = [line for text in removed or [] for line in text.splitlines()]
        values = {
            "scenario": scenario,
            "seed": seed,
            "scale": scale,
            "set": changes,
            "without": "\n".join(names),
            "seeds": seeds,
        }
        try:
            state = jobs.submit(
                *check_request(scenario, seed, scale, changes.splitlines(), names, seeds)
            )
        except RequestError as error:
            return HTMLResponse(index_page(values, error), status_code=422)
        return RedirectResponse(f"/runs/{state['id']}", status_code=303)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def show_run(run_id: str) -> str:
        return run_page(jobs, state_of(run_id))

    served = RUN_FILES | ENSEMBLE_FILES | EXPERIMENT_FILES | VARIANTS_FILES

    def output_entry(run_id: str, relative: str) -> Response:
        """A file of a run's output, or a page listing a folder of it (an experiment's arm).

        Folders must be named as chistka names them (`OUTPUT_FOLDER`) and files be among
        those a run, an ensemble or an experiment writes; nothing outside the output is
        reached.
        """
        state_of(run_id)
        parts = [part for part in relative.split("/") if part]
        if not parts:  # /runs/ID/files/: the run's page lists its files
            return RedirectResponse(f"/runs/{run_id}", status_code=307)
        path = jobs.output(run_id).joinpath(*parts)
        folders_ok = parts and all(OUTPUT_FOLDER.match(part) for part in parts[:-1])
        if folders_ok and OUTPUT_FOLDER.match(parts[-1]) and path.is_dir():
            return HTMLResponse(folder_page(run_id, parts, path))
        if folders_ok and parts[-1] in served and path.is_file():
            return FileResponse(path)
        raise HTTPException(status_code=404, detail=f"run {run_id!r} has no file {relative!r}")

    def folder_page(run_id: str, parts: list[str], path: Path) -> str:
        """The links to what a folder of a run's output holds."""
        base = f"/runs/{run_id}/files/{'/'.join(parts)}"
        entries = sorted(path.iterdir())
        links = [
            f'<li><a href="{base}/{entry.name}/">{entry.name}/</a></li>'
            for entry in entries
            if entry.is_dir() and OUTPUT_FOLDER.match(entry.name)
        ] + [
            f'<li><a href="{base}/{entry.name}">{entry.name}</a></li>'
            for entry in entries
            if entry.is_file() and entry.name in served
        ]
        body = (
            f'<p><a href="/runs/{run_id}">{run_id}</a> / {escape("/".join(parts))}</p>'
            f'<ul id="folder">{"".join(links)}</ul>'
        )
        return page(f"{run_id}: {'/'.join(parts)}", body)

    @app.get("/runs/{run_id}/files/{name}")
    def run_file(run_id: str, name: str) -> Response:
        return output_entry(run_id, name)

    @app.get("/runs/{run_id}/files/{path:path}")
    def output_file(run_id: str, path: str) -> Response:
        """Deeper in a run's output: an arm's runs, a value's experiment (v01/experiment.html)."""
        return output_entry(run_id, path)

    def inner_file(run_id: str, folder: str, name: str, folders: Any, names: Any) -> FileResponse:
        """A file one folder down in a run's output: a seed's run or a value's experiment."""
        state_of(run_id)
        path = jobs.output(run_id) / folder / name
        if not folders.match(folder) or name not in names or not path.is_file():
            raise HTTPException(
                status_code=404, detail=f"run {run_id!r} has no file {folder}/{name}"
            )
        return FileResponse(path)

    @app.get("/runs/{run_id}/seeds/{seed_run}/{name}")
    def seed_file(run_id: str, seed_run: str, name: str) -> FileResponse:
        return inner_file(run_id, seed_run, name, SEED_RUN, RUN_FILES)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(run: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        ids = run or []
        states = []
        for run_id in ids:
            try:
                states.append(jobs.get(run_id))
            except KeyError:
                states.append({"id": run_id, "status": "unknown"})
        error = None
        if len(ids) != 2 or ids[0] == ids[1]:
            error = f"tick two different runs to compare (got {len(set(ids))})"
        elif any(state["status"] != "done" for state in states):
            error = "only done runs can be compared: " + ", ".join(
                f"{s['id']} is {s['status']}" for s in states if s["status"] != "done"
            )
        elif any("experiment" in state for state in states):
            error = "an experiment's arms are compared on its own page, not here: " + ", ".join(
                s["id"] for s in states if "experiment" in s
            )
        if error:
            refused = RequestError("run", error)
            return HTMLResponse(index_page({}, None, refused, ids), status_code=422)
        first, second = sorted(states, key=lambda state: state["submitted"])
        return HTMLResponse(compare_page(jobs, first, second))

    @app.get("/compare/{pair}/{name}")
    def compare_file(pair: str, name: str) -> FileResponse:
        first, _, second = pair.partition("--")
        path = comparison_folder(jobs, first, second) / name
        valid = RUN_ID.match(first) and RUN_ID.match(second)
        if not valid or name not in ("compare.html", "differences.csv") or not path.is_file():
            raise HTTPException(status_code=404, detail=f"no comparison file {pair}/{name}")
        return FileResponse(path)

    @app.get("/experiments/{name}", response_class=HTMLResponse)
    def show_experiment(name: str) -> HTMLResponse:
        try:
            return HTMLResponse(experiment_page(name, {}, None))
        except RequestError as error:
            return refused_page(name, error)

    @app.post("/experiments", response_model=None)
    def submit_experiment_form(
        experiment: Annotated[str, Form()] = "",
        seeds: Annotated[str, Form()] = "",
        scale: Annotated[str, Form()] = "",
        changes: Annotated[str, Form(alias="set")] = "",
        vary: Annotated[str, Form()] = "",
    ) -> HTMLResponse | RedirectResponse:
        try:
            state = submit_experiment(experiment, seeds, scale, changes.splitlines(), vary)
        except RequestError as error:
            if experiment not in designs.refs:
                return HTMLResponse(index_page({}, error), status_code=422)
            values = {"seeds": seeds, "scale": scale, "set": changes, "vary": vary}
            try:
                form_page = experiment_page(experiment, values, error)
            except RequestError as refused:  # the design itself, not what the form asks
                return refused_page(experiment, refused)
            return HTMLResponse(form_page, status_code=422)
        return RedirectResponse(f"/runs/{state['id']}", status_code=303)

    @app.get("/api/experiments")
    def api_experiments() -> list[dict[str, Any]]:
        """Every design's facts, its file and its page, or for one the loader refuses its message.

        "page" is the design's address in the app (/experiments/NAME, NAME the file's), which
        its own "name" (the one inside the file) need not give. A refused one is {"name",
        "file", "page", "refused"}: the name its page takes and the loader's message naming the
        field. A file whose name the app cannot offer (`Designs.refused_files`) has no name or
        page (null) and says why it is refused; it was left out without a word.
        """
        designs.refresh()
        listed = []
        for name in designs.names():
            try:
                listed.append({**design_facts(loaded_design(name)), **design_place(name)})
            except RequestError as error:
                listed.append({"name": name, **design_place(name), "refused": error.message})
        listed.extend(
            {"name": None, "file": file, "page": None, "refused": reason}
            for file, reason in designs.refused_files.items()
        )
        return listed

    def design_place(name: str) -> dict[str, str]:
        """A design's "file" (its name in the folder, or 'built-in') and "page" in the app."""
        return {"file": designs.file(name), "page": f"/experiments/{name}"}

    @app.get("/api/experiments/{name}")
    def api_experiment(name: str) -> dict[str, Any]:
        """A design's facts, its file and its page, as `GET /api/experiments` gives each.

        It lacked "file" and "page": two designs may have one "name" inside their files.
        """
        return {**design_facts(design_of(name)), **design_place(name)}

    @app.post("/api/experiments", status_code=202)
    async def api_submit_experiment(request: Request) -> JSONResponse:
        body = await json_body(request, ("experiment", "seeds", "scale", "set", "vary"))
        if isinstance(body, JSONResponse):
            return body
        changes = body.get("set") or []
        if not isinstance(changes, list) or not all(isinstance(i, str) for i in changes):
            return request_error(RequestError("set", "set must be a list of 'PARAM=VALUE' strings"))
        vary = body.get("vary") or ""
        if not isinstance(vary, str):
            return request_error(RequestError("vary", "vary must be one 'PARAM=V1,V2,...' string"))
        try:
            state = submit_experiment(
                str(body.get("experiment", "")),
                "" if body.get("seeds") is None else str(body["seeds"]),
                "" if body.get("scale") is None else str(body["scale"]),
                changes,
                vary,
            )
        except RequestError as error:
            return request_error(error)
        return JSONResponse(shown_state(state), status_code=202)

    @app.get("/api/scenarios")
    def api_scenarios() -> list[dict[str, str]]:
        return [{"name": name, "description": text} for name, text in scenarios.items()]

    @app.get("/api/scenarios/{name}")
    def api_scenario(name: str) -> dict[str, Any]:
        if name not in scenarios:
            raise HTTPException(status_code=404, detail=f"no built-in scenario {name!r}")
        return scenario_facts(name)

    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return [shown_state(state) for state in jobs.all()]

    @app.post("/api/runs", status_code=202)
    async def api_submit(request: Request) -> JSONResponse:
        body = await json_body(request, ("scenario", "seed", "seeds", "scale", "set", "without"))
        if isinstance(body, JSONResponse):
            return body
        lists = {}
        for field, what in (("set", "'PARAM=VALUE' strings"), ("without", "decision names")):
            items = body.get(field) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                return request_error(RequestError(field, f"{field} must be a list of {what}"))
            lists[field] = items
        try:
            wanted = check_request(
                str(body.get("scenario", "")),
                "" if body.get("seed") is None else str(body["seed"]),
                "" if body.get("scale") is None else str(body["scale"]),
                lists["set"],
                lists["without"],
                "" if body.get("seeds") is None else str(body["seeds"]),
            )
        except RequestError as error:
            return request_error(error)
        return JSONResponse(jobs.submit(*wanted), status_code=202)

    @app.get("/api/runs/{run_id}")
    def api_run(run_id: str) -> dict[str, Any]:
        state = shown_state(state_of(run_id))
        summary_file = jobs.output(run_id) / "summary.json"
        if state["status"] == "done" and state.get("experiment") and state.get("vary"):
            state = {**state, "spread": effects_rows(jobs.output(run_id) / "spread.csv")}
        elif state["status"] == "done" and state.get("experiment"):
            state = {**state, "effects": effects_rows(jobs.output(run_id) / "effects.csv")}
        elif state["status"] == "done" and (state.get("seeds") or 1) > 1:
            state = {**state, "fit_by_seed": ensemble_fit(jobs.output(run_id))}
        elif state["status"] == "done" and summary_file.is_file():
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
            state = {
                **state,
                "fit": summary["fit"],
                "parameter_budget": summary["parameter_budget"],
            }
        return state

    return app


def shown_state(state: dict[str, Any]) -> dict[str, Any]:
    """A run's state as the API gives it.

    A design of the experiments folder is given by its file's name, not by the server's path to
    it (the state file keeps the path, which the worker reads).
    """
    design = state.get("design")
    if design and ("/" in design or "\\" in design):
        return {**state, "design": Path(design).name}
    return state


async def json_body(request: Request, allowed: tuple[str, ...]) -> dict[str, Any] | JSONResponse:
    """A request's JSON object, or the 422 answer naming what is wrong with it.

    The body must be a JSON object with no field outside `allowed`.
    """
    try:
        body = await request.json()
    except RecursionError:  # nested deeper than the JSON decoder goes
        return request_error(RequestError("body", "the body is nested too deeply"))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return request_error(RequestError("body", "the body must be a JSON object"))
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return request_error(RequestError(unknown[0], f"allowed fields are {', '.join(allowed)}"))
    return body


def request_error(error: RequestError) -> JSONResponse:
    """A 422 answer naming the field and what it allows."""
    return JSONResponse(
        {"detail": [{"loc": ["body", e.field], "msg": e.message} for e in error.every]},
        status_code=422,
    )
