"""Assembly and launch: options, the pipeline graph, the command line."""
