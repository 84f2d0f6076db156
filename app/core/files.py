"""Files the gateway keeps on disk are its own: directories 0700, files 0600.

That covers the data folder when the gateway creates it, the documents and keystores folders, stored
documents, keystores, the API-key file and the SQLite database with its `-wal` and `-shm` files (SQLite
creates those with the database file's mode). Folders and files written by an earlier version are tightened
when the gateway starts.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path, tighten_existing: bool = True) -> Path:
    """`path` as a directory only its owner may enter: missing folders on the way are created 0700, and
    `path` itself is set to 0700 when it already existed with a wider mode (unless `tighten_existing` is
    false: a folder the operator chose, e.g. the one holding a database URL's file, keeps its mode)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # created meanwhile by another process
            pass
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is narrowed by the umask, never widened; be exact
    if tighten_existing:
        tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 when missing, or narrow an existing one to 0600."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass
    tighten(path, PRIVATE_FILE)
    return path


def tighten(path: Path, mode: int) -> None:
    """Set `path`'s permission bits to `mode` when they allow more (a missing path is left alone)."""
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, mode)
