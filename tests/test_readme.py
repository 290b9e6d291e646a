"""The README's picture of the pipeline names only steps that the real graph has."""

import re
from pathlib import Path

import apache_beam as beam

from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.pipelines.enrich_pipeline import build_pipeline
from movie_enrichment.transforms.selection import Selector

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_graph_steps() -> set[str]:
    text = README.read_text()
    section = text[text.index("## How it works"):]
    block = section[section.index("```") + 3:]
    block = block[:block.index("```")]
    block = re.sub(r"\(.*?\)", " ", block, flags=re.S)  # notes in brackets, e.g. "(CoGroupByKey, ...)"
    return set(re.findall(r"\b[A-Z][A-Za-z]+\b", block))


def _graph_labels(tmp_path) -> set[str]:
    config = RunConfig(input=str(tmp_path / "movies.json"), output=str(tmp_path / "movies.json"),
                       backup_dir=str(tmp_path / "backups"), failures=str(tmp_path / "failures.jsonl"),
                       checkpoint_dir=str(tmp_path / "checkpoints"), settings=TmdbSettings(api_key="unused"),
                       selector=Selector())
    p = beam.Pipeline()
    build_pipeline(p, config)
    labels: set[str] = set()

    class Collect(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            self.visit_transform(node)

        def visit_transform(self, node):
            labels.update(node.full_label.split("/"))

    p.visit(Collect())
    return labels


def test_every_step_the_readme_draws_is_in_the_graph(tmp_path):
    steps = _readme_graph_steps()
    assert {"ReadMovies", "SelectMovies", "MatchTmdb", "WriteDatabase"} <= steps, steps
    missing = steps - _graph_labels(tmp_path)
    assert not missing, f"README.md draws steps the pipeline does not have: {sorted(missing)}"
