#!/usr/bin/env bash
# Runs the TorchSharp peer (TsBench) with a C/C++ runtime new enough for LibTorch 2.10.
#   bench/peers-big/torchsharp/run.sh --models cifar,resnet18,effb0 --dir ../../results/big [--reps 3] [--seconds 1]
#
# TorchSharp-cpu 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 (libstdc++ of GCC 13+). Debian 12 ships GCC 12's
# libstdc++ (GLIBCXX_3.4.30), and Debian 13's libstdc++ in turn needs glibc 2.38 (Debian 12 has 2.36). Where the system
# libstdc++ is new enough (Debian 13, Ubuntu 24.04, Fedora 39+) this script just runs the program. Otherwise it puts
# Debian 13's libc6, libstdc++6, libgcc-s1 and libgomp1 in bench/.trixie (downloaded with apt from deb.debian.org,
# extracted, nothing installed system-wide), makes a copy of the dotnet host whose ELF interpreter is that glibc's
# loader (patchelf, installed from Debian if missing), and runs the program under it with LD_LIBRARY_PATH pointing
# there. The whole process — .NET runtime, TorchSharp, LibTorch — then runs on glibc 2.41 / libstdc++ 14. LibTorch's
# own kernels (its bundled MKL/oneDNN and OpenMP) are unchanged, so its speed is what a user on a newer distro gets.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
cd "$HERE"
dotnet build -c Release -v q -nologo 2>&1 | grep -E "error|Warn|warn" || true
DLL="$HERE/bin/Release/net10.0/TsBench.dll"
# (awk reads all of ldconfig's output: an early exit would kill ldconfig with SIGPIPE, which pipefail + set -e turn
# into a silent exit of this script)
SYS_STDCXX=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {print $NF; found = 1}')

if [[ -n "$SYS_STDCXX" ]] && grep -q GLIBCXX_3.4.32 "$SYS_STDCXX"; then
  exec dotnet "$DLL" "$@"
fi

SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
TRIXIE="$ROOT/bench/.trixie"
LIBS="$TRIXIE/root/usr/lib/x86_64-linux-gnu"
if [[ ! -f "$LIBS/libstdc++.so.6" || ! -f "$LIBS/ld-linux-x86-64.so.2" ]]; then
  echo "torchsharp/run.sh: system libstdc++ lacks GLIBCXX_3.4.32; fetching Debian 13 runtime libraries into $TRIXIE" >&2
  rm -rf "$TRIXIE"; mkdir -p "$TRIXIE/lists/partial" "$TRIXIE/cache/archives/partial" "$TRIXIE/debs" "$TRIXIE/root"
  echo "deb http://deb.debian.org/debian trixie main" > "$TRIXIE/sources.list"
  APT=(-o Dir::Etc::sourcelist="$TRIXIE/sources.list" -o Dir::Etc::sourceparts=/dev/null
       -o Dir::State::Lists="$TRIXIE/lists" -o Dir::Cache="$TRIXIE/cache" -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" -qq update
  (cd "$TRIXIE/debs" && apt-get "${APT[@]}" -qq download libc6 libstdc++6 libgcc-s1 libgomp1)
  for d in "$TRIXIE"/debs/*.deb; do dpkg-deb -x "$d" "$TRIXIE/root"; done
fi
if ! command -v patchelf >/dev/null; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null; }
fi

# A dotnet host whose interpreter is Debian 13's loader; host/, fxr/ and shared/ are the installed SDK's.
DOTNET_REAL="$(dirname "$(readlink -f "$(command -v dotnet)")")"
HOSTDIR="$TRIXIE/dotnet"
if [[ ! -x "$HOSTDIR/dotnet" ]]; then
  mkdir -p "$HOSTDIR"
  for e in host fxr shared; do ln -sfn "$DOTNET_REAL/$e" "$HOSTDIR/$e"; done
  cp "$DOTNET_REAL/dotnet" "$HOSTDIR/dotnet.tmp"
  patchelf --set-interpreter "$LIBS/ld-linux-x86-64.so.2" "$HOSTDIR/dotnet.tmp"
  mv "$HOSTDIR/dotnet.tmp" "$HOSTDIR/dotnet"
fi
echo "torchsharp/run.sh: running on Debian 13's glibc/libstdc++ from $LIBS" >&2
exec env LD_LIBRARY_PATH="$LIBS" DOTNET_ROOT="$HOSTDIR" "$HOSTDIR/dotnet" "$DLL" "$@"
