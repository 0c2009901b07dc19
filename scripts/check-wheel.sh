#!/usr/bin/env bash
# The package as a release publishes it: build the sdist and the wheel (python -m build, as
# release.yml does), check them (twine check), install the wheel alone in a clean virtualenv
# (its dependencies from the index) and use it as a new user would: --version, init, validate.
# The workflows `init` writes install incidentctl==<this version>; that is the wheel tested here.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/incidentctl-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m build --quiet --outdir "$work/dist" . >/dev/null
.venv/bin/twine check --strict "$work"/dist/*
version=$(.venv/bin/python -c 'import incidentctl; print(incidentctl.__version__)')
wheel="$work/dist/incidentctl-${version}-py3-none-any.whl"
[ -f "$wheel" ] || { echo "no $wheel: the built version is not __version__" >&2; ls "$work/dist" >&2; exit 1; }
unset PYTHONPATH  # nothing of the source tree may be importable in the clean venv
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
# no source tree on the path: what runs is the installed wheel
cd "$work"
[ "$("$work/venv/bin/incidentctl" --version)" = "incidentctl ${version}" ]
"$work/venv/bin/incidentctl" init "$work/new" >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
grep -q "incidentctl==${version}\"" "$work/new/.github/workflows/validate.yml"
"$work/venv/bin/incidentctl" validate --repo "$work/new"
"$work/venv/bin/incidentctl" schema --out "$work/schemas" >/dev/null
echo "wheel ok: incidentctl ${version} built, checked, installed in a clean venv, init + validate"
