#!/usr/bin/env bash
# Build time and memory of a model, the way a user meets it (issue 19, "Build time"): the packed CnnGen package
# referenced by a fresh consumer project holding one model declaration (samples/ResNet/ResNet18.cs, and
# samples/EfficientNet/EfficientNetB0.cs), then `touch model.cs; dotnet build -c Release` timed three times
# (wall seconds and peak memory of the build, /usr/bin/time). No project references: the repository's own
# projects (and their version computation from git) are not rebuilt or re-checked, as in a user's project.
#   bench/buildtime.sh          (packs first: ./build.sh pack)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '==> %s\n' "$*"; }
[[ -x /usr/bin/time ]] || { say "installing GNU time (apt-get install -y time)"; apt-get install -y time >/dev/null; }
say "./build.sh pack"
./build.sh pack >/dev/null
PKGS="${CNNGEN_ARTIFACTS_PATH:-$ROOT/artifacts}/packages"
NUPKG="$(ls -t "$PKGS"/CnnGen.[0-9]*.nupkg | head -1)"
VER="$(basename "$NUPKG" .nupkg)"; VER="${VER#CnnGen.}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
for model in samples/ResNet/ResNet18.cs samples/EfficientNet/EfficientNetB0.cs; do
  name="$(basename "$model" .cs)"
  dir="$TMP/$name"; mkdir -p "$dir"; cp "$model" "$dir/Model.cs"
  cat >"$dir/consumer.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Library</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <Nullable>enable</Nullable>
    <RestoreAdditionalProjectSources>$PKGS</RestoreAdditionalProjectSources>
    <RestorePackagesPath>$TMP/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="CnnGen" Version="$VER" />
  </ItemGroup>
</Project>
EOF
  (cd "$dir" && dotnet build -c Release -v q -nologo >/dev/null) # restore + first build
  say "$name: CnnGen $VER, $(wc -c <"$dir/Model.cs") bytes of declaration; touch + dotnet build -c Release, 3 times:"
  for i in 1 2 3; do
    touch "$dir/Model.cs"
    (cd "$dir" && /usr/bin/time -f "  %e s wall, %M KB peak (dotnet build)" dotnet build -c Release -v q -nologo 2>&1 >/dev/null | tail -1)
  done
done
