"""Output folders with clear semantics: a run appears whole or not at all.

A run writes into a fresh hidden folder beside the output folder (``.<name>.partial-XXXX``)
and, only once every file is written, moves it into place with ``os.rename`` (atomic on one
file system). The marker file ``.rechallenge-run.json`` (written last) names the version,
the status (``complete``, or ``failed`` when the data had problems) and every file with its
SHA-256, so:

- a killed run leaves only the hidden partial folder, never a folder that looks complete;
- a previous run of ours is replaced as a whole (nothing stale stays beside new files),
  but only while its files are as we wrote them: a hand-edited table or an added file
  makes the run refuse, naming the files, unless ``--force``;
- a non-empty folder without our marker is refused unless ``--force``;
- a folder that holds the study data, the configuration or the current directory is
  always refused (``--force`` would otherwise delete them).

Replacing swaps the folders by two renames (old aside, new in place) and then deletes the
old one; between the two renames the output folder is briefly absent, never mixed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from rechallenge import __version__
from rechallenge.errors import OutputFolderError

MARKER: Final = ".rechallenge-run.json"
#: Files a desktop adds on its own; they do not make a folder "changed".
IGNORED: Final = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Files whose content changes between identical runs (stage times): listed, not hashed.
UNHASHED: Final = frozenset({"run.log"})
#: Free space a run needs at least, besides about 30 times the input size (the example
#: cohort's 0.14 MB of input gives 3.6 MB of outputs).
MIN_FREE_BYTES: Final = 64 * 1024 * 1024
OUTPUT_PER_INPUT: Final = 30

Status = Literal["complete", "failed"]


@dataclass(frozen=True)
class FolderState:
    """What an existing output folder holds, as far as a new run is concerned."""

    kind: Literal["absent", "empty", "ours", "changed", "foreign"]
    changed: tuple[str, ...] = ()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[str]:
    """Every file under `folder` (relative POSIX paths), marker and desktop files left out."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name not in IGNORED and p.name != MARKER
    )


def inspect(folder: Path) -> FolderState:
    """Absent, empty, an unchanged run of ours, a changed run of ours, or someone else's."""
    if not folder.exists():
        return FolderState("absent")
    marker = folder / MARKER
    if not marker.is_file():
        anything = any(p.name not in IGNORED for p in folder.iterdir())
        return FolderState("foreign" if anything else "empty")
    present = _files(folder)
    try:
        listed: dict[str, str | None] = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return FolderState("foreign")
    changed = sorted(set(present) ^ set(listed))
    changed += [
        name
        for name, digest in listed.items()
        if digest is not None and name in present and sha256_file(folder / name) != digest
    ]
    return FolderState("changed", tuple(sorted(changed))) if changed else FolderState("ours")


def _inside(path: Path, folder: Path) -> bool:
    """`path` is `folder` or lies under it (both resolved)."""
    return path == folder or folder in path.parents


def check_target(
    out: Path, *, force: bool, protected: Iterable[Path] = (), input_bytes: int = 0
) -> FolderState:
    """Everything that would stop a run from writing `out`, checked before any computing.

    Raises OutputFolderError with a one-line reason; returns the folder's state otherwise.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out} is a file, not a folder; give a folder name")
    resolved = out.resolve()
    for path in (*protected, Path.cwd(), Path.home()):
        if _inside(Path(path).resolve(), resolved):
            raise OutputFolderError(
                f"--out {out} holds {path}, which a run would replace; choose a folder of its own"
            )
    state = inspect(out)
    if state.kind == "foreign" and not force:
        raise OutputFolderError(
            f"--out {out} is not empty and holds no earlier rechallenge run; choose a new or "
            "empty folder, or pass --force to replace it and everything in it"
        )
    if state.kind == "changed" and not force:
        shown = ", ".join(state.changed[:5]) + (" ..." if len(state.changed) > 5 else "")
        raise OutputFolderError(
            f"--out {out} holds an earlier run whose files changed since it was written "
            f"({shown}); copy them elsewhere, or pass --force to replace the whole folder"
        )
    _check_writable(resolved.parent, input_bytes)
    return state


def _check_writable(parent: Path, input_bytes: int) -> None:
    """The nearest existing ancestor accepts new folders and has room for a run."""
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputFolderError(f"cannot create the output folder: {existing} is a file")
    if not writable(existing):
        raise OutputFolderError(f"cannot write in {existing}: permission denied")
    needed = MIN_FREE_BYTES + OUTPUT_PER_INPUT * input_bytes
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise OutputFolderError(
            f"only {free / 1e6:.0f} MB free on the disk of {existing}; a run of this study "
            f"needs about {needed / 1e6:.0f} MB"
        )


def writable(folder: Path) -> bool:
    """This process may create entries in `folder`."""
    return os.access(folder, os.W_OK | os.X_OK)


def open_staging(out: Path) -> Path:
    """A fresh hidden folder beside `out` that the run writes into."""
    out = Path(out).resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise OutputFolderError(f"cannot create a folder beside {out}: {_reason(exc)}") from None


def write_marker(staging: Path, status: Status, source: dict[str, Any] | None = None) -> None:
    """The marker, written last: version, status, every file with its checksum and, when
    given, the description of the data source (the caller leaves credentials out)."""
    files: dict[str, Any] = {
        name: (None if name in UNHASHED else sha256_file(staging / name))
        for name in _files(staging)
    }
    marker: dict[str, Any] = {"rechallenge": __version__, "status": status, "files": files}
    if source is not None:
        marker["source"] = source
    text = json.dumps(marker, indent=2, sort_keys=True) + "\n"
    (staging / MARKER).write_text(text, encoding="utf-8")


def publish(
    staging: Path, out: Path, status: Status, *, source: dict[str, Any] | None = None
) -> Path:
    """Mark `staging` and move it into place as `out`, replacing what `out` held."""
    out = Path(out).resolve()
    write_marker(staging, status, source)
    if out.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, aside / out.name)
        os.rename(staging, out)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(staging, out)
    return out


def abandon(staging: Path) -> None:
    """Remove a partial folder (a failed or interrupted write)."""
    shutil.rmtree(staging, ignore_errors=True)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def write_failure(exc: OSError, out: Path) -> OutputFolderError:
    """A one-line error for a write that failed half-way (the old outputs are untouched)."""
    return OutputFolderError(
        f"writing the outputs failed ({_reason(exc)}); {out} is unchanged and the partial "
        "outputs were removed"
    )
