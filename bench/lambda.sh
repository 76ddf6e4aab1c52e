#!/usr/bin/env bash
# The token function as Lambda runs it, against a bare lambda_http "hello" in the same run, with
# the fake Runtime API harness of ../shared/tools/coldstart (COLDSTART_DIR points elsewhere):
# binary size, init (exec to the first /next), CPU per warm invocation over a chain of 10k
# refreshes, and memory growth over 100k refreshes. Builds what it measures: the harness and
# hello, the deployed build (musl + mimalloc, as the Makefile makes it, here for this machine's
# x86_64) and, for comparison, a glibc build. Init is also measured with the DynamoDB client
# built: once with its endpoint refusing connections (the client alone), once against moto's
# server, which answers the warm-up read made at init (src/store/dynamodb/warm_up.rs). Prints a
# table of medians and ratios.
#   bash bench/lambda.sh            RUNS=3 (takes of the warm run), MEMORY_COUNT=100000
# Timings are noisy on a shared 2-core machine: read the ratios, taken in the same run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source .ci/lib.sh
CS_DIR="$(cd "${COLDSTART_DIR:-$ROOT/../shared/tools/coldstart}" && pwd)"
RUNS="${RUNS:-3}"
MEMORY_COUNT="${MEMORY_COUNT:-100000}"
OUT="$ROOT/target/bench-lambda"
mkdir -p "$OUT"

ensure_venv "cargo-lambda==$CARGO_LAMBDA_VERSION"
export PATH="$VENV/bin:$PATH"
echo "building the harness, hello, and the token function (musl and glibc, release)" >&2
(cd "$CS_DIR" && cargo build --release -q && cd hello && cargo build --release -q)
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1
cargo lambda build --release --target x86_64-unknown-linux-musl --bin token --lambda-dir "$OUT/musl" >/dev/null 2>&1
cargo build --release --bin token -q
CS="$CS_DIR/target/release/coldstart"
HELLO="$CS_DIR/hello/target/release/hello"
MUSL="$OUT/musl/token/bootstrap"
GLIBC="$ROOT/target/release/token"

# The function runs on the embedded store with the local demo data (a refresh chain from the
# demo refresh token). The harness sets Lambda's own variables; the two that make the function
# refuse local values on AWS are cleared: this is a local measurement.
env_args=(--env LAMBDA_TASK_ROOT= --env AWS_LAMBDA_INITIALIZATION_TYPE=)
while IFS='=' read -r name value; do
  env_args+=(--env "$name=$value")
done < <("$VENV/bin/python" -c 'import tomllib
env = tomllib.load(open("Cargo.toml", "rb"))["package"]["metadata"]["lambda"]["watch"]["env"]
# HS256 only: the format of the API document and the deployed default (local runs sign RS256,
# whose private-key operation would dwarf everything else measured here).
env["SIGNING_KEYS"] = next(k for k in env["SIGNING_KEYS"].split(",") if ":RS256:" not in k)
for k, v in env.items(): print(f"{k}={v}")')
token="$("$VENV/bin/python" -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["package"]["metadata"]["lambda"]["watch"]["env"]["DEMO_REFRESH_TOKEN"])')"
template="$CS_DIR/events/token-refresh-v2.tmpl.json"
chain=(--template "$template" --set "rt=$token" --bind rt=/body/refresh_token)
# One concrete refresh (the demo token) for the init runs: each is a fresh process.
sed "s/{{rt}}/$token/" "$template" >"$OUT/refresh-event.json"
# With DynamoDB (no table here), the first event is one no store is asked about: the metadata.
"$VENV/bin/python" - "$CS_DIR/events/hello-v2.json" "$OUT/health-event.json" <<'PY'
import json, sys
event = json.load(open(sys.argv[1]))
event["rawPath"] = "/.well-known/oauth-authorization-server"
event["requestContext"]["http"]["method"] = "GET"
event["requestContext"]["http"]["path"] = event["rawPath"]
event["routeKey"] = "$default"
json.dump(event, open(sys.argv[2], "w"))
PY

# The deployed configuration's store: DynamoDB, with the SDK's dummy credentials and region.
dynamodb_env() {
  local endpoint=$1
  printf -- '--env\n%s\n' TOKEN_STORE=dynamodb TABLE_NAME=tokens AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench "AWS_ENDPOINT_URL_DYNAMODB=$endpoint"
}
start_moto
mapfile -t refusing < <(dynamodb_env http://127.0.0.1:9)
mapfile -t answering < <(dynamodb_env "$AWS_ENDPOINT_URL_DYNAMODB")

stripped() { cp "$1" "$OUT/stripped" && strip "$OUT/stripped" && stat -c %s "$OUT/stripped"; }

for name in hello musl glibc; do
  case $name in
    hello) bin=$HELLO; extra=(); event="$CS_DIR/events/hello-v2.json"; source=(--events "$event") ;;
    musl) bin=$MUSL; extra=("${env_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
    glibc) bin=$GLIBC; extra=("${env_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
  esac
  echo "measuring $name" >&2
  stripped "$bin" >"$OUT/$name-size"
  "$CS" init --bin "$bin" "${extra[@]}" --event "$event" --runs 20 --json "$OUT/$name-init.json" >/dev/null
  if [ "$name" != hello ]; then
    "$CS" init --bin "$bin" "${extra[@]}" "${refusing[@]}" --event "$OUT/health-event.json" --runs 20 \
      --json "$OUT/$name-init-dynamodb.json" >/dev/null
    "$CS" init --bin "$bin" "${extra[@]}" "${answering[@]}" --event "$OUT/health-event.json" --runs 20 \
      --json "$OUT/$name-init-moto.json" >/dev/null
  fi
  for take in $(seq 1 "$RUNS"); do
    "$CS" warm --bin "$bin" "${extra[@]}" "${source[@]}" --count 10000 --warmup 100 \
      --json "$OUT/$name-warm-$take.json" >/dev/null
  done
  "$CS" warm --bin "$bin" "${extra[@]}" "${source[@]}" --count "$MEMORY_COUNT" --warmup 100 \
    --json "$OUT/$name-memory.json" >/dev/null
done

"$VENV/bin/python" - "$OUT" "$RUNS" "$MEMORY_COUNT" <<'PY'
import json, statistics, sys
out, runs, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: json.load(open(f"{out}/{name}.json"))
rows = {}
for name in ("hello", "musl", "glibc"):
    init = load(f"{name}-init")
    warm = [load(f"{name}-warm-{i}") for i in range(1, runs + 1)]
    memory = load(f"{name}-memory")
    rows[name] = {
        "size": int(open(f"{out}/{name}-size").read()) / 1e6,
        "init": init["init_ms"]["median"],
        "init_cpu": init["init_cpu_ms"]["median"],
        **({} if name == "hello" else {
            "init_ddb": load(f"{name}-init-dynamodb")["init_ms"]["median"],
            "init_ddb_cpu": load(f"{name}-init-dynamodb")["init_cpu_ms"]["median"],
            "init_moto": load(f"{name}-init-moto")["init_ms"]["median"],
            "init_moto_cpu": load(f"{name}-init-moto")["init_cpu_ms"]["median"],
        }),
        "cpu": statistics.median(w["cpu"]["clock_us_per_inv"] for w in warm),
        "p50": statistics.median(w["latency_us"]["p50"] for w in warm),
        "growth": (memory["rss_end_kb"] - memory["hwm_window_start_kb"]) / 1024,
        "rss": memory["rss_end_kb"] / 1024,
    }
h = rows["hello"]
print(f"| measure | hello | token, musl + mimalloc (deployed) | token, glibc |")
print("|---|---|---|---|")
def cell(n, key, fmt, ratio):
    if key not in rows[n]:
        return "-"
    return fmt.format(rows[n][key]) + (f" ({rows[n][key] / h[key]:.2f}x)" if ratio and n != "hello" and h.get(key) else "")
def line(label, key, fmt, ratio=True):
    cells = [cell(n, key, fmt, ratio) for n in ("hello", "musl", "glibc")]
    print(f"| {label} | " + " | ".join(cells) + " |")
line("stripped binary (MB)", "size", "{:.1f}")
line("init, exec to first /next (ms, median of 20)", "init", "{:.2f}")
line("CPU during init (ms)", "init_cpu", "{:.2f}")
line("init, DynamoDB client, endpoint refusing (ms)", "init_ddb", "{:.2f}")
line("CPU during that init (ms)", "init_ddb_cpu", "{:.2f}")
line("init, DynamoDB client, warm-up answered by moto (ms)", "init_moto", "{:.2f}")
line("CPU during that init (ms)", "init_moto_cpu", "{:.2f}")
line(f"CPU per warm invocation (us, median of {runs} x 10k)", "cpu", "{:.0f}")
line("warm latency p50 (us)", "p50", "{:.0f}")
line(f"RSS growth over {count} invocations (MiB)", "growth", "{:+.2f}", ratio=False)
line(f"RSS after {count} invocations (MiB)", "rss", "{:.1f}", ratio=False)
PY
