"""io.files (the one atomic write) and io.jsonlines (the one JSON Lines reader and writer)."""

import os
import subprocess
import sys

import pytest

from movie_enrichment.io import files, jsonlines


@pytest.mark.parametrize("path", ["movies.json", "/srv/db/movies.json", "./a b/c.json", "gs://bucket/movies.json",
                                  "s3://b/k.json", "file:///x.json", "memory://x", " gs://b/x"])
def test_is_local_answers_as_beams_filesystems_do(path):
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.io.localfilesystem import LocalFileSystem
    try:
        beams = isinstance(FileSystems.get_filesystem(path), LocalFileSystem)
    except ValueError:  # a scheme Beam has no file system for: not local either
        beams = False
    assert files.is_local(path) is beams


@pytest.mark.parametrize("durable", [True, False])
def test_atomic_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path, durable):
    target = tmp_path / "state.json"
    target.write_bytes(b"old\n")
    files.atomic_write(str(target), [b"new", b" in chunks\n"], durable=durable)
    assert target.read_bytes() == b"new in chunks\n" and os.listdir(tmp_path) == ["state.json"]


def test_a_durable_write_flushes_to_disk_and_a_fast_one_does_not(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    files.atomic_write(str(tmp_path / "fast.json"), b"{}", durable=False)
    assert synced == []
    files.atomic_write(str(tmp_path / "durable.json"), b"{}")
    assert len(synced) == 2, "the file before its rename, then its folder after"


def test_importing_the_file_helpers_does_not_import_apache_beam():
    code = ("import sys\nfrom movie_enrichment.io import files, jsonlines, lock, progress\n"
            "from movie_enrichment.console import runs\nprint('apache_beam' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_json_lines_read_back_what_was_written_and_skip_damaged_lines(tmp_path):
    path = str(tmp_path / "review.jsonl")
    entries = [{"key": "Alien", "n": 2 ** 40}, {"key": "Zodiac", "title": "Zodiac \u00e9"}]
    jsonlines.write(path, entries)
    assert jsonlines.read(path) == entries
    with open(path, "ab") as handle:
        handle.write(b'[1, 2]\n{"cut short by a crash": \n')  # not an object; half a line
    assert jsonlines.read(path) == entries


def test_a_missing_json_lines_file_reads_as_empty(tmp_path):
    assert jsonlines.read(str(tmp_path / "none.jsonl")) == [] and jsonlines.read(None) == []
