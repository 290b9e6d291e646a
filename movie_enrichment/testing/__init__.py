"""Test helpers shipped with the package, like apache_beam.testing: a local TMDB-compatible server."""
