#!/usr/bin/env bash
# The Native AOT predictor against the JIT run of the same program and against PyTorch, in one run (issue 5):
# exact predictions over the MNIST test set, executable size, process start -> first prediction, batch-1 latency.
#   bench/aot.sh            (after ./build.sh predictor; uses artifacts/ or $CNNGEN_ARTIFACTS_PATH like build.sh)
# Needs MNIST in ../shared/data/mnist (or $CNNGEN_DATA) and, for the PyTorch figures, Debian's python3-torch and
# libopenblas0-openmp (as bench/run.sh). PyTorch runs "tuned", as ../shared/bench/README.md prescribes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${CNNGEN_ARTIFACTS_PATH:-$ROOT/artifacts}"
ART=(); [[ -n "${CNNGEN_ARTIFACTS_PATH:-}" ]] && ART=(--artifacts-path "$CNNGEN_ARTIFACTS_PATH")
DATA="${CNNGEN_DATA:-$ROOT/../shared/data}"; [[ -d "$DATA/mnist" ]] && DATA="$DATA/mnist"
IMAGES="$DATA/t10k-images-idx3-ubyte.gz"
WEIGHTS="${CNNGEN_MNIST_WEIGHTS:-$ROOT/mnist.safetensors}"
PEERS="${CNNGEN_SHARED:-$ROOT/../shared}/bench/peers"
SECS="${CNNGEN_BENCH_SECONDS:-3}"
AOT="$OUT/predictor/mnist-predict"
NATIVE="$OUT/predictor-native/mnist-predict"
[[ -x "$AOT" ]] || { echo "bench/aot.sh: $AOT not found: run ./build.sh predictor first" >&2; exit 1; }
[[ -f "$IMAGES" ]] || { echo "bench/aot.sh: $IMAGES not found" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

say "JIT build of the same program (dotnet build samples/MnistPredict -c Release)"
dotnet build samples/MnistPredict/MnistPredict.csproj -c Release ${ART[@]+"${ART[@]}"} -p:MnistWeights="$WEIGHTS" -v:q -nologo >/dev/null
JITDLL="$OUT/bin/MnistPredict/release/mnist-predict.dll"
[[ -n "${CNNGEN_ARTIFACTS_PATH:-}" ]] || JITDLL="$ROOT/samples/MnistPredict/bin/Release/net10.0/mnist-predict.dll"
say "AOT build for this CPU (-p:IlcInstructionSet=native, AVX-512 here) into $OUT/predictor-native"
dotnet publish samples/MnistPredict/MnistPredict.csproj -c Release -r linux-x64 ${ART[@]+"${ART[@]}"} -p:MnistWeights="$WEIGHTS" \
  -p:IlcInstructionSet=native -o "$OUT/predictor-native" -v:q -nologo >/dev/null

say "predictions over the full test set: AOT (default: switches to mnist-predict-avx512 on AVX-512 CPUs) vs JIT, JIT on Vector256, JIT loading the weights file, AOT native, AOT x86-64-v3 kept"
"$AOT" "$IMAGES" --list >"$TMP/aot.txt"
CNNGEN_NO_NATIVE_VARIANT=1 "$AOT" "$IMAGES" --list >"$TMP/aotv3.txt"
dotnet "$JITDLL" "$IMAGES" --list >"$TMP/jit.txt"
CNNGEN_DISABLE_VECTOR512=1 dotnet "$JITDLL" "$IMAGES" --list >"$TMP/jit256.txt"
dotnet "$JITDLL" "$IMAGES" --list --weights "$WEIGHTS" >"$TMP/jitfile.txt"
"$NATIVE" "$IMAGES" --list >"$TMP/native.txt"
for f in jit jit256 jitfile native aotv3; do
  if cmp -s "$TMP/aot.txt" "$TMP/$f.txt"; then echo "  aot == $f: all $(($(wc -l <"$TMP/aot.txt") - 1)) predictions identical; $(tail -1 "$TMP/$f.txt")"
  else echo "  aot != $f: $(diff "$TMP/aot.txt" "$TMP/$f.txt" | grep -c '^<') predictions differ"; exit 1; fi
done

say "executable"
echo "  $AOT: $(wc -c <"$AOT" | tr -d ' ') bytes; ldd: $(ldd "$AOT" | awk '{print $1}' | tr '\n' ' ')"
[[ -x "$AOT-avx512" ]] && echo "  $AOT-avx512: $(wc -c <"$AOT-avx512" | tr -d ' ') bytes"
echo "  no dotnet on PATH, DOTNET_ROOT unset:"
env -i PATH=/nonexistent "$AOT" "$IMAGES" 0 | sed 's/^/    /'

say "process start -> first prediction (one 28x28 PGM: test image 0)"
/usr/bin/python3 - "$IMAGES" "$TMP/digit.pgm" <<'PY'
import gzip, sys
raw = gzip.open(sys.argv[1]).read()
open(sys.argv[2], "wb").write(b"P5 28 28 255\n" + raw[16:16 + 784])
PY
"$AOT" "$TMP/digit.pgm" | sed 's/^/    AOT:     /'
/usr/bin/python3 bench/aot/startup.py "AOT (default; switches to -avx512 here)" 20 -- "$AOT" "$TMP/digit.pgm"
/usr/bin/python3 bench/aot/startup.py "AOT (x86-64-v3 kept)" 20 -- env CNNGEN_NO_NATIVE_VARIANT=1 "$AOT" "$TMP/digit.pgm"
/usr/bin/python3 bench/aot/startup.py "JIT (dotnet mnist-predict.dll)" 20 -- dotnet "$JITDLL" "$TMP/digit.pgm"
TORCH_ENV=(env GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp)
if "${TORCH_ENV[@]}" /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  "${TORCH_ENV[@]}" /usr/bin/python3 bench/aot/torch_predict.py "$PEERS" "$WEIGHTS" "$TMP/digit.pgm" | sed 's/^/    PyTorch: /'
  /usr/bin/python3 bench/aot/startup.py "PyTorch 1.13 (python3 torch_predict.py)" 10 -- "${TORCH_ENV[@]}" /usr/bin/python3 bench/aot/torch_predict.py "$PEERS" "$WEIGHTS" "$TMP/digit.pgm"
fi

say "batch-1 latency, 1 thread (median over >= $SECS s after warm-up), back to back"
"$AOT" "$TMP/digit.pgm" --bench "$SECS" | grep Bench | sed 's/^ */  AOT default:   /'
CNNGEN_NO_NATIVE_VARIANT=1 "$AOT" "$TMP/digit.pgm" --bench "$SECS" | grep Bench | sed 's/^ */  AOT x86-64-v3: /'
dotnet "$JITDLL" "$TMP/digit.pgm" --bench "$SECS" | grep Bench | sed 's/^ */  JIT:           /'
CNNGEN_DISABLE_VECTOR512=1 dotnet "$JITDLL" "$TMP/digit.pgm" --bench "$SECS" | grep Bench | sed 's/^ */  JIT Vector256: /'
"$NATIVE" "$TMP/digit.pgm" --bench "$SECS" | grep Bench | sed 's/^ */  AOT native:    /'
if "${TORCH_ENV[@]}" /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  "${TORCH_ENV[@]}" /usr/bin/python3 "$PEERS/torch_bench.py" --models A --threads 1 --only-latency-a --no-wait --out "$TMP/torch.json" 2>&1 \
    | grep -E "^model A|^JIT" | sed 's/^/  PyTorch tuned: /'
fi
