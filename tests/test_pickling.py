"""Every function the built pipeline ships (DoFns, CombineFns, mapped callables) round-trips through plain
cloudpickle, the pickler Dask, Ray and others ship functions with, for the JSON file and for a SQLite store; and no
transform keeps a lock, event, thread or open file in its constructor state."""

import io
import pickle
import threading

import apache_beam as beam
import cloudpickle
import pytest
from apache_beam.pipeline import PipelineVisitor
from fakes import FakeClient
from test_build_pipeline import _config

from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.model import LookupRequest
from movie_enrichment.pipelines.enrich_pipeline import build_pipeline
from movie_enrichment.transforms.enrichers import EnrichPartsFn
from movie_enrichment.transforms.lookup import LookupTmdbFn
from movie_enrichment.transforms.selection import SelectMoviesFn

# Upstream cloudpickle (the test extra), not the copy Beam ships: Beam's pickler adds reducers for locks to the
# class-level table it shares with its copy, so that copy would accept what plain cloudpickle refuses.
dumps = cloudpickle.dumps
loads = pickle.loads

_UNSHIPPABLE = (type(threading.Lock()), type(threading.RLock()), threading.Event, threading.Condition,
                threading.Thread, io.IOBase)


class _Functions(PipelineVisitor):
    """Collects (label, function) for every transform that ships one, and every transform."""

    def __init__(self):
        self.functions: list[tuple[str, object]] = []
        self.transforms: list[tuple[str, beam.PTransform]] = []

    def enter_composite_transform(self, node):
        self.visit_transform(node)

    def visit_transform(self, node):
        if node.transform is None:
            return
        self.transforms.append((node.full_label, node.transform))
        for attribute in ("fn", "dofn", "combine_fn"):
            function = getattr(node.transform, attribute, None)
            if function is not None:
                self.functions.append((node.full_label, function))
                break


def _built(tmp_path, store: str) -> _Functions:
    if store == "json":
        config = _config(tmp_path)
    else:
        url = f"sqlite:///{tmp_path / 'movies.db'}"
        config = _config(tmp_path, input=url, output=url)
    p = beam.Pipeline()
    build_pipeline(p, config, client_factory=FakeClient)
    found = _Functions()
    p.visit(found)
    return found


def _unshippable(value, path: str, seen: set[int]) -> list[str]:
    """Where, in a transform's attributes, a lock, event, thread or open file is held."""
    if id(value) in seen or isinstance(value, (str, bytes, int, float, bool, type(None), type,
                                               beam.pvalue.PValue, beam.Pipeline)):
        return []
    seen.add(id(value))
    if isinstance(value, _UNSHIPPABLE):
        return [f"{path}: {type(value).__name__}"]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = enumerate(value)
    elif hasattr(value, "__dict__") and not callable(getattr(value, "__self__", None)):
        items = vars(value).items()
    else:
        return []
    return [found for key, item in items for found in _unshippable(item, f"{path}.{key}", seen)]


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_every_function_of_the_built_pipeline_round_trips_through_plain_cloudpickle(tmp_path, store):
    built = _built(tmp_path, store)
    labels = [label for label, _ in built.functions]
    assert any(label.endswith("MatchTmdb") for label in labels) and any("EnrichBoth" in lb for lb in labels)
    assert any(label.startswith("WriteDatabase/") for label in labels), labels
    failed = []
    for label, function in built.functions:
        try:
            copy = loads(dumps(function))
        except Exception as error:  # pylint: disable=broad-except
            failed.append(f"{label}: {type(error).__name__}: {error}")
            continue
        assert type(copy) is type(function), label
    assert failed == []


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_no_transform_holds_a_lock_event_thread_or_open_file(tmp_path, store):
    built = _built(tmp_path, store)
    held = [found for label, transform in built.transforms
            for found in _unshippable(vars(transform), label, set())]
    assert held == []


def test_the_check_uses_a_pickler_that_refuses_an_event():
    class Holding(beam.DoFn):
        def __init__(self):
            self.event = threading.Event()

    with pytest.raises(TypeError, match="lock"):
        dumps(Holding())
    assert _unshippable(vars(Holding()), "Holding", set()) == ["Holding.event: Event"]


def _shipped(folder, kind: type) -> beam.DoFn:
    """The `kind` DoFn of a pipeline built over a file in `folder`, after a round trip through cloudpickle."""
    folder.mkdir()
    [function] = [f for _, f in _built(folder, "json").functions if type(f) is kind]
    return loads(dumps(function))


def test_the_shipped_lookup_selection_and_enrichers_work(tmp_path):
    select = _shipped(tmp_path / "select", SelectMoviesFn)
    select.setup()
    [(key, (record, needed))] = list(select.process([("Psycho", {"title": "Psycho", "year": 1960})]))
    assert (key, tuple(needed)) == ("Psycho", ("metadata", "images"))

    lookup = _shipped(tmp_path / "lookup", LookupTmdbFn)
    lookup.setup()
    try:
        [(key, hit)] = list(lookup.process([LookupRequest(key, record, tuple(needed))]))
    finally:
        lookup.teardown()
    assert (hit.status, hit.tmdb_id) == ("ok", 539)

    enrich = _shipped(tmp_path / "enrich", EnrichPartsFn)
    enrich.setup()
    try:
        [(key, parts)] = list(enrich.process((key, hit)))
    finally:
        enrich.teardown()
    assert [(p.enricher, p.outcome["status"]) for p in parts] == [("metadata", "ok"), ("images", "ok")]
    assert parts[1].value["poster"] == "https://image.tmdb.org/t/p/w500/p539.jpg"


def test_a_shipped_lookup_fn_made_before_setup_holds_no_event():
    fn = LookupTmdbFn(TmdbSettings(api_key="k", base_url="http://fake.invalid/3"), client_factory=FakeClient)
    assert _unshippable(vars(fn), "LookupTmdbFn", set()) == []
    copy = loads(dumps(fn))
    copy.setup()
    copy.teardown()


def test_the_image_download_and_prune_steps_ship_too(tmp_path):
    from movie_enrichment.transforms.download import DownloadImagesFn, DownloadSettings
    p = beam.Pipeline()
    build_pipeline(p, _config(tmp_path, download=DownloadSettings(root=str(tmp_path / "img")), prune_images=True),
                   client_factory=FakeClient)
    built = _Functions()
    p.visit(built)
    labels = [label for label, _ in built.functions]
    assert any(label.endswith("FetchImages") for label in labels) and any("PruneImages" in lb for lb in labels)
    for label, function in built.functions:
        assert type(loads(dumps(function))) is type(function), label
    assert [found for label, transform in built.transforms
            for found in _unshippable(vars(transform), label, set())] == []
    [fetch] = [f for _, f in built.functions if isinstance(f, DownloadImagesFn)]
    assert loads(dumps(fetch))._downloads is None  # the connections and the pool exist only after setup
