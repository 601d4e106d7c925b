"""Line numbers in TOML text, for configuration errors that name ``file:line``.

:mod:`tomllib` returns plain values without positions; :func:`line_of` finds the line a key
stands on, so a message can point at it (plans, populations, link and bench files).
"""

from __future__ import annotations

import re


def line_of(text: str, key: str, *, header: str | None = None, occurrence: int = 0) -> int | None:
    """1-based line of ``key = ...`` in ``text``.

    Parameters
    ----------
    text : str
        The TOML text.
    key : str
        The key (a bare key, as written before ``=``, inside an inline table, or a table name).
    header : str, optional
        Search inside the ``occurrence``-th ``[header]`` / ``[[header]]`` table (up to the next
        table of that name); without a hit of ``key`` in it, that header's line.
    occurrence : int
        Which header (0-based).

    Returns
    -------
    int or None
        The line, or None when neither the key nor the header is found.

    Examples
    --------
    >>> line_of("a = 1\\n[[step]]\\nname = 'x'\\n[[step]]\\nname = 'y'\\n", "name", header="step", occurrence=1)
    5
    """
    lines = text.splitlines()
    start, stop = 0, len(lines)
    if header is not None:
        hits = [i for i, ln in enumerate(lines) if re.match(rf"\s*\[\[?\s*{re.escape(header)}\s*\]\]?", ln)]
        if occurrence < len(hits):
            start = hits[occurrence]
        if occurrence + 1 < len(hits):
            stop = hits[occurrence + 1]      # a key this table lacks is not the next table's
    pat = re.compile(rf"^\s*{re.escape(key)}\s*=|[{{,]\s*{re.escape(key)}\s*=|\[\s*{re.escape(key)}\s*\]")
    for i in range(start, stop):
        if pat.search(lines[i]):
            return i + 1
    return start + 1 if header is not None else None


__all__ = ["line_of"]
