"""The local engine (Beam's FnApiRunner in multi_threading mode, our default) passes on whole elements."""

import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from movie_enrichment.pipelines import runners


class SlowToPickle:
    """An element whose encoding (Beam pickles unknown types) outlasts the engine's 1-second flush timer."""

    def __init__(self, n: int):
        self.n = n

    def __reduce__(self):
        time.sleep(1.1)
        return (SlowToPickle, (self.n,))


@pytest.mark.slow
def test_an_element_still_being_encoded_is_not_cut_in_two():
    # With Beam's timer flush, the grouping's first chunk ends mid-element: the run fails to decode it, or
    # reads back a None. Flushed by size only, every element arrives whole.
    options = PipelineOptions(**runners.LOCAL_DEFAULTS)
    with beam.Pipeline(runner=runners.runner_for(options), options=options) as pipeline:
        groups = (pipeline
                  | beam.Create([1, 2])
                  | beam.Map(lambda n: ("all", SlowToPickle(n)))
                  | beam.GroupByKey()
                  | beam.MapTuple(lambda key, values: (key, sorted(value.n for value in values))))
        assert_that(groups, equal_to([("all", [1, 2])]))
