"""What the routes do with studies and runs: store uploads, validate, queue runs, find files.

The API and the pages call these, so both behave the same.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import HTTPException, UploadFile, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rechallenge.config import config_from_mapping, config_template
from rechallenge.errors import ConfigError
from rechallenge.web import execution
from rechallenge.web.models import Run, Study, new_id
from rechallenge.web.settings import WebSettings
from rechallenge.web.storage import (
    CHUNK,
    UploadError,
    data_hash,
    inside,
    sniff_kind,
    too_big_message,
    unpack_zip,
)
from rechallenge.web.worker import WorkQueue


def refuse(code: int, message: str) -> HTTPException:
    """An HTTP error with a message for the user."""
    return HTTPException(code, message)


async def receive(upload: UploadFile, settings: WebSettings) -> Path:
    """Copy an upload to a temporary file, refusing it past the size cap."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.data_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    handle, name = tempfile.mkstemp(dir=tmp, suffix=".upload")
    path = Path(name)
    size = 0
    with open(handle, "wb") as sink:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > settings.max_upload_bytes:
                sink.close()
                path.unlink(missing_ok=True)
                raise refuse(
                    413,
                    too_big_message(size, settings.max_upload_bytes) + " (or more)",
                )
            sink.write(chunk)
    return path


def store(
    received: Path, filename: str, study_id: str, version: int, settings: WebSettings
) -> Path:
    """Put the upload in its study folder (a .zip unpacked safely); the data path returned."""
    try:
        with received.open("rb") as handle:
            kind = sniff_kind(filename, handle.read(4))
        folder = settings.studies_dir / study_id / f"upload-{version}"
        if kind == "xlsx":
            folder.mkdir(parents=True, exist_ok=False)
            target = folder / "study.xlsx"
            shutil.move(received, target)
            return target
        return unpack_zip(
            received,
            folder / "data",
            max_bytes=settings.max_unpacked_bytes,
            max_members=settings.max_zip_members,
        )
    except UploadError as exc:
        raise refuse(422, str(exc)) from None
    finally:
        received.unlink(missing_ok=True)


def relative(path: Path, settings: WebSettings) -> str:
    """`path` relative to the data folder (what the database stores)."""
    return str(path.resolve().relative_to(settings.data_dir.resolve()))


def revalidate(study: Study, settings: WebSettings) -> None:
    """Validate the study's data with its configuration; store the problems."""
    data = settings.data_dir / study.data_path
    try:
        config = execution.parse_config(study.config_yaml)
    except ConfigError as exc:
        study.valid = False
        study.problems = [
            {
                "code": "CONFIG",
                "severity": "error",
                "table": "configuration",
                "row": None,
                "column": None,
                "message": str(exc),
                "fix": "correct the configuration",
                "value": None,
                "identifying": False,
                "patient_id": None,
            }
        ]
        return
    problems = execution.validate(data, config)
    study.problems = problems
    study.valid = not any(p["severity"] == "error" for p in problems)


async def create_study(
    session: Session, upload: UploadFile, settings: WebSettings, name: str | None = None
) -> Study:
    """A new study from an upload, validated with the default configuration."""
    received = await receive(upload, settings)
    study_id = new_id()
    data = store(received, upload.filename or "upload", study_id, 1, settings)
    study = Study(
        id=study_id,
        name=(name or Path(upload.filename or "study").stem)[:200],
        data_kind="xlsx" if data.suffix == ".xlsx" else "folder",
        data_path=relative(data, settings),
        input_sha256=data_hash(data),
        config_yaml=config_template(),
        show_ids=False,
        uploads=1,
    )
    revalidate(study, settings)
    session.add(study)
    session.commit()
    return study


async def replace_data(
    session: Session, study: Study, upload: UploadFile, settings: WebSettings
) -> None:
    """A corrected file for the study: kept beside the earlier ones, validated again."""
    received = await receive(upload, settings)
    version = study.uploads + 1
    data = store(received, upload.filename or "upload", study.id, version, settings)
    study.uploads = version
    study.data_kind = "xlsx" if data.suffix == ".xlsx" else "folder"
    study.data_path = relative(data, settings)
    study.input_sha256 = data_hash(data)
    revalidate(study, settings)
    session.commit()


def get_study(session: Session, study_id: str) -> Study:
    """The study, or 404."""
    study = session.get(Study, study_id)
    if study is None:
        raise refuse(status.HTTP_404_NOT_FOUND, "no such study")
    return study


def get_run(session: Session, run_id: str) -> Run:
    """The run, or 404."""
    run = session.get(Run, run_id)
    if run is None:
        raise refuse(status.HTTP_404_NOT_FOUND, "no such run")
    return run


def set_config(session: Session, study: Study, text: str, settings: WebSettings) -> None:
    """Save a configuration (YAML text) after checking it; ConfigError when invalid."""
    execution.parse_config(text)
    study.config_yaml = text
    revalidate(study, settings)
    session.commit()


def queue_run(
    session: Session,
    study: Study,
    settings: WebSettings,
    queue: WorkQueue,
    config: dict[str, Any] | None = None,
) -> Run:
    """A new run of the study's current data, with `config` or the study's configuration."""
    if not study.valid:
        raise refuse(
            status.HTTP_409_CONFLICT,
            "the study has validation problems: fix the data and upload it again first",
        )
    text = study.config_yaml
    if config is not None:
        try:
            text = execution.config_yaml(config_from_mapping(config))
        except ConfigError as exc:
            raise refuse(422, str(exc)) from None
    number = session.scalar(select(func.count()).where(Run.study_id == study.id)) or 0
    run_id = new_id()
    run = Run(
        id=run_id,
        study_id=study.id,
        number=number + 1,
        status="queued",
        progress=0.0,
        stage="queued",
        config_yaml=text,
        input_sha256=study.input_sha256,
        data_path=study.data_path,
        show_ids=study.show_ids,
        out_path=f"runs/{run_id}/out",
    )
    session.add(run)
    session.commit()
    queue.submit(run.id)
    return run


def rerun(session: Session, old: Run, settings: WebSettings, queue: WorkQueue) -> Run:
    """Run a finished or failed run again: same inputs, same configuration."""
    study = old.study
    run_id = new_id()
    number = session.scalar(select(func.count()).where(Run.study_id == study.id)) or 0
    run = Run(
        id=run_id,
        study_id=study.id,
        number=number + 1,
        status="queued",
        stage="queued",
        progress=0.0,
        config_yaml=old.config_yaml,
        input_sha256=old.input_sha256,
        data_path=old.data_path,
        show_ids=old.show_ids,
        out_path=f"runs/{run_id}/out",
    )
    session.add(run)
    session.commit()
    queue.submit(run.id)
    return run


def output_file(run: Run, name: str, settings: WebSettings) -> Path:
    """A file of a finished run's output folder, checked to stay inside the data folder."""
    if run.status != "done":
        raise refuse(status.HTTP_409_CONFLICT, f"the run is {run.status}, not done")
    out = settings.data_dir / run.out_path
    try:
        path = inside(out / name, settings.data_dir)
    except UploadError as exc:
        raise refuse(status.HTTP_404_NOT_FOUND, str(exc)) from None
    if not path.is_relative_to(out.resolve()) or not path.is_file():
        raise refuse(status.HTTP_404_NOT_FOUND, "no such output file")
    return path


def outputs_zip(run: Run, settings: WebSettings) -> Path:
    """The run's output folder as one .zip (built once, kept beside the folder)."""
    out = inside(settings.data_dir / run.out_path, settings.data_dir)
    if run.status != "done":
        raise refuse(status.HTTP_409_CONFLICT, f"the run is {run.status}, not done")
    archive = out.parent / "outputs.zip"
    if not archive.exists():
        partial = out.parent / "outputs.zip.partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    zf.write(path, Path("outputs") / path.relative_to(out))
        partial.replace(archive)
    return archive
