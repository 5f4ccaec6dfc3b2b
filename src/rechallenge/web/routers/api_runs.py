"""JSON API: a run's state, its results.json and its outputs as one .zip."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import FileResponse

from rechallenge.web import services
from rechallenge.web.deps import ApiAccess, QueueDep, SessionDep, SettingsDep
from rechallenge.web.models import Run
from rechallenge.web.schemas import RunOut, RunQueued

router = APIRouter(prefix="/api/runs", tags=["runs"], dependencies=[ApiAccess])


def run_out(run: Run) -> RunOut:
    """The public view of a run."""
    return RunOut(
        run_id=run.id,
        study_id=run.study_id,
        status=run.status,
        progress=max(0.0, min(1.0, run.progress)),
        stage=run.stage,
        error=run.error,
        input_sha256=run.input_sha256,
    )


@router.get("/{run_id}", response_model=RunOut)
def read_run(run_id: str, session: SessionDep) -> RunOut:
    """Status (queued, running, done, failed), progress 0..1 and the reason of a failure."""
    return run_out(services.get_run(session, run_id))


@router.post("/{run_id}/rerun", status_code=status.HTTP_202_ACCEPTED, response_model=RunQueued)
def rerun(run_id: str, session: SessionDep, settings: SettingsDep, queue: QueueDep) -> RunQueued:
    """Run again with the same inputs and configuration (e.g. after an interrupted run)."""
    run = services.rerun(session, services.get_run(session, run_id), settings, queue)
    return RunQueued(run_id=run.id)


@router.get("/{run_id}/results.json", response_class=FileResponse)
def results_json(run_id: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The run's results.json."""
    path = services.output_file(services.get_run(session, run_id), "results.json", settings)
    return FileResponse(path, media_type="application/json")


@router.get("/{run_id}/outputs.zip", response_class=FileResponse)
def outputs_zip(run_id: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """Every output of the run (report, tables, figures, datasets, results.json) as .zip."""
    run = services.get_run(session, run_id)
    path = services.outputs_zip(run, settings)
    return FileResponse(
        path, media_type="application/zip", filename=f"run-{run.number}-outputs.zip"
    )
