#!/usr/bin/env bash
# Installs what the tests need beyond Rust: the Python packages of tests/requirements.txt
# (real readers and engines no one here wrote, the moto S3 server, Playwright), Debian's
# Chromium for the browser test, wrk for the cockpit's load benchmark, openssl and curl for
# the TLS test. Idempotent and
# quick when everything is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v python3 >/dev/null; then
  echo "tests/setup.sh: python3 is needed" >&2
  exit 1
fi
if ! python3 - <<'PY' 2>/dev/null
import duckdb, deltalake, pyarrow, polars, moto, boto3, flask_cors, playwright  # noqa: F401
PY
then
  echo "tests/setup.sh: installing Python packages from tests/requirements.txt" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
missing=()
[ -x "${EDULAKE_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
# The TLS test makes a certificate with openssl and talks HTTPS with curl.
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
# A Chinese font, so that the browser test's screenshots show Chinese rather than boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/setup.sh: installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v sha256sum >/dev/null || { echo "tests/setup.sh: sha256sum (coreutils) is needed" >&2; exit 1; }
