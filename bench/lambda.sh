#!/usr/bin/env bash
# The token function as Lambda runs it, against a bare lambda_http "hello" in the same run, with
# the fake Runtime API harness of ../shared/tools/coldstart (COLDSTART_DIR points elsewhere):
# binary size, init (exec to the first /next), CPU per warm invocation over a chain of 10k
# refreshes, and memory growth over 100k refreshes. Builds what it measures: the harness and
# hello, the deployed build (musl + mimalloc, as the Makefile makes it, here for this machine's
# x86_64) and, for comparison, a glibc build. Init is also measured with the DynamoDB client
# built: once with its endpoint refusing connections (the client alone), once against moto's
# server, which answers the warm-up read made at init (src/store/dynamodb/warm_up.rs). The
# deployed build is also measured signing ES256 and RS256 (the test fixtures' keys), beside the
# bare signature of each with ring (`cargo bench`'s rows); answering client credentials, with
# and without a DPoP proof of each algorithm (ES256, Ed25519, RS256); and refreshing a
# DPoP-bound grant with a fresh proof each time, and client credentials with a fresh
# private_key_jwt assertion each time, paced beside hello and a chain without proofs paced
# alike (README "DPoP cost" says why). Prints tables of medians and ratios, then a model of wall
# time and cost per million refreshes at 128 to 1,024 MB.
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

ensure_venv "cargo-lambda==$CARGO_LAMBDA_VERSION" "cryptography==50.0.2"
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
# The same, signing ES256 or RS256 with the test fixtures' keys.
fixture() { tr -d '=\n' <"$ROOT/tests/fixtures/keys/$1"; }
es256_args=("${env_args[@]}" --env "SIGNING_KEYS=bench-es:ES256:$(fixture ec-p256.b64)")
rs256_args=("${env_args[@]}" --env "SIGNING_KEYS=bench-rs:RS256:$(fixture rsa-2048-a.b64)")
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

# Client credentials (the demo client, a secret; HS256): a fixed event, nothing stored; with a
# DPoP proof of ALG (made by bench/paced_events.py, valid for DPOP_PROOF_MAX_AGE_SECONDS=300), its
# access token bound. Client credentials remember no proof, so one proof serves the whole run,
# checked in full at every invocation: the proof's cost in the same tight loop as hello's.
dpop_args=("${env_args[@]}" --env DPOP=enabled --env DPOP_SIGNING_ALGS=ES256,Ed25519,RS256
  --env DPOP_PROOF_MAX_AGE_SECONDS=300)
watch_env() { "$VENV/bin/python" -c 'import sys, tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["package"]["metadata"]["lambda"]["watch"]["env"][sys.argv[1]])' "$1"; }
client_event() {
  local proof=""
  if [ "$2" != none ]; then
    proof="$("$VENV/bin/python" bench/paced_events.py proof "$2" "$(watch_env ISSUER)/chatroom/api/token")"
  fi
  "$VENV/bin/python" - "$OUT/refresh-event.json" "$1" "$proof" <<'PY'
import json, sys
event = json.load(open(sys.argv[1]))
event["body"] = "grant_type=client_credentials&client_id=000000&client_secret=999999"
if sys.argv[3]:
    event["headers"]["dpop"] = sys.argv[3]
json.dump(event, open(sys.argv[2], "w"))
PY
}
# A refresh chain needs a new proof at every refresh, which only a process beside the harness
# can make (bench/paced_events.py): the demo native app's code redeemed with a proof, then bound
# refreshes, each with a fresh proof of the same key; the same for a backend's assertions, each
# spent once (`private_key_jwt`). The harness fetches each event through a
# per-event command (FIFOs to that process), and the spawns and the Python work between
# invocations leave the function's caches cold: every invocation costs about three times what
# it costs in the tight loop. So hello and a chain without proofs are paced the same way, and
# the ratios are taken within that block.
paced() {
  local mode=$1 json=$2 fifo_in="$OUT/paced-in" fifo_out="$OUT/paced-out" generator status=0
  local bin=$MUSL base="$OUT/refresh-event.json" args=("${dpop_args[@]}")
  if [ "$mode" = hello ]; then bin=$HELLO base="$CS_DIR/events/hello-v2.json" args=(); fi
  rm -f "$fifo_in" "$fifo_out" && mkfifo "$fifo_in" "$fifo_out"
  "$VENV/bin/python" bench/paced_events.py chain "$fifo_in" "$fifo_out" "$mode" "$base" \
    "$(watch_env ISSUER)" "$(watch_env DEMO_PUBLIC_CLIENT_ID)" "$(watch_env DEMO_PUBLIC_CODE)" \
    "$(watch_env DEMO_PUBLIC_REDIRECT_URI)" dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk &
  generator=$!
  "$CS" warm --bin "$bin" "${args[@]}" --count 2000 --warmup 100 --json "$json" \
    --gen-cmd "timeout 20 sh -c 'cat >\"\$0\" && cat \"\$1\"' '$fifo_in' '$fifo_out'" >/dev/null || status=$?
  kill "$generator" 2>/dev/null || true
  wait "$generator" 2>/dev/null || true
  return "$status"
}

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

for name in hello musl glibc es256 rs256 client client-ES256 client-Ed25519 client-RS256 \
  paced-hello paced-none paced-ES256 paced-Ed25519 paced-RS256 paced-assertion; do
  case $name in
    hello) bin=$HELLO; extra=(); event="$CS_DIR/events/hello-v2.json"; source=(--events "$event") ;;
    musl) bin=$MUSL; extra=("${env_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
    glibc) bin=$GLIBC; extra=("${env_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
    es256) bin=$MUSL; extra=("${es256_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
    rs256) bin=$MUSL; extra=("${rs256_args[@]}"); event="$OUT/refresh-event.json"; source=("${chain[@]}") ;;
    client*) bin=$MUSL; extra=("${dpop_args[@]}"); event="$OUT/$name-event.json"; source=(--events "$event") ;;
  esac
  case $name in
    client*)
      # The deployed build answering client credentials: the warm run only, a fresh proof (and
      # key) for each take.
      echo "measuring musl, $name" >&2
      for take in $(seq 1 "$RUNS"); do
        client_event "$event" "$(if [ "$name" = client ]; then echo none; else echo "${name#client-}"; fi)"
        "$CS" warm --bin "$bin" "${extra[@]}" "${source[@]}" --count 3000 --warmup 100 \
          --json "$OUT/$name-warm-$take.json" >/dev/null
      done
      continue ;;
    paced-*)
      echo "measuring $name" >&2
      for take in $(seq 1 "$RUNS"); do
        paced "${name#paced-}" "$OUT/$name-warm-$take.json"
      done
      continue ;;
  esac
  if [ "$name" = es256 ] || [ "$name" = rs256 ]; then
    # The deployed build with another signing key: init and the warm chain only.
    echo "measuring musl, $name" >&2
    "$CS" init --bin "$bin" "${extra[@]}" --event "$event" --runs 20 --json "$OUT/$name-init.json" >/dev/null
    for take in $(seq 1 "$RUNS"); do
      "$CS" warm --bin "$bin" "${extra[@]}" "${source[@]}" --count 3000 --warmup 100 \
        --json "$OUT/$name-warm-$take.json" >/dev/null
    done
    continue
  fi
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

# The floor: ring's bare signatures and signature checks, as `cargo bench` measures them
# (criterion's medians).
echo "measuring the bare signatures (cargo bench)" >&2
cargo bench --bench grants -- "signature alone|signature check alone" >/dev/null 2>&1

"$VENV/bin/python" - "$OUT" "$RUNS" "$MEMORY_COUNT" "$ROOT/target/criterion" <<'PY'
import glob, json, math, statistics, sys
out, runs, count, criterion = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
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

# Signing: the deployed build with each algorithm, against hello and against ring's bare
# signature of that algorithm (criterion's median, same machine).
def floor(prefix):
    for path in glob.glob(f"{criterion}/*/new/benchmark.json"):
        bench = json.load(open(path))
        if (bench.get("function_id") or bench.get("group_id") or "").startswith(prefix):
            estimates = json.load(open(path.replace("benchmark.json", "estimates.json")))
            return estimates["median"]["point_estimate"] / 1000
    return None
signed = {"HS256": rows["musl"]["cpu"]}
for alg in ("es256", "rs256"):
    warm = [load(f"{alg}-warm-{i}") for i in range(1, runs + 1)]
    signed[alg.upper()] = statistics.median(w["cpu"]["clock_us_per_inv"] for w in warm)
floors = {"ES256": floor("P-256 ECDSA"), "RS256": floor("RSA-2048")}
print()
print("| access tokens signed with | CPU per invocation (us) | vs hello | bare signature, ring (us) | vs bare signature |")
print("|---|---|---|---|---|")
for alg, cpu in signed.items():
    bare = floors.get(alg)
    print(f"| {alg} | {cpu:.0f} | {cpu / h['cpu']:.2f}x | " + (f"{bare:.0f} | {cpu / bare:.2f}x |" if bare else "- | - |"))

# Apps of other kinds, and DPoP: the deployed build (HS256 tokens) against hello, in the tight
# loop; then the DPoP refresh chains, paced (see `paced` above), against hello paced alike.
def median_cpu(name):
    warm = [load(f"{name}-warm-{i}") for i in range(1, runs + 1)]
    return statistics.median(w["cpu"]["clock_us_per_inv"] for w in warm)
proof_checks = {alg: floor(f"{alg} signature check alone") for alg in ("ES256", "Ed25519", "RS256")}
print()
print("| request (HS256 access token), tight loop | CPU per invocation (us) | vs hello | the proof's bare signature check, ring (us) |")
print("|---|---|---|---|")
print(f"| refresh (the chain above) | {rows['musl']['cpu']:.0f} | {rows['musl']['cpu'] / h['cpu']:.2f}x | - |")
print(f"| client credentials | {median_cpu('client'):.0f} | {median_cpu('client') / h['cpu']:.2f}x | - |")
for alg in ("ES256", "Ed25519", "RS256"):
    cpu = median_cpu(f"client-{alg}")
    bare = proof_checks[alg]
    print(f"| client credentials, a DPoP proof ({alg}) checked in full | {cpu:.0f} | {cpu / h['cpu']:.2f}x | "
          + (f"{bare:.0f} |" if bare else "- |"))
paced_hello = median_cpu("paced-hello")
print()
print("| paced: one event per command, caches cold (see above) | CPU per invocation (us) | vs hello, paced |")
print("|---|---|---|")
for name, label in (("paced-hello", "hello"),
                    ("paced-none", "refresh, the native app, no DPoP"),
                    ("paced-ES256", "refresh of a DPoP-bound grant, a fresh ES256 proof each"),
                    ("paced-Ed25519", "refresh of a DPoP-bound grant, a fresh Ed25519 proof each"),
                    ("paced-RS256", "refresh of a DPoP-bound grant, a fresh RS256 proof each"),
                    ("paced-assertion", "client credentials, private_key_jwt, a fresh ES256 assertion each")):
    cpu = median_cpu(name)
    print(f"| {label} | {cpu:.0f} | {cpu / paced_hello:.2f}x |")

# What a refresh costs on Lambda. Lambda gives a function CPU in proportion to its memory (a
# full vCPU at 1,769 MB), so the CPU measured here (one core) stretches by 1769/MB below that.
# A refresh also waits for one DynamoDB UpdateItem (DDB_MS, an in-Region round trip). Billed
# time is rounded up to the millisecond. Prices (us-east-1, arm64, on-demand, December 2026 list
# prices): Lambda $0.0000133334 per GB-second and $0.20 per million requests; DynamoDB
# $0.625 per million write request units (one refresh writes one item under 1 KB); API Gateway
# HTTP API $1.00 per million requests (first 300 million a month); a function URL adds nothing.
DDB_MS, GB_S, REQ, WRU, HTTP_API = 4.0, 0.0000133334, 0.20, 0.625, 1.00
print()
print(f"Model per million refreshes (CPU as measured here, plus {DDB_MS:.0f} ms for DynamoDB):")
print("| signed with | memory (MB) | wall time (ms) | billed (ms) | $ per million, HTTP API | $ per million, function URL |")
print("|---|---|---|---|---|---|")
for alg, cpu in signed.items():
    for mb in (128, 256, 512, 1024):
        wall = cpu / 1000 * max(1.0, 1769 / mb) + DDB_MS
        billed = math.ceil(wall)
        lam = billed / 1000 * mb / 1024 * GB_S * 1e6 + REQ
        print(f"| {alg} | {mb} | {wall:.1f} | {billed} | {lam + WRU + HTTP_API:.3f} | {lam + WRU:.3f} |")
PY
