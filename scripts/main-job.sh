#!/usr/bin/env bash
# Set up, then run the main job on this repository's own sample incidents.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
now="${INCIDENTCTL_NOW:-2026-11-27T16:00:00Z}"   # the samples' "now"; override to replay
echo "== incidentctl validate"
incidentctl validate
echo
echo "== incidentctl list --now $now"
incidentctl list --now "$now"
if incidentctl overdue --help >/dev/null 2>&1; then
  echo
  echo "== incidentctl overdue --now $now --include-due-soon"
  incidentctl overdue --now "$now" --include-due-soon || true
fi
echo
echo "== incidentctl pir check"
incidentctl pir check || true
echo
echo "== incidentctl notify INC-20261127-9TRX --template initial-alert --now $now"
incidentctl notify INC-20261127-9TRX --template initial-alert --now "$now"
echo
echo "== incidentctl site build --out _site --name Parcelly --now $now"
incidentctl site build --out _site --name Parcelly --now "$now"
echo "(open _site/index.html, or: incidentctl site serve --out _site)"
