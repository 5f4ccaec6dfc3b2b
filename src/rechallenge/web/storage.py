"""Files under the data folder: safe unpacking of uploads, hashing, and paths that stay inside.

An uploaded .zip is unpacked member by member: absolute names, ``..`` parts, symbolic links,
too many members and more bytes than the cap are refused before anything is written, and the
bytes written are counted again while copying (a member may lie about its size). Only the
CSV files of the study are kept. Every path handed out is resolved and checked to lie in the
data folder, so a symbolic link placed there never leads out of it.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from rechallenge.run_folder import sha256_file

XLSX_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024


class UploadError(ValueError):
    """The upload is refused; the message says why in words a user can act on."""


def inside(path: Path, root: Path) -> Path:
    """`path` resolved (links followed), or UploadError when that leaves `root`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UploadError("that file lies outside the data folder and is not served")
    return resolved


def _member_name(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's relative path, None for entries to skip; UploadError when unsafe."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        raise UploadError(
            f"the archive member {name!r} would be written outside the study folder "
            "(an absolute path or '..'); the archive is refused"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadError(f"the archive member {name!r} is a symbolic link; links are refused")
    if info.is_dir() or path.name.startswith(".") or "__MACOSX" in path.parts:
        return None
    return path if path.suffix.lower() == ".csv" else None


def unpack_zip(archive: Path, target: Path, *, max_bytes: int, max_members: int) -> Path:
    """Unpack the CSV files of `archive` into `target`; return the folder holding them.

    The CSVs may sit at the archive's top or in one folder (as a zipped folder has them).
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise UploadError(
                    f"the archive holds {len(infos)} entries; at most {max_members} are accepted"
                )
            members = [(info, p) for info in infos if (p := _member_name(info)) is not None]
            declared = sum(info.file_size for info, _ in members)
            if declared > max_bytes:
                raise UploadError(_too_big(declared, max_bytes, "unpacked"))
            folders = {p.parent for _, p in members}
            if not members:
                raise UploadError("the archive holds no .csv file; zip the study folder")
            if len(folders) > 1:
                raise UploadError(
                    "the archive's .csv files are in more than one folder; zip one study folder"
                )
            target.mkdir(parents=True, exist_ok=False)
            written = 0
            for info, path in members:
                destination = target / path.name
                with zf.open(info) as source, destination.open("xb") as sink:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UploadError(_too_big(written, max_bytes, "unpacked"))
                        sink.write(chunk)
    except zipfile.BadZipFile as exc:
        raise UploadError("the file is not a readable .zip archive") from exc
    except UploadError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _too_big(size: int, cap: int, what: str) -> str:
    return (
        f"the upload is too large: {size / 1_048_576:.1f} MiB {what}, the limit is "
        f"{cap / 1_048_576:.1f} MiB"
    )


def too_big_message(size: int, cap: int) -> str:
    """The refusal for an upload over the size cap."""
    return _too_big(size, cap, "received")


def sniff_kind(filename: str, head: bytes) -> str:
    """'zip' or 'xlsx' from the name and first bytes; UploadError for anything else."""
    suffix = Path(filename).suffix.lower()
    if not head.startswith(XLSX_MAGIC):
        raise UploadError("upload a .zip of the study's CSV folder or an .xlsx workbook")
    if suffix in (".zip", ".xlsx"):
        return suffix[1:]
    raise UploadError(
        f"files ending in {suffix or '(nothing)'} are not accepted; use .zip or .xlsx"
    )


def data_hash(data: Path) -> str:
    """SHA-256 over the input files, by name and content (a folder in name order)."""
    if data.is_file():
        return sha256_file(data)
    digest = hashlib.sha256()
    for path in sorted(data.iterdir()):
        if path.is_file() and not path.is_symlink():
            digest.update(path.name.encode() + b"\0" + sha256_file(path).encode())
    return digest.hexdigest()
