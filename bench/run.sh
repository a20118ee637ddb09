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
QUICK=0; [[ "${1:-}" == "--quick" ]] && QUICK=1
mkdir -p bench/results

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || [[ ! -d /usr/lib/x86_64-linux-gnu/openblas-openmp ]]; then
  echo "==> installing PyTorch (Debian python3-torch) and OpenBLAS for the peers"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp
fi

rm -rf bench/.peers && cp -r "$PEERS_SRC" bench/.peers && chmod -R u+w bench/.peers

SECS=2; [[ $QUICK == 1 ]] && SECS=1
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
