#!/usr/bin/env bash
# One benchmark run: CnnGen (bench/CnnGen.Bench) and its peers on this machine, back to back, so the
# numbers compare (this 2-core VM moves 10-30% between runs; compare only figures from one run).
#   bench/run.sh [--quick]          results in bench/results/, summary printed at the end
# Peers (../shared/bench/peers, copied to bench/.peers because the shared folder is read-only):
#   PyTorch 1.13 "tuned" (no-trim malloc + OpenBLAS, as ../shared/bench/README.md prescribes), ONNX Runtime 1.31 from C#.
# Needs: Debian packages python3-torch, libopenblas0-openmp (installed here if missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHARED="${CNNGEN_SHARED:-$ROOT/../shared}"
PEERS_SRC="$SHARED/bench/peers"
[[ -d "$PEERS_SRC" ]] || { echo "bench/run.sh: peers harness not found at $PEERS_SRC" >&2; exit 1; }
QUICK=0; SMALL=1; BIG=1
for a in "$@"; do case "$a" in --quick) QUICK=1;; --big-only) SMALL=0;; --small-only) BIG=0;; esac; done
mkdir -p bench/results bench/results/big

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || [[ ! -d /usr/lib/x86_64-linux-gnu/openblas-openmp ]]; then
  echo "==> installing PyTorch (Debian python3-torch) and OpenBLAS for the peers"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp
fi

rm -rf bench/.peers && cp -r "$PEERS_SRC" bench/.peers && chmod -R u+w bench/.peers

echo "==> machine load at start: $(uptime)"; ps -eo pcpu,etime,comm --sort=-pcpu | head -8 | tee bench/results/load_start.txt
uptime >> bench/results/load_start.txt
SECS=2; [[ $QUICK == 1 ]] && SECS=1
if [[ $SMALL == 1 ]]; then
echo "==> CnnGen (models A, B, C)"
dotnet run -c Release --project bench/CnnGen.Bench -- --seconds $SECS --out bench/results/cnngen.json | tee bench/results/cnngen.log

echo "==> PyTorch 1.13, tuned (models A, B, C; 1 and 2 threads)"
EXTRA=(); [[ $QUICK == 1 ]] && EXTRA=(--lat-seconds 0.5 --tput-seconds 0.7 --train-seconds 1)
bench/.peers/run_torch_configs.sh tuned --models A,B,C ${EXTRA[@]+"${EXTRA[@]}"} | tee bench/results/torch.log

echo "==> ONNX Runtime 1.31 (C#, IoBinding)"
/usr/bin/python3 bench/.peers/export_onnx.py
(cd bench/.peers/ort && dotnet run -c Release -- --threads 1,2 --out ../results/ort.json) | tee bench/results/ort.log

cp bench/.peers/results/torch_tuned.json bench/results/torch_tuned.json
cp bench/.peers/results/ort.json bench/results/ort.json
/usr/bin/python3 bench/summarize.py bench/results | tee bench/results/summary.md
fi

if [[ $BIG == 1 ]]; then
  # Issue 19: ResNet-18, EfficientNet-B0, CIFAR ResNet; same weights in every engine, outputs checked before timing.
  BIGM="${CNNGEN_BIG_MODELS:-cifar,resnet18,effb0}"; REPS=3; BSECS=1; [[ $QUICK == 1 ]] && BSECS=0.3
  # Results of an earlier run must not stand in for a peer that fails in this one (the summary shows "—" instead).
  rm -f bench/results/big/{cnngen,ort,torchsharp,torch}_*.json bench/results/big/peak.json
  TUNED=(env GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp)
  echo "==> FMA peak (../shared/bench/peers/peak)"
  # The peak program waits (up to 15 min) for an idle machine; bounded here so a busy machine cannot stall the run.
  (cd bench/.peers/peak && timeout "${CNNGEN_PEAK_TIMEOUT:-120}" dotnet run -c Release -- --no-wait --out "$ROOT/bench/results/big/peak.json") 2>&1 | tee bench/results/big/peak.log || true
  echo "==> exporting weights / ONNX / TorchScript from PyTorch"
  "${TUNED[@]}" /usr/bin/python3 bench/big_torch.py --models "$BIGM" --export 2>&1 | grep -v Warning
  echo "==> CnnGen (samples' models, PyTorch's weights)"
  dotnet run -c Release --project bench/CnnGen.Bench -- --big "$BIGM" --reps $REPS --seconds $BSECS | tee bench/results/big/cnngen.log
  echo "==> ONNX Runtime 1.32 (C#, IoBinding)"
  (cd bench/peers-big/ort && dotnet run -c Release -- --models "$BIGM" --dir ../../results/big --reps $REPS --seconds $BSECS) | tee bench/results/big/ort.log
  echo "==> TorchSharp-cpu 0.107 (LibTorch 2.10)"
  # run.sh supplies Debian 13's glibc/libstdc++ where the system's is too old for LibTorch 2.10 (see that script).
  (cd bench/peers-big/torchsharp && ./run.sh --models "$BIGM" --dir ../../results/big --reps $REPS --seconds $BSECS) 2>&1 | tee bench/results/big/torchsharp.log || true
  echo "==> PyTorch 1.13 tuned"
  "${TUNED[@]}" /usr/bin/python3 bench/big_torch.py --models "$BIGM" --time --reps $REPS --seconds $BSECS 2>&1 | grep -v Warning | tee bench/results/big/torch.log
  /usr/bin/python3 bench/summarize_big.py bench/results/big | tee bench/results/big/summary.md
fi
echo "==> machine load at end: $(uptime)"; ps -eo pcpu,etime,comm --sort=-pcpu | head -8 | tee bench/results/load_end.txt
uptime >> bench/results/load_end.txt
