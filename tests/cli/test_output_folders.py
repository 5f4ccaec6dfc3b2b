"""Output folders: a run appears whole or not at all, replaces our runs whole, refuses others.

Each test reproduces a stumble a new user met (stale outputs beside problems.csv, a
silently overwritten hand-edited table, a traceback for a bad --out) and checks its fix.
Figures are left out (FIGURES patched empty) to keep the runs quick; the folder semantics
do not depend on them.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rechallenge import run_folder
from rechallenge.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from datafactory import copy_tables, write_study

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rechallenge.figures.render.FIGURES", ())


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "study", copy_tables())


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    tables = copy_tables()
    tables["treatments"][0]["ecog"] = "7"
    return write_study(tmp_path / "broken", tables)


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["run", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def visible(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def marker(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / run_folder.MARKER).read_text("utf-8"))
    return data


def test_a_run_is_marked_with_version_status_and_every_file(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(study, "--out", out)
    assert code == 0, output
    mark = marker(out)
    assert mark["status"] == "complete"
    files = mark["files"]
    assert isinstance(files, dict)
    assert set(files) == set(visible(out)) - {run_folder.MARKER}
    assert files["run.log"] is None  # stage times differ between runs: listed, not hashed
    assert "results.json" in files and "report.html" in files
    assert f"Report: {out / 'report.html'}\n" in output


def test_failed_run_leaves_no_old_outputs_beside_problems(
    study: Path, broken: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    code, output = run(broken, "--out", out)
    assert code == 1
    assert visible(out) == [run_folder.MARKER, "problems.csv"]
    assert marker(out)["status"] == "failed"
    assert "problems.csv" in output
    # and a later good run leaves no problems.csv behind
    assert run(study, "--out", out)[0] == 0
    assert "problems.csv" not in visible(out)
    assert "results.json" in visible(out)


def test_hand_edited_table_is_never_overwritten_silently(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    edited = out / "tables" / "table2_efficacy.csv"
    edited.write_text("my corrections\n", encoding="utf-8")
    code, output = run(study, "--out", out)
    assert code == 2
    assert "tables/table2_efficacy.csv" in output and "--force" in output
    assert edited.read_text(encoding="utf-8") == "my corrections\n"
    assert run(study, "--out", out, "--force")[0] == 0
    assert edited.read_text(encoding="utf-8") != "my corrections\n"


def test_added_file_counts_as_a_change(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    (out / "notes.docx").write_bytes(b"mine")
    code, output = run(study, "--out", out)
    assert code == 2 and "notes.docx" in output
    assert (out / "notes.docx").exists()


def test_an_unchanged_earlier_run_is_replaced_whole(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    (out / "datasets" / "extra.csv").unlink(missing_ok=True)
    first = set(visible(out))
    assert run(study, "--out", out)[0] == 0
    assert set(visible(out)) == first
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert leftovers == []  # no partial or old folder left beside it


def test_foreign_folder_is_refused_unless_force(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    code, output = run(study, "--out", out)
    assert code == 2
    assert "not empty" in output and "--force" in output
    assert "Traceback" not in output
    assert (out / "thesis.docx").read_bytes() == b"precious"
    assert run(study, "--out", out, "--force")[0] == 0
    assert not (out / "thesis.docx").exists()


def test_folder_holding_the_data_is_refused_even_with_force(study: Path) -> None:
    code, output = run(study, "--out", study.parent, "--force")
    assert code == 2
    assert "holds" in output
    assert (study / "patients.csv").exists()


def test_out_naming_a_file_is_one_line_exit_2(study: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("x", encoding="utf-8")
    code, output = run(study, "--out", target)
    assert code == 2
    assert output.strip().count("\n") == 0
    assert "is a file, not a folder" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_folder_is_refused_before_computing(study: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, output = run(study, "--out", locked / "out")
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert "permission denied" in output


def test_folder_without_write_permission_is_refused(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_folder, "writable", lambda _: False)
    code, output = run(study, "--out", tmp_path / "out")
    assert code == 2
    assert f"cannot write in {tmp_path}: permission denied" in " ".join(output.split())


def test_full_disk_is_refused_before_computing(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_folder.shutil, "disk_usage", lambda _: Usage(1000))
    computed: list[bool] = []

    def load(*_: object) -> None:
        computed.append(True)

    monkeypatch.setattr("rechallenge.pipeline.load_validated", load)
    code, output = run(study, "--out", tmp_path / "out")
    assert code == 2
    assert "MB free" in output
    assert computed == []


class Usage:
    def __init__(self, free: int) -> None:
        self.free = free


def test_disk_filling_up_mid_write_keeps_the_old_run(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    before = {name: (out / name).read_bytes() for name in visible(out)}

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rechallenge.pipeline.write_run_log", full)
    code, output = run(study, "--out", out)
    assert code == 2
    assert "no space left" in output and "Traceback" not in output
    assert {name: (out / name).read_bytes() for name in visible(out)} == before
    assert [p for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_interrupted_run_leaves_the_old_run_untouched(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(study, "--out", out)[0] == 0
    before = visible(out)

    def interrupt(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rechallenge.pipeline.write_run_log", interrupt)
    runner.invoke(app, ["run", str(study), "--out", str(out)])
    assert visible(out) == before
    assert marker(out)["status"] == "complete"
    assert [p for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_pdf_without_the_extra_stops_before_writing(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rechallenge.pipeline.importlib.util.find_spec", lambda name: None)
    out = tmp_path / "out"
    code, output = run(study, "--out", out, "--pdf")
    assert code == 2
    flat = " ".join(output.split())
    assert "pip install 'rechallenge[pdf]'" in flat
    assert ".venv/bin/pip install -e '.[pdf]'" in flat
    assert "Traceback" not in output
    assert not out.exists()


def test_pseudonym_key_is_written_outside_the_outputs_with_a_warning(
    study: Path, tmp_path: Path
) -> None:
    out, key = tmp_path / "out", tmp_path / "private" / "key.csv"
    key.parent.mkdir()
    code, output = run(study, "--out", out, "--pseudonym-key", key)
    assert code == 0, output
    assert key.read_bytes().decode("utf-8") == "pseudonym,patient_id\nP01,P-001\nP02,P-002\n"
    assert "identifies patients" in " ".join(output.split())
    for name in visible(out):
        if name.endswith((".csv", ".json", ".html", ".log")):
            assert "P-001" not in (out / name).read_text(encoding="utf-8", errors="ignore")


def test_pseudonym_key_inside_the_output_folder_is_refused(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(study, "--out", out, "--pseudonym-key", out / "key.csv")
    assert code == 2
    assert "inside the output folder" in " ".join(output.split())
    assert not out.exists()


def test_killed_run_never_leaves_a_folder_that_looks_complete(tmp_path: Path) -> None:
    """SIGKILL in the middle of the write stage, in a real process."""
    import signal
    import subprocess

    study = write_study(tmp_path / "study", copy_tables())
    out = tmp_path / "out"
    script = (
        "import os, signal, sys\n"
        "import rechallenge.pipeline as p\n"
        "p.write_run_log = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from rechallenge.cli import app\n"
        f"sys.argv = ['rechallenge', 'run', {str(study)!r}, '--out', {str(out)!r}]\n"
        "app()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    partial = [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert len(partial) == 1
    assert not (partial[0] / run_folder.MARKER).exists()
    assert run_folder.inspect(partial[0]).kind == "foreign"
