#!/usr/bin/env bash
# CnnGen build entry point (Linux/macOS; build.cmd is the Windows twin). Needs only the .NET SDK 10.
# See docs/building.md.
#
#   ./build.sh build            restore + build the solution (Release)
#   ./build.sh test             restore + build + run every test project; last line "N passed, N failed, N skipped"
#   ./build.sh pack             the CnnGen NuGet package -> artifacts/packages/
#   ./build.sh mnist [args]     train the MNIST sample (installs Fashion-MNIST from Debian if no data is found)
#   ./build.sh bench [args]     run the benchmarks
#   ./build.sh predictor        train MNIST if mnist.safetensors is missing, then publish the Native AOT mnist-predict
#
# Environment:
#   CONFIGURATION            build configuration (default Release)
#   CNNGEN_ARTIFACTS_PATH    if set, every dotnet command gets --artifacts-path "$CNNGEN_ARTIFACTS_PATH"
#                            (build outputs, test results and packages go there instead of the repo)
#   CNNGEN_TEST_HANG_TIMEOUT per-test hang timeout for `test` (default 10m; the hung test host is killed)
#   CNNGEN_DATA              an extra place the MNIST sample looks for data
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

SLN="CnnGen.sln"
CONFIG="${CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ART=()
OUT_ROOT="$ROOT/artifacts"
if [[ -n "${CNNGEN_ARTIFACTS_PATH:-}" ]]; then
  mkdir -p "$CNNGEN_ARTIFACTS_PATH"
  CNNGEN_ARTIFACTS_PATH="$(cd "$CNNGEN_ARTIFACTS_PATH" && pwd)"
  ART=(--artifacts-path "$CNNGEN_ARTIFACTS_PATH")
  OUT_ROOT="$CNNGEN_ARTIFACTS_PATH"
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<'EOF'
Usage: ./build.sh <command> [args]

Commands:
  build          restore and build the solution (Release)
  test           restore, build and run every test project in CnnGen.sln;
                 ends with a line "N passed, N failed, N skipped"; fails on any failure or if no test ran
  pack           pack the CnnGen NuGet package and the CnnGen.Tool dotnet tool into artifacts/packages/
  mnist [args]   train the MNIST sample (samples/Mnist); args go to the sample
  bench [args]   run the benchmarks (bench/CnnGen.Bench); args go to the benchmark
  predictor      train the MNIST sample if mnist.safetensors is missing, then publish the Native AOT
                 predictor samples/MnistPredict (weights compiled in) to artifacts/predictor/mnist-predict

Environment: CONFIGURATION (default Release), CNNGEN_ARTIFACTS_PATH (isolated output dir),
CNNGEN_TEST_HANG_TIMEOUT (default 10m), CNNGEN_DATA (extra data folder). See docs/building.md.
EOF
}

require_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK 10 is required (dotnet not found on PATH): https://dot.net"
  local v
  v="$(dotnet --version 2>&1 || true)"
  [[ "${v%%.*}" =~ ^[0-9]+$ ]] && (( ${v%%.*} >= 10 )) || die "the .NET SDK 10 or newer is required; dotnet --version says: ${v}"
}

# dotnet with --artifacts-path when CNNGEN_ARTIFACTS_PATH is set.
dn() {
  local verb="$1"; shift
  dotnet "$verb" ${ART[@]+"${ART[@]}"} "$@"
}

cmd_build() {
  say "dotnet restore $SLN"
  dn restore "$SLN" || return 1
  say "dotnet build $SLN -c $CONFIG"
  dn build "$SLN" -c "$CONFIG" --no-restore || return 1
}

# Test projects of the solution: those that reference the test SDK or say IsTestProject=true.
test_projects() {
  local p
  dotnet sln "$SLN" list | tr -d '\r' | grep -E '\.(cs|fs|vb)proj$' | tr '\\' '/' | while IFS= read -r p; do
    if [[ -f "$p" ]] && grep -qiE 'Microsoft\.NET\.Test\.Sdk|<IsTestProject>[[:space:]]*true' "$p"; then
      printf '%s\n' "$p"
    fi
  done
}

# Counts test outcomes in a TRX file: prints "passed failed skipped".
trx_counts() {
  grep -o '<UnitTestResult [^>]*' "$1" | grep -o ' outcome="[A-Za-z]*"' | awk -F'"' '
    { o = $2 }
    o == "Passed"                                                        { p++ ; next }
    o == "Failed" || o == "Error" || o == "Timeout" || o == "Aborted"    { f++ ; next }
    { s++ }
    END { printf "%d %d %d\n", p, f, s }'
}

# Runs one test project (extra args go to dotnet test) and adds its TRX counts to passed/failed/skipped.
run_tests() {
  local p="$1" name="$2" results="$3"; shift 3
  local trx="$results/$name.trx" rc=0 np=0 nf=0 ns=0 counts
  say "dotnet test $p $*"
  dn test "$p" -c "$CONFIG" --no-build \
    --results-directory "$results" \
    --logger "trx;LogFileName=$name.trx" \
    --blame-hang-timeout "${CNNGEN_TEST_HANG_TIMEOUT:-10m}" --blame-hang-dump-type none \
    "$@" || rc=$?
  if [[ -f "$trx" ]]; then
    counts="$(trx_counts "$trx")"
    read -r np nf ns <<<"$counts"
  fi
  passed=$((passed + np)); failed=$((failed + nf)); skipped=$((skipped + ns))
  if (( rc != 0 && nf == 0 )); then
    # The run failed without a failed test in its results (crash, hang, no results): count it as one failure.
    broken+=("$name (dotnet test exit code $rc, no failed test recorded)")
    failed=$((failed + 1))
  fi
}

cmd_test() {
  if ! cmd_build; then
    echo "build failed: no test ran" >&2
    exit 1
  fi

  local results="$OUT_ROOT/test-results"
  rm -rf "$results"
  mkdir -p "$results"

  local projects=()
  local p
  while IFS= read -r p; do projects+=("$p"); done < <(test_projects)
  (( ${#projects[@]} > 0 )) || die "no test project found in $SLN"

  passed=0; failed=0; skipped=0; broken=()
  local name
  for p in "${projects[@]}"; do
    name="$(basename "$p" .csproj)"
    name="${name%.fsproj}"; name="${name%.vbproj}"
    run_tests "$p" "$name" "$results"
  done
  # The kernels and the generated models once more on the Vector256 baseline: where the CPU has
  # AVX-512 the first pass ran the Vector512 tiles, so both widths are checked.
  if [[ -f tests/Runtime.Tests/CnnGen.Runtime.Tests.csproj ]]; then
    CNNGEN_DISABLE_VECTOR512=1 run_tests tests/Runtime.Tests/CnnGen.Runtime.Tests.csproj CnnGen.Runtime.Tests.Vector256 "$results" \
      --filter "FullyQualifiedName~Kernels|FullyQualifiedName~Generated"
  fi

  echo
  say "test results: $results"
  local b
  for b in ${broken[@]+"${broken[@]}"}; do echo "FAILED RUN: $b"; done
  if (( passed + failed == 0 )); then
    echo "no test ran"
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  (( failed == 0 && passed + failed > 0 ))
}

cmd_pack() {
  local out="$ROOT/artifacts/packages"
  [[ -n "${CNNGEN_ARTIFACTS_PATH:-}" ]] && out="$OUT_ROOT/packages"
  say "dotnet pack src/Runtime -c $CONFIG -o $out"
  dn pack src/Runtime/CnnGen.Runtime.csproj -c "$CONFIG" -o "$out"
  # the second package: CnnGen.Tool, the `cnngen` dotnet tool (cnngen import model.onnx; docs/onnx.md)
  say "dotnet pack src/Tool -c $CONFIG -o $out"
  dn pack src/Tool/CnnGen.Tool.csproj -c "$CONFIG" -o "$out"
  ls -1 "$out"/*.nupkg
  # The version comes from git (docs/building.md, "Versions"): each pack of changed sources has a new one.
  local newest version
  newest="$(ls -1t "$out"/CnnGen.*.nupkg | grep -v '/CnnGen\.Tool\.' | head -n 1)"
  version="$(basename "$newest" .nupkg)"; version="${version#CnnGen.}"
  say "newest: $newest"
  say "use it: add $out as a package source and reference <PackageReference Include=\"CnnGen\" Version=\"$version\" />"
  say "        (docs/building.md, \"Using a local build in another project\")"
}

# True if a folder holds MNIST in IDX form (flat, or in an mnist/ subfolder; gzipped or not).
has_mnist() {
  local d="$1" f
  [[ -n "$d" && -d "$d" ]] || return 1
  for f in "$d"/train-images-idx3-ubyte "$d"/train-images-idx3-ubyte.gz \
           "$d"/mnist/train-images-idx3-ubyte "$d"/mnist/train-images-idx3-ubyte.gz; do
    [[ -f "$f" ]] && return 0
  done
  return 1
}

ensure_data() {
  local d
  for d in "$ROOT/../shared/data" "${CNNGEN_DATA:-}" "${HOME:-/nonexistent}/.cache/cnngen"; do
    if has_mnist "$d"; then
      say "MNIST data found in $d"
      # Tell the sample (its lookup order: --data, $CNNGEN_DATA, ~/.cache/cnngen, download).
      export CNNGEN_DATA="$d"
      return 0
    fi
  done
  say "no MNIST data in ../shared/data, \$CNNGEN_DATA or ~/.cache/cnngen"
  local debian_dir=/usr/share/datasets/fashion-mnist
  if [[ -d "$debian_dir" ]]; then
    say "using Debian's Fashion-MNIST in $debian_dir"
    return 0
  fi
  if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian system: the sample will look for (or download) its data itself"
    return 0
  fi
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      say "warning: not root and no sudo: cannot install dataset-fashion-mnist; continuing without it"
      return 0
    fi
  fi
  say "installing Debian's dataset-fashion-mnist (-> $debian_dir): ${sudo[*]+${sudo[*]} }apt-get update && ${sudo[*]+${sudo[*]} }apt-get install -y dataset-fashion-mnist"
  if ${sudo[@]+"${sudo[@]}"} apt-get update \
     && ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist; then
    say "installed: $(ls "$debian_dir" 2>/dev/null | tr '\n' ' ')"
  else
    say "warning: installing dataset-fashion-mnist failed; continuing"
  fi
}

cmd_run_project() {
  local project="$1"; shift
  [[ -d "$project" ]] && compgen -G "$project/*.csproj" >/dev/null \
    || die "$project does not exist yet (no project file in $project)"
  say "dotnet run -c $CONFIG --project $project -- $*"
  dn run -c "$CONFIG" --project "$project" -- "$@"
}

# The runtime identifier of this machine, for the Native AOT publish.
host_rid() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=osx ;;
    *) die "predictor: unsupported OS $(uname -s) (use build.cmd on Windows)" ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "predictor: unsupported CPU $(uname -m)" ;;
  esac
  printf '%s-%s\n' "$os" "$arch"
}

cmd_predictor() {
  local weights="${CNNGEN_MNIST_WEIGHTS:-$ROOT/mnist.safetensors}"
  if [[ ! -f "$weights" ]]; then
    say "no trained weights at $weights: training the MNIST sample first (./build.sh mnist)"
    ensure_data
    cmd_run_project samples/Mnist --save "$weights" --no-plots || die "training failed"
    [[ -f "$weights" ]] || die "training did not write $weights"
  else
    say "trained weights: $weights (delete it, or set CNNGEN_MNIST_WEIGHTS, to use others)"
  fi
  local rid out
  rid="$(host_rid)"
  out="$OUT_ROOT/predictor"
  say "dotnet publish samples/MnistPredict -c $CONFIG -r $rid -o $out  (PublishAot=true in the project)"
  dn publish samples/MnistPredict/MnistPredict.csproj -c "$CONFIG" -r "$rid" \
    -p:MnistWeights="$weights" -o "$out" || die "publish failed"
  local exe="$out/mnist-predict"
  [[ -x "$exe" ]] || die "publish did not produce $exe"
  echo
  say "native predictor: $exe ($(wc -c <"$exe" | tr -d ' ') bytes; needs no .NET runtime and no weights file)"
  [[ -x "$exe-avx512" ]] && say "  and its AVX-512 build $exe-avx512, which it switches to by itself on CPUs with AVX-512"
  echo "    $exe t10k-images-idx3-ubyte.gz 0      # one image of an IDX file (True: from the labels beside it)"
  echo "    $exe t10k-images-idx3-ubyte.gz        # accuracy over the whole set"
  echo "    $exe digit.pgm | digit.png            # a 28x28 grayscale image, white digit on black"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    build) require_dotnet; cmd_build ;;
    test)  require_dotnet; cmd_test ;;
    pack)  require_dotnet; cmd_pack ;;
    mnist) require_dotnet; ensure_data; cmd_run_project samples/Mnist "$@" ;;
    bench) require_dotnet; cmd_run_project bench/CnnGen.Bench "$@" ;;
    predictor) require_dotnet; cmd_predictor ;;
    ""|-h|--help|help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
