"""JSON API: studies (upload, validation state, corrected uploads) and their runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, UploadFile, status

from rechallenge.web import services
from rechallenge.web.deps import ApiAccess, QueueDep, SessionDep, SettingsDep
from rechallenge.web.execution import public_problem
from rechallenge.web.models import Study
from rechallenge.web.schemas import Created, ProblemOut, RunQueued, StudyOut

router = APIRouter(prefix="/api/studies", tags=["studies"], dependencies=[ApiAccess])


def study_out(study: Study) -> StudyOut:
    """The public view of a study (identifying values only with its switch on)."""
    return StudyOut(
        id=study.id,
        name=study.name,
        valid=study.valid,
        problems=[ProblemOut(**public_problem(p, study.show_ids)) for p in study.problems],
        input_sha256=study.input_sha256,
        show_ids=study.show_ids,
        runs=[r.id for r in study.runs],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Created)
async def create_study(
    session: SessionDep, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> Created:
    """Upload a .zip of a CSV study folder or an .xlsx workbook; it is validated at once."""
    study = await services.create_study(session, file, settings)
    return Created(id=study.id)


@router.get("/{study_id}", response_model=StudyOut)
def read_study(study_id: str, session: SessionDep) -> StudyOut:
    """Whether the study's data are valid, and every problem found, located."""
    return study_out(services.get_study(session, study_id))


@router.put("/{study_id}/data", response_model=StudyOut)
async def replace_data(
    study_id: str,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
) -> StudyOut:
    """Upload corrected data for the study (earlier uploads are kept for their runs)."""
    study = services.get_study(session, study_id)
    await services.replace_data(session, study, file, settings)
    return study_out(study)


@router.post("/{study_id}/runs", status_code=status.HTTP_202_ACCEPTED, response_model=RunQueued)
def create_run(
    study_id: str,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    config: Annotated[dict[str, Any] | None, Body()] = None,
) -> RunQueued:
    """Queue a run; the body, if any, is the configuration as the YAML's mapping."""
    study = services.get_study(session, study_id)
    run = services.queue_run(session, study, settings, queue, config)
    return RunQueued(run_id=run.id)
