"""The admin console (`movie-enrich serve`): launch, watch, review and fix enrichment runs from a web page.

A small Starlette application served by uvicorn. It never does the work in its own process: every run is a
child process started through `movie_enrichment.api`, and what the pages show comes from the small files the
runs leave beside the database (progress, report, review list, failures) and from counts made by a short-lived
child process once per change of the database file.
"""
