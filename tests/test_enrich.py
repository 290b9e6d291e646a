"""The enrichment DoFns with a fake TMDB client, and the EnrichMovies transform under TestPipeline."""

import copy

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from fakes import FakeClient

from movie_enrichment.io.tmdb import DETAILS_PARTS, TmdbAuthError, TmdbError, TmdbSettings
from movie_enrichment.model import EnrichedPart, Failure, LookupRequest
from movie_enrichment.transforms import enrich
from movie_enrichment.transforms.enrich import EnrichMovies, LookupTmdbFn
from movie_enrichment.transforms.enrichers import EnrichPartsFn, ImagesEnricher, MetadataEnricher

SETTINGS = TmdbSettings(api_key="secret-key-123", base_url="http://fake.invalid/3")


def lookup(batch, client=None, **client_kwargs):
    client = client or FakeClient(SETTINGS, **client_kwargs)
    fn = LookupTmdbFn(SETTINGS, client_factory=lambda _settings: client)
    fn.setup()
    try:
        return dict(fn.process([LookupRequest(*item) for item in batch]))
    finally:
        fn.teardown()


def test_remake_is_told_apart_by_year_with_two_requests():
    client = FakeClient(SETTINGS)
    hits = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("metadata", "images"))], client)
    hit = hits["Psycho"]
    assert hit.status == "ok" and hit.tmdb_id == 539
    assert [c[0] for c in client.calls] == ["search", "details"]
    assert tuple(dict.fromkeys(client.calls[1][2])) == DETAILS_PARTS  # the client sends each part once


def test_known_tmdb_id_costs_one_request_with_every_part():
    client = FakeClient(SETTINGS)
    hits = lookup([("P", {"title": "Psycho", "tmdb_id": 11252}, ("metadata",))], client)
    assert hits["P"].tmdb_id == 11252
    # Images too: one cached body then serves a later run with the images enricher.
    assert client.calls == [("details", 11252, DETAILS_PARTS)]


def test_invalid_record_costs_no_request_and_says_why():
    client = FakeClient(SETTINGS)
    hits = lookup([("x", {"title": ""}, ("metadata", "images"))], client)
    assert hits["x"].status == "invalid" and "title" in hits["x"].error
    assert client.calls == []


def test_network_failure_is_data_with_the_key_redacted():
    hits = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("metadata",))], fail_search=True)
    assert hits["Psycho"].status == "failed"
    assert "secret-key-123" not in hits["Psycho"].error and "503" in hits["Psycho"].error


def test_rejected_key_stops_the_run():
    with pytest.raises(TmdbAuthError):
        lookup([("Psycho", {"title": "Psycho"}, ("metadata",))], auth_error=True)


def test_lookup_writes_one_checkpoint_per_batch(tmp_path):
    fn = LookupTmdbFn(SETTINGS, checkpoint_dir=str(tmp_path / "ck"), client_factory=FakeClient)
    fn.setup()
    list(fn.process([LookupRequest("Psycho", {"title": "Psycho", "year": 1960}, ("metadata",)),
                     LookupRequest("Psycho (1998)", {"title": "Psycho", "year": 1998}, ("metadata",))]))
    fn.teardown()
    files = list((tmp_path / "ck").glob("batch-*.json"))
    assert len(files) == 1 and b"Psycho (1998)" in files[0].read_bytes()


def test_a_checkpointed_hit_is_reused_without_a_request():
    record = {"title": "Psycho", "year": 1960}
    hit = lookup([("Psycho", record, ("metadata",))])["Psycho"]
    client = FakeClient(SETTINGS)
    fn = LookupTmdbFn(SETTINGS, client_factory=lambda _settings: client)
    fn.setup()
    [(key, again)] = list(fn.process([LookupRequest("Psycho", record, ("metadata",), hit)]))
    fn.teardown()
    assert client.calls == [] and again.tmdb_id == 539


def test_a_checkpoint_of_another_version_of_the_record_is_not_used():
    record = {"title": "Psycho", "year": 1960}
    hit = lookup([("Psycho", record, ("metadata",))])["Psycho"]
    changed = {**record, "year": 1998}
    [request] = list(enrich._with_checkpoint(("Psycho", {"movie": [(changed, ("metadata",))], "resumed": [hit]})))
    assert request.resumed is None
    [request] = list(enrich._with_checkpoint(("Psycho", {"movie": [(record, ("metadata", "images"))],
                                                        "resumed": [hit]})))
    assert request.resumed is None, "a metadata-only lookup cannot serve the images enricher"
    [request] = list(enrich._with_checkpoint(("Psycho", {"movie": [(record, ("metadata",))], "resumed": [hit]})))
    assert request == LookupRequest("Psycho", record, ("metadata",), hit)
    assert list(enrich._with_checkpoint(("Gone", {"movie": [], "resumed": [hit]}))) == []


def test_metadata_enricher_builds_the_contract_block():
    hit = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("metadata",))])["Psycho"]
    part = MetadataEnricher().enrich("Psycho", hit)
    assert isinstance(part, EnrichedPart) and part.field == "tmdb"
    assert part.value["directors"] == ["Alfred Hitchcock"]
    assert part.value["cast"] == [{"name": "Anthony Perkins", "character": "Norman Bates"}]
    assert part.outcome["status"] == "ok" and part.outcome["match_score"] == 1.0


def test_images_enricher_builds_urls_from_the_image_base():
    hit = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("images",))])["Psycho"]
    part = ImagesEnricher(lambda: "https://image.tmdb.org/t/p/", "w342").enrich("Psycho", hit)
    assert part.field == "images" and part.outcome["status"] == "ok"
    assert part.value["poster"] == "https://image.tmdb.org/t/p/w342/p539.jpg"
    assert part.value["posters"][1] == "https://image.tmdb.org/t/p/w342/alt539.jpg"


def test_images_enricher_without_configuration_fails_the_images_only():
    hit = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("images",))])["Psycho"]

    def down():
        raise TmdbError("HTTP 503 from configuration")

    part = ImagesEnricher(down).enrich("Psycho", hit)
    assert (part.value, part.outcome["status"]) == (None, "failed")
    assert part.outcome["error"] == "configuration: HTTP 503 from configuration"


def test_the_enrich_fn_runs_the_needed_enrichers_and_fetches_configuration_once_per_process():
    hits = lookup([("Psycho", {"title": "Psycho", "year": 1960}, ("metadata", "images")),
                   ("Images only", {"title": "Psycho", "year": 1960}, ("images",))])
    client = FakeClient(SETTINGS)
    fn = EnrichPartsFn(SETTINGS, ("images", "metadata"), client_factory=lambda _settings: client)
    again = copy.copy(fn)  # a second copy of the same DoFn in this process, as a runner makes them
    fn.setup()
    again.setup()
    try:
        out = [list(f.process((key, hits[key]))) for f in (fn, again) for key in ("Psycho", "Images only")]
    finally:
        fn.teardown()
        again.teardown()
    assert [c[0] for c in client.calls] == ["configuration"]
    [(key, parts)] = out[0]
    assert key == "Psycho" and [p.enricher for p in parts] == ["metadata", "images"]
    assert [p.enricher for p in out[1][0][1]] == ["images"]
    assert out[0][0][1][1].value["poster"] == "https://image.tmdb.org/t/p/w500/p539.jpg"


def test_a_failure_never_erases_an_earlier_success():
    earlier = {"metadata": {"status": "ok", "updated_at": "2026-01-01T00:00:00Z"}}
    part = EnrichedPart("metadata", "tmdb", None, {"status": "failed", "updated_at": "2026-02-01T00:00:00Z",
                                                   "error": "HTTP 503"}, prior=earlier)
    key, patch = enrich.merge_parts("k", [part])
    assert "tmdb" not in patch and patch["enrichment"]["metadata"]["status"] == "ok"
    assert enrich.failure_line("k", part) == Failure("k", "metadata", "HTTP 503", "2026-02-01T00:00:00Z")


def test_merged_fields_come_in_one_order_whichever_branch_arrives_first():
    def part(enricher, field):
        return EnrichedPart(enricher, field, {"id": 1}, {"status": "ok", "updated_at": "2026-02-01T00:00:00Z",
                                                         "error": None})

    both = [part("metadata", "tmdb"), part("images", "images")]
    first = enrich.merge_parts("k", both)[1]
    second = enrich.merge_parts("k", both[::-1])[1]
    assert list(first) == list(second) == ["images", "tmdb", "enrichment"]
    assert list(first["enrichment"]) == list(second["enrichment"]) == ["images", "metadata"]


@pytest.mark.slow
def test_enrich_movies_transform_merges_both_branches():
    selected = [("Psycho", ({"title": "Psycho", "year": 1960}, ("metadata", "images"))),
                ("Psycho (1998)", ({"title": "Psycho", "year": 1998, "director": "Gus Van Sant"},
                                   ("metadata", "images"))),
                ("Nothing", ({"title": "No Such Film"}, ("metadata", "images")))]
    with TestPipeline() as p:
        out = (p | beam.Create(selected)
               | EnrichMovies(SETTINGS, ("metadata", "images"), batch_size=2, client_factory=FakeClient))
        summary = out["patches"] | beam.MapTuple(lambda k, patch: (
            k, patch["enrichment"]["metadata"]["status"], patch["enrichment"]["images"]["status"],
            (patch.get("tmdb") or {}).get("id"), bool((patch.get("images") or {}).get("poster"))))
        assert_that(summary, equal_to([
            ("Psycho", "ok", "ok", 539, True),
            ("Psycho (1998)", "ok", "ok", 11252, True),
            ("Nothing", "not_found", "not_found", None, False)]), label="patches")
        assert_that(out["failures"], equal_to([]), label="no failures")


def test_a_field_patch_applied_equals_the_merged_patch():
    from movie_enrichment.io.stores import apply_patch
    record = {"title": "Psycho", "enrichment": {"images": {"status": "ok"}, "other": 1}}
    prior = record["enrichment"]
    parts = [
        EnrichedPart("images", "images", None, {"status": "failed", "updated_at": "t", "error": "HTTP 503"}, prior),
        EnrichedPart("metadata", "tmdb", {"id": 539}, {"status": "ok", "updated_at": "t", "error": None}, prior),
    ]
    _, merged = enrich.merge_parts("k", parts)
    _, fields = enrich.movie_patch("k", reversed(parts))
    assert apply_patch(record, fields) == {**record, **merged}
    assert list(apply_patch(record, fields)) == list({**record, **merged})
    assert enrich.part_patch("k", parts[0]) == ("k", {}), "a failure after a success writes nothing"


@pytest.mark.slow
def test_enrich_movies_per_part_gives_field_patches_without_grouping():
    selected = [("Psycho", ({"title": "Psycho", "year": 1960}, ("metadata", "images")))]
    with TestPipeline() as p:
        out = (p | beam.Create(selected)
               | EnrichMovies(SETTINGS, ("metadata", "images"), batch_size=2, client_factory=FakeClient,
                              per_movie=False))
        fields = out["patches"] | beam.MapTuple(lambda k, patch: (k, tuple(patch)))
        assert_that(fields, equal_to([("Psycho", ("images", "tmdb", "enrichment.images", "enrichment.metadata"))]))
