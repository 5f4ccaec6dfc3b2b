"""The pages: studies, upload, validation, configuration, runs, report, compare, eligibility.

Plain forms (each with its CSRF token) and one small script for sorting, filtering and
polling. Every page calls the same services as the JSON API.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from rechallenge.config import config_from_mapping
from rechallenge.errors import ConfigError
from rechallenge.pipeline import summary_rows
from rechallenge.web import compare, forms, services
from rechallenge.web.deps import PageAccess, QueueDep, SessionDep, SettingsDep, get_settings
from rechallenge.web.downloads import downloads
from rechallenge.web.eligibility import EligibilityError, classify
from rechallenge.web.execution import config_yaml, parse_config, public_problem
from rechallenge.web.models import Run, Study
from rechallenge.web.schemas import EligibilityIn, Line
from rechallenge.web.security import (
    AUTH_COOKIE,
    CSRF_FIELD,
    REPORT_CSP,
    check_csrf,
    sign,
)
from rechallenge.web.settings import WebSettings
from rechallenge.web.templating import render

router = APIRouter(include_in_schema=False)
CsrfField = Annotated[str | None, Form(alias=CSRF_FIELD)]


async def csrf_checked(
    request: Request, settings: Annotated[WebSettings, Depends(get_settings)]
) -> None:
    """Every form POST carries this browser's CSRF token."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    check_csrf(
        request,
        settings.secret_key.get_secret_value(),
        submitted if isinstance(submitted, str) else None,
    )


Csrf = Depends(csrf_checked)
Page = [PageAccess]
Post = [PageAccess, Csrf]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


# ----------------------------------------------------------------------------- login
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The token form (only when the server has a token)."""
    return render(request, "login.html", title="Sign in")


@router.post("/login", dependencies=[Csrf])
def login(request: Request, settings: SettingsDep, token: Annotated[str, Form()]) -> Response:
    """Check the token; the session cookie holds its HMAC, never the token."""
    if settings.token is None:
        return _see_other("/")
    real = settings.token.get_secret_value()
    if not hmac.compare_digest(token.strip().encode(), real.encode()):
        return render(request, "login.html", status_code=401, title="Sign in", error="wrong token")
    response = _see_other("/")
    response.set_cookie(
        AUTH_COOKIE,
        sign(settings.secret_key.get_secret_value(), "auth:" + real),
        httponly=True,
        samesite="strict",
        secure=not settings.is_loopback or request.url.scheme == "https",
    )
    return response


# ----------------------------------------------------------------------------- studies
@router.get("/", response_class=HTMLResponse, dependencies=Page)
def studies(request: Request, session: SessionDep) -> HTMLResponse:
    """Every study, newest first, and the upload form."""
    rows = session.scalars(select(Study).order_by(Study.created.desc())).all()
    return render(request, "studies.html", title="Studies", studies=rows)


@router.post("/studies", dependencies=Post)
async def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a study from an uploaded file."""
    study = await services.create_study(session, file, settings, name.strip() or None)
    return _see_other(f"/studies/{study.id}")


@router.get("/studies/{study_id}", response_class=HTMLResponse, dependencies=Page)
def study_page(request: Request, study_id: str, session: SessionDep) -> HTMLResponse:
    """Validation problems inline, the upload of a corrected file, runs and their history."""
    study = services.get_study(session, study_id)
    problems = [public_problem(p, study.show_ids) for p in study.problems]
    return render(
        request, "study.html", title=study.name, study=study, problems=problems, runs=study.runs
    )


@router.post("/studies/{study_id}/data", dependencies=Post)
async def reupload(
    study_id: str,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A corrected file for the study."""
    study = services.get_study(session, study_id)
    await services.replace_data(session, study, file, settings)
    return _see_other(f"/studies/{study.id}")


@router.post("/studies/{study_id}/show-ids", dependencies=Post)
def show_ids(
    study_id: str,
    session: SessionDep,
    show: Annotated[str | None, Form()] = None,
) -> Response:
    """The per-study switch that shows patient IDs and dates in its pages and new runs."""
    study = services.get_study(session, study_id)
    study.show_ids = show == "on"
    session.commit()
    return _see_other(f"/studies/{study.id}")


@router.get("/studies/{study_id}/problems.csv", dependencies=Page)
def problems_csv(study_id: str, session: SessionDep) -> Response:
    """The validation problems as CSV (identifying values only with the switch on)."""
    study = services.get_study(session, study_id)
    columns = ["code", "severity", "table", "row", "column", "message", "fix", "value"]
    if study.show_ids:
        columns.append("patient_id")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for record in study.problems:
        shown = public_problem(record, study.show_ids)
        writer.writerow({k: _cell(shown.get(k)) for k in columns})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="problems.csv"'},
    )


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ----------------------------------------------------------------------------- configuration
@router.get("/studies/{study_id}/config", response_class=HTMLResponse, dependencies=Page)
def config_page(request: Request, study_id: str, session: SessionDep) -> HTMLResponse:
    """The configuration as a form generated from its schema."""
    study = services.get_study(session, study_id)
    try:
        config = parse_config(study.config_yaml)
        error = None
    except ConfigError as exc:
        config, error = parse_config(""), str(exc)
    return render(
        request,
        "config.html",
        title=f"Configuration: {study.name}",
        study=study,
        sections=forms.build_form(config),
        error=error,
    )


@router.post("/studies/{study_id}/config", dependencies=Post)
async def save_config(
    request: Request, study_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Save the form as the YAML the CLI reads (refused, with the reason, when invalid)."""
    study = services.get_study(session, study_id)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        mapping = forms.read_form(values)
        text = config_yaml(config_from_mapping(mapping))
        services.set_config(session, study, text, settings)
    except ConfigError as exc:
        return render(
            request,
            "config.html",
            status_code=422,
            title=f"Configuration: {study.name}",
            study=study,
            sections=forms.build_form(parse_config(study.config_yaml)),
            error=str(exc),
        )
    return _see_other(f"/studies/{study.id}?saved=1")


@router.get("/studies/{study_id}/study.yaml", dependencies=Page)
def config_download(study_id: str, session: SessionDep) -> Response:
    """The study's configuration file, for `rechallenge run --config`."""
    study = services.get_study(session, study_id)
    return Response(
        study.config_yaml,
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="study.yaml"'},
    )


# ----------------------------------------------------------------------------- runs
@router.post("/studies/{study_id}/runs", dependencies=Post)
def start_run(
    study_id: str, session: SessionDep, settings: SettingsDep, queue: QueueDep
) -> Response:
    """Queue a run of the study with its saved configuration."""
    study = services.get_study(session, study_id)
    run = services.queue_run(session, study, settings, queue)
    return _see_other(f"/runs/{run.id}")


@router.post("/runs/{run_id}/rerun", dependencies=Post)
def rerun(run_id: str, session: SessionDep, settings: SettingsDep, queue: QueueDep) -> Response:
    """Run again with the same inputs and configuration."""
    run = services.rerun(session, services.get_run(session, run_id), settings, queue)
    return _see_other(f"/runs/{run.id}")


def _results(run: Run, settings: WebSettings) -> dict[str, Any] | None:
    if run.status != "done":
        return None
    path = services.output_file(run, "results.json", settings)
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@router.get("/runs/{run_id}", response_class=HTMLResponse, dependencies=Page)
def run_page(
    request: Request, run_id: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Live progress while the run works; then the summary, the report and every download."""
    run = services.get_run(session, run_id)
    results = _results(run, settings)
    return render(
        request,
        "run.html",
        title=f"Run {run.number}: {run.study.name}",
        run=run,
        study=run.study,
        summary=summary_rows(results) if results else [],
        downloads=downloads(settings.data_dir / run.out_path, results) if results else [],
    )


@router.get("/runs/{run_id}/report", dependencies=Page)
def report(run_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The library's report, shown in a sandboxed frame with its own policy."""
    path = services.output_file(services.get_run(session, run_id), "report.html", settings)
    return FileResponse(
        path,
        media_type="text/html",
        headers={"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )


@router.get("/runs/{run_id}/files/{name:path}", dependencies=Page)
def run_file(run_id: str, name: str, session: SessionDep, settings: SettingsDep) -> Response:
    """One output file, as a download (never rendered in the app's origin)."""
    path = services.output_file(services.get_run(session, run_id), name, settings)
    return FileResponse(
        path,
        filename=path.name,
        headers={"Content-Security-Policy": "default-src 'none'; sandbox"},
    )


@router.get("/runs/{run_id}/outputs.zip", dependencies=Page)
def run_zip(run_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Every output as one .zip."""
    run = services.get_run(session, run_id)
    return FileResponse(
        services.outputs_zip(run, settings),
        media_type="application/zip",
        filename=f"run-{run.number}-outputs.zip",
    )


@router.get("/compare", response_class=HTMLResponse, dependencies=Page)
def compare_page(
    request: Request, session: SessionDep, settings: SettingsDep, a: str, b: str
) -> HTMLResponse:
    """Two runs side by side: the configuration changes and the numbers that moved."""
    run_a, run_b = services.get_run(session, a), services.get_run(session, b)
    results_a, results_b = _results(run_a, settings), _results(run_b, settings)
    if results_a is None or results_b is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "both runs must be done to compare them")
    return render(
        request,
        "compare.html",
        title="Compare runs",
        a=run_a,
        b=run_b,
        config_changes=compare.config_changes(run_a.config_yaml, run_b.config_yaml),
        number_changes=compare.number_changes(results_a, results_b),
        summary=list(zip(summary_rows(results_a), summary_rows(results_b), strict=False)),
        same_input=run_a.input_sha256 == run_b.input_sha256,
    )


@router.post("/runs/compare-variant", dependencies=Post)
def variant(
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    run_id: Annotated[str, Form()],
    definition: Annotated[str, Form()],
) -> Response:
    """A sensitivity run in one click: the same run under another resistance definition."""
    run = services.get_run(session, run_id)
    config = parse_config(run.config_yaml).model_dump(mode="json")
    config["resistance"]["definition"] = definition
    study = run.study
    new = services.queue_run(session, study, settings, queue, config)
    return _see_other(f"/runs/{new.id}?compare={run.id}")


# ----------------------------------------------------------------------------- eligibility
@router.get("/eligibility", response_class=HTMLResponse, dependencies=Page)
def eligibility_form(request: Request) -> HTMLResponse:
    """The form for one patient."""
    return render(request, "eligibility.html", title="Eligibility checker", form={}, result=None)


LINE_FIELDS = (
    "start_date",
    "last_dose_date",
    "end_reason",
    "best_response",
    "response_date",
    "progression_date",
    "progression_confirmed_date",
)


@router.post("/eligibility", response_class=HTMLResponse, dependencies=Post)
async def eligibility_check(request: Request) -> HTMLResponse:
    """Classify the patient of the form; the answer in words under the form."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    lines = []
    for i in range(1, 5):
        if not form.get(f"line{i}_start_date", "").strip():
            continue
        values: dict[str, Any] = {
            f: (form.get(f"line{i}_{f}") or "").strip() or None for f in LINE_FIELDS
        }
        values["ici"] = form.get(f"line{i}_ici") == "on"
        lines.append(values)
    result, error = None, None
    try:
        patient = EligibilityIn(
            lines=[Line(**v) for v in lines],
            stage=form.get("stage") or None,
            recurrent=form.get("recurrent") == "on",
            driver=form.get("driver") or None,
            histology=form.get("histology") or None,
            ecog_rechallenge=int(form["ecog"]) if form.get("ecog") else None,
            age_at_rechallenge=float(form["age"]) if form.get("age") else None,
            measurable_at_rechallenge=form.get("measurable") == "on",
        )
        result = classify(patient)
    except (ValidationError, EligibilityError, ValueError) as exc:
        error = _error_text(exc)
    return render(
        request,
        "eligibility.html",
        status_code=200 if error is None else 422,
        title="Eligibility checker",
        form=form,
        result=result,
        error=error,
    )


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ).replace("lines: List should have at least 1 item", "enter at least one line")
    return str(exc)


# ----------------------------------------------------------------------------- API docs
@router.get("/api", response_class=HTMLResponse, dependencies=Page)
def api_page(request: Request) -> HTMLResponse:
    """The JSON API, from the OpenAPI document (which is at /openapi.json)."""
    spec = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "responses": sorted(op.get("responses", {})),
        }
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    return render(request, "api.html", title="JSON API", operations=operations)
