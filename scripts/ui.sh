#!/usr/bin/env bash
# Start a local Prefect server, create the process work pool, deploy prefect.yaml and start a worker.
# Everything runs in the background; `make ui-stop` stops it. State lives in $PREFECT_HOME (.prefect/).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PREFECT_UI_PORT:-4200}
export PREFECT_API_URL="http://127.0.0.1:${PORT}/api"
mkdir -p "${PREFECT_HOME:=$PWD/.prefect}"
pids="$PREFECT_HOME/ui.pids"
healthy() { "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$PREFECT_API_URL/health" >/dev/null 2>&1; }

if ! healthy; then
  nohup "$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >"$PREFECT_HOME/server.log" 2>&1 &
  echo $! >>"$pids"
  for _ in $(seq 120); do
    healthy && break
    sleep 0.5
  done
  healthy || { echo "prefect server did not start; see $PREFECT_HOME/server.log" >&2; exit 1; }
fi
"$BIN/prefect" work-pool inspect curriculum >/dev/null 2>&1 || "$BIN/prefect" work-pool create curriculum --type process >/dev/null
"$BIN/prefect" --no-prompt deploy --all >"$PREFECT_HOME/deploy.log" 2>&1 || { cat "$PREFECT_HOME/deploy.log" >&2; exit 1; }
nohup "$BIN/prefect" worker start --pool curriculum >"$PREFECT_HOME/worker.log" 2>&1 &
echo $! >>"$pids"
cat <<MSG
Prefect UI:   http://127.0.0.1:${PORT}   (deployments: curriculum-run/nightly, curriculum-run/adhoc)
Trigger:      PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment run 'curriculum-run/adhoc'
Logs:         $PREFECT_HOME/server.log, $PREFECT_HOME/worker.log
Stop:         make ui-stop
MSG
