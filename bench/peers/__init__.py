"""The peers: other ways of doing the pipeline's work, each a script run against the same server."""
