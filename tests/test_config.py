"""Resolving a command line: one strict parse, every default applied before anything is derived from it."""

import os

import pytest

from movie_enrichment.pipelines import errors
from movie_enrichment.pipelines.config import resolve

BASE = ["--input", "movies.json", "--tmdb_api_key", "a-secret-key", "--max_requests_per_second", "40"]
MODES = ("multi_threading", "multi_processing", "in_memory")
WORKERS = (None, "1", "2", "4")


def _processes(mode: str, workers: str | None) -> int:
    """What Beam's local engine really starts: separate processes only in multi_processing mode, as many as
    --direct_num_workers, whose default here is 4."""
    if mode != "multi_processing":
        return 1
    return 4 if workers is None else int(workers)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("workers", WORKERS, ids=lambda w: f"workers={w or 'unset'}")
def test_each_local_process_takes_its_share_of_the_rate(mode, workers):
    argv = BASE + ["--direct_running_mode", mode] + (["--direct_num_workers", workers] if workers else [])
    options, config = resolve(argv)
    assert config.settings.max_requests_per_second == pytest.approx(40 / _processes(mode, workers))
    assert config.max_requests_per_second == 40, "the whole run's rate is kept for the report and the dry run"
    direct = options.get_all_options()
    assert direct["direct_num_workers"] == int(workers or 4), "the default the share was computed with is run"
    assert direct["direct_running_mode"] == mode


@pytest.mark.parametrize("workers", WORKERS, ids=lambda w: f"workers={w or 'unset'}")
def test_without_a_running_mode_the_default_threads_share_one_process(workers):
    argv = BASE + (["--direct_num_workers", workers] if workers else [])
    options, config = resolve(argv)
    assert config.settings.max_requests_per_second == 40
    assert options.get_all_options()["direct_running_mode"] == "multi_threading"


def test_direct_num_workers_zero_means_one_process_per_cpu():
    _, config = resolve(BASE + ["--direct_running_mode", "multi_processing", "--direct_num_workers", "0"])
    assert config.settings.max_requests_per_second == pytest.approx(40 / (os.cpu_count() or 1))


@pytest.mark.parametrize("extra, processes", [
    ([], 1),
    (["--num_workers", "5"], 5),
    (["--max_num_workers", "8"], 8),
    (["--num_workers", "2", "--max_num_workers", "10"], 10),
])
def test_another_runner_divides_the_rate_by_its_workers(extra, processes):
    options, config = resolve(BASE + ["--runner", "PortableRunner", *extra])
    assert config.settings.max_requests_per_second == pytest.approx(40 / processes)
    # The local engine's defaults are not forced on another runner.
    assert options.get_all_options()["direct_num_workers"] == 1


def test_no_rate_limit_stays_none_in_every_process():
    _, config = resolve([*BASE[:4], "--max_requests_per_second", "0", "--direct_running_mode", "multi_processing"])
    assert config.settings.max_requests_per_second == 0


def test_the_key_reaches_the_client_settings_but_not_the_pipeline_options():
    options, config = resolve(BASE)
    assert config.settings.api_key == "a-secret-key"
    assert "a-secret-key" not in repr(options.get_all_options(retain_unknown_options=True))
    assert "a-secret-key" not in str(options.to_runner_api())


@pytest.mark.parametrize("argv, words", [
    (BASE + ["--no_such_option", "1"], "unknown option: --no_such_option"),
    (BASE + ["--batch_size", "0"], "bad option"),
    (BASE + ["--direct_num_workers", "many"], "bad option"),
    (["--tmdb_api_key", "k"], "missing --input"),
])
def test_a_bad_command_line_is_a_usage_error(argv, words):
    with pytest.raises(errors.FatalError) as caught:
        resolve(argv)
    assert caught.value.status == errors.EXIT_USAGE and words in str(caught.value)

