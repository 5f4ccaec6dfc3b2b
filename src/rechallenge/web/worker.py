"""The work queue: runs execute in worker processes, a configurable number at a time.

Each run is a job in a `ProcessPoolExecutor`. The worker writes its state and progress to the
database itself, so the pages read them without asking the pool. A worker updates only a run
that is still ``running``: when the server was killed and restarted, `recover` has marked the
run failed, and a stray worker can no longer overwrite that. Workers also exit on their own
when the server process that started them is gone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import CursorResult, Update, update
from sqlalchemy.orm import Session, sessionmaker

from rechallenge.web.db import make_engine, sessions
from rechallenge.web.models import Run, now

LOG = logging.getLogger("rechallenge.web")
INTERRUPTED = "the server stopped while this run was {state}; its inputs are kept: run it again"


def _watch_parent(parent: int) -> None:
    """Exit when the server process is gone (its children are re-parented)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _init_worker(parent: int) -> None:
    """Worker start: watch the server, keep matplotlib off screen."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class WorkQueue:
    """A bounded pool of worker processes running `execute_run`."""

    def __init__(self, database_url: str, data_dir: Path, workers: int) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        self.futures: dict[str, Future[None]] = {}

    def submit(self, run_id: str) -> None:
        """Queue a run; the worker picks it up when one is free."""
        future = self.pool.submit(execute_run, self.database_url, str(self.data_dir), run_id)
        self.futures[run_id] = future
        future.add_done_callback(lambda f: self._done(run_id, f))

    def _done(self, run_id: str, future: Future[None]) -> None:
        """A worker that died (killed, out of memory) leaves the run failed with a reason."""
        self.futures.pop(run_id, None)
        if future.cancelled() or future.exception() is None:
            return
        LOG.error("run %s: the worker process ended abnormally", run_id)
        fail_run(
            sessions(make_engine(self.database_url)),
            run_id,
            "the worker process ended abnormally",
        )

    def shutdown(self) -> None:
        """Stop taking runs; queued ones stay queued and are recovered on the next start."""
        self.pool.shutdown(wait=False, cancel_futures=True)


def _changed(session: Session, statement: Update) -> int:
    """Execute an UPDATE; the number of rows it changed."""
    result = session.execute(statement)
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def fail_run(factory: sessionmaker[Session], run_id: str, reason: str) -> None:
    """Mark a queued or running run failed with `reason`."""
    with factory() as session, session.begin():
        session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_(("queued", "running")))
            .values(status="failed", error=reason, finished=now())
        )


def recover(factory: sessionmaker[Session]) -> int:
    """At start: runs left queued or running by a stopped server are failed, with the reason."""
    with factory() as session, session.begin():
        count = 0
        for state in ("queued", "running"):
            count += _changed(
                session,
                update(Run)
                .where(Run.status == state)
                .values(status="failed", error=INTERRUPTED.format(state=state), finished=now()),
            )
    return count


def execute_run(database_url: str, data_dir: str, run_id: str) -> None:
    """In a worker: run the study of `run_id` into its output folder, recording progress."""
    from rechallenge.web.execution import run_into

    factory = sessions(make_engine(database_url))

    def record(**values: object) -> bool:
        with factory() as session, session.begin():
            statement = update(Run).where(Run.id == run_id, Run.status == "running")
            return bool(_changed(session, statement.values(**values)))

    with factory() as session, session.begin():
        started = _changed(
            session,
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started=now(), progress=0.0, stage="starting"),
        )
        run = session.get(Run, run_id)
        if not started or run is None:
            return
        job = (run.data_path, run.config_yaml, run.out_path, run.show_ids)
    root = Path(data_dir)
    try:
        run_into(
            root / job[0],
            job[1],
            root / job[2],
            show_ids=job[3],
            progress=lambda fraction, stage: record(progress=fraction, stage=stage_words(stage)),
        )
    except Exception as exc:  # the reason is shown to the user; IDs never reach it
        record(status="failed", error=describe(exc), finished=now())
        return
    record(status="done", progress=1.0, stage="done", finished=now())


WRITING = {"figure": "writing the figures", "table": "writing the tables"}
WRITTEN = {"results.json": "writing the results", "datasets": "writing the datasets"}


def stage_words(stage: str) -> str:
    """The pipeline's progress note as the run page shows it: ``writing table table1_x``
    becomes ``writing the tables`` (no file stem reaches the page)."""
    verb, _, what = stage.partition(" ")
    if verb != "writing" or not what:
        return stage
    kind = what.split(" ", 1)[0]
    if kind in WRITING:
        return WRITING[kind]
    return WRITTEN.get(what, f"writing the {what.replace('_', ' ')}")


def describe(exc: BaseException) -> str:
    """A failure in words, without patient IDs or dates (data problems only by count)."""
    from rechallenge.errors import DataValidationError, RechallengeError

    if isinstance(exc, DataValidationError):
        return f"{exc}: see the study's validation problems"
    if isinstance(exc, RechallengeError):
        return str(exc)
    return f"the run failed unexpectedly ({type(exc).__name__})"
