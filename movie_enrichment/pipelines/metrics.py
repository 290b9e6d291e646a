"""Beam's metrics of a pipeline result, read as this project's figures: the counters the summary reports."""

import logging

import apache_beam as beam

from movie_enrichment.transforms.enrich import NAMESPACE

_LOGGER = logging.getLogger(__name__)


def counters(result) -> dict[str, int]:
    """Every counter of our namespace, summed over steps: committed values where the runner has them."""
    try:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.info("This runner gives no metrics: %s", error)
        return {}
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals
