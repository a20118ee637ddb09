#!/usr/bin/env bash
# Regenerates src/Runtime/Onnx/Protocol/Onnx.cs from the official ONNX schema (tools/onnx/onnx.proto, copied verbatim
# from github.com/onnx/onnx onnx/onnx.proto) with protoc from the Google.Protobuf.Tools package.
# The classes are internal to CnnGen.Runtime (the importer tool and the tests see them through InternalsVisibleTo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ver=3.36.2
protoc="$HOME/.nuget/packages/google.protobuf.tools/$ver/tools/linux_x64/protoc"
if [ ! -x "$protoc" ]; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  printf '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup><ItemGroup><PackageReference Include="Google.Protobuf.Tools" Version="%s" /></ItemGroup></Project>' "$ver" > "$tmp/p.csproj"
  dotnet restore "$tmp/p.csproj" -v q
  chmod +x "$protoc"
fi
"$protoc" --proto_path="$here" --csharp_out="$here/../../src/Runtime/Onnx/Protocol" --csharp_opt=internal_access,file_extension=.g.cs "$here/onnx.proto"
