"""What touches files and the network: the database source and sink, checkpoints, the TMDB client."""
