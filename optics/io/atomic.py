"""Report files written whole or not at all.

:func:`atomic_file` writes into a new temporary file in the target's own directory and,
once everything is written and flushed to the disk, renames it over the target
(``os.replace``, atomic on POSIX and Windows within one file system).  A reader -- an
operator's browser, a factory system collecting the files -- sees the previous file or the
new one, never half of one; a writer that fails (disk full, an exception while formatting,
Ctrl-C) leaves the previous file as it was and removes its temporary file.

Every file writer of the toolkit uses it: the waveform archive (:func:`optics.io.write_npz`),
the station's module reports in HTML, CSV and OpenHTF JSON (:mod:`optics.station.report`,
:mod:`optics.station.openhtf`) and the lot statistics page
(:meth:`optics.station.stats.LotStats.write_html`).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from optics.errors import InvalidParameter

_MODES = ("w", "wb")


@contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends without an error.

    Parameters
    ----------
    path : str or Path
        The file to write; its directory must exist.
    mode : {'w', 'wb'}
        Text or binary.
    encoding, newline : str or None
        As for :func:`open`, text mode only.

    Yields
    ------
    file object
        The temporary file (``.<name>.<random>.tmp`` beside ``path``), created with the
        permissions a new file gets (``0o666`` less the umask) or those of the file it replaces.

    Raises
    ------
    InvalidParameter
        ``mode`` is neither ``'w'`` nor ``'wb'``.
    OSError
        The directory is missing or not writable, the disk is full...: ``path`` is unchanged.

    Examples
    --------
    >>> with atomic_file("report.csv", newline="") as fh:      # doctest: +SKIP
    ...     fh.write("serial,value\\n")
    """
    if mode not in _MODES:
        raise InvalidParameter(f"mode {mode!r} not supported; allowed: {', '.join(map(repr, _MODES))}")
    target = Path(path)
    fd, tmp = _create_temporary(target)
    try:
        text = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with open(fd, mode, **text) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())      # the data on the disk before the name points at it
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_file` and return the path."""
    with atomic_file(path, encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new file beside ``target`` (created exclusively, so never someone else's)."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name beside {target}")


__all__ = ["atomic_file", "write_text"]
