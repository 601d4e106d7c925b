"""optics.io.atomic: a file is replaced whole or not at all."""

import errno
import os
import stat

import pytest

from optics.errors import InvalidParameter
from optics.io import atomic
from optics.io.atomic import atomic_file, write_text


def test_an_exception_after_a_partial_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("previous report", encoding="utf-8")
    with pytest.raises(RuntimeError, match="formatting failed"):
        with atomic_file(target) as fh:
            fh.write("<html>half a new rep")
            fh.flush()
            raise RuntimeError("formatting failed")
    assert target.read_text(encoding="utf-8") == "previous report"
    assert os.listdir(tmp_path) == ["r.html"]             # no temporary file left behind


def test_a_full_disk_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "r.csv"
    target.write_bytes(b"old")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left"):
        write_text(target, "new" * 1000)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["r.csv"]


def test_the_new_file_is_renamed_over_the_old_one_from_the_same_directory(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    seen = []
    real = os.replace
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (seen.append((src, dst)), real(src, dst)))
    with atomic_file(target, "wb") as fh:
        fh.write(b'{"a": 1}')
        assert target.read_text() == "{}"                   # the old file until the end of the block
    (src, dst), = seen
    assert os.path.dirname(src) == str(tmp_path) and dst == target
    assert target.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o640    # the replaced file's permissions kept


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "new.html", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644      # 0o666 less the umask, as open() gives


def test_only_write_modes(tmp_path):
    with pytest.raises(InvalidParameter, match="mode 'a'"):
        with atomic_file(tmp_path / "x", "a"):
            pass
    assert os.listdir(tmp_path) == []
