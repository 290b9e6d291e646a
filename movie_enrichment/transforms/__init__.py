"""What turns movies into enriched movies: selection, matching, enrichment DoFns."""
