"""--download_images in the live progress (issue 26): the progress line, the progress file's figures and the
metrics a remote runner gives show images stored, already there and failed, and bytes; a run without it shows
exactly what it did before."""

import io

import pytest

from movie_enrichment.io import progress
from movie_enrichment.pipelines import metrics, report

BEFORE = {"selected": 200, "done": 50, "failed": 1, "requests": 120, "retries": 2, "throttled": 0, "cache_hits": 3,
          "unreachable": 0, "enriching": 1, "writing": 0}


@pytest.fixture(autouse=True)
def quiet_tracker():
    progress.TRACKER.reset()
    yield
    progress.TRACKER.reset()


def _display() -> report.ProgressDisplay:
    return report.ProgressDisplay("lines", 5.0, io.StringIO(), lambda: {})


def test_without_downloads_the_line_and_the_figures_are_as_before():
    counts = {**dict.fromkeys(progress.FIELDS + progress.MARKS, 0), **BEFORE}
    line = _display().line(counts)
    assert line.startswith("movies 50/200 (25%), ") and "cache hits 3, elapsed " in line and "images" not in line
    assert not [name for name in report.figures(counts, 10.0) if name.startswith("images")]


def test_with_downloads_the_line_and_the_progress_file_show_images_and_bytes():
    counts = {**dict.fromkeys(progress.FIELDS + progress.MARKS, 0), **BEFORE, "images_downloaded": 30,
              "images_skipped": 12, "images_failed": 1, "images_bytes": 2_500_000}
    line = _display().line(counts)
    assert "cache hits 3, images 30 stored (2.5 MB), 12 already there, 1 failed, elapsed " in line
    shown = report.figures(counts, 10.0)
    assert {k: v for k, v in shown.items() if k.startswith("images")} == {
        "images_downloaded": 30, "images_skipped": 12, "images_failed": 1, "images_bytes": 2_500_000}


def test_the_tracker_adds_up_images_across_worker_processes(tmp_path):
    (tmp_path / "worker-1.json").write_text('{"images_downloaded": 4, "images_bytes": 100}')
    progress.add(images_downloaded=1, images_skipped=2, images_bytes=50)
    totals = progress.totals(str(tmp_path))
    assert (totals["images_downloaded"], totals["images_skipped"], totals["images_bytes"]) == (5, 2, 150)


def test_a_remote_runner_s_metrics_give_the_images_that_failed_not_the_movies():
    counts = metrics.progress_counts({"images_downloaded": 7, "images_skipped": 1, "images_download_failed": 2,
                                      "images_failed": 1, "images_bytes": 900})
    assert (counts["images_downloaded"], counts["images_skipped"], counts["images_failed"],
            counts["images_bytes"]) == (7, 1, 2, 900)


def test_the_report_s_image_figures_come_only_with_downloads():
    def summary(counters):
        return report.RunSummary(output="o.json", backup=None, failures=None, report=None, counters=counters,
                                 elapsed=1.0, enrichers=("metadata", "images")).as_dict()

    # A run without --download_images whose images enricher failed a movie: no image figures.
    assert "images_downloaded" not in summary({"images_failed": 1, "lookup_ok": 1})
    shown = summary({"images_downloaded": 3, "images_download_failed": 2, "images_failed": 1, "images_bytes": 10})
    assert (shown["images_downloaded"], shown["images_failed"], shown["images_bytes"]) == (3, 2, 10)
