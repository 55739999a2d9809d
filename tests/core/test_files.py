"""write_atomically: the new content or the old, never half a file; the temporary file never left behind."""

from __future__ import annotations

import os

import pytest

from theorycheck.core.files import write_atomically


def test_replaces_the_whole_file_and_creates_parents(tmp_path):
    target = tmp_path / "a" / "b" / "f.bin"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"good")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["f.txt"]
