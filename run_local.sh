#!/usr/bin/env bash
# Enriches the bundled ~200-movie sample into a scratch folder and prints where the result is.
# Without TMDB_API_KEY it starts the bundled TMDB-compatible server on 127.0.0.1 and uses it.
# Extra arguments pass through to the pipeline, e.g. ./run_local.sh --enrich metadata --direct_num_workers 2
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh

scratch="${SCRATCH:-scratch/run-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$scratch"
scratch="$(cd "$scratch" && pwd)"  # printed absolute, as the run's own paths are
cp movie_enrichment/testing/data/sample_movies.json "$scratch/movies.json"

extra=()
if [ -z "${TMDB_API_KEY:-}" ]; then
  "$VENV/bin/python" -m movie_enrichment.testing.tmdb_server --port 0 > "$scratch/server.log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    url=$(sed -n 's/^TMDB test server listening on //p' "$scratch/server.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "${url:-}" ]; then
    echo "run_local.sh: the local TMDB server did not start; see $scratch/server.log" >&2
    exit 1
  fi
  echo "TMDB_API_KEY is not set: using the bundled TMDB-compatible server at $url" >&2
  export TMDB_API_KEY=test-api-key
  extra=(--tmdb_base_url "$url")
fi

# Its own cache and a progress line every 2 s, unless the options given say otherwise (an option the run would
# ignore is refused, so these are left out where they would be).
case " $* " in *" --no_http_cache "*|*" --http_cache "*|*" --http_cache="*) ;;
  *) extra+=(--http_cache "$scratch/http_cache.sqlite") ;; esac
case " $* " in *" --progress off "*|*" --progress bar "*|*" --progress=off "*|*" --progress=bar "*|*" --progress_interval"*) ;;
  *) extra+=(--progress_interval 2) ;; esac

"$VENV/bin/movie-enrich" --input "$scratch/movies.json" ${extra[@]+"${extra[@]}"} "$@"
echo
case " $* " in
  *" --dry_run "*) echo "Dry run: nothing was written; the sample copy is $scratch/movies.json" ;;
  *) echo "Enriched database: $scratch/movies.json (backups of earlier versions, if any, in $scratch/backups/)" ;;
esac
