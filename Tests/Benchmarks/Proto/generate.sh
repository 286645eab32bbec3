#!/usr/bin/env bash
# Regenerates the committed Sources/BenchGRPC/bench_grpc.grpc.swift from bench_grpc.proto, which
# imports Proto/fleet.proto (its Swift types are the main package's FleetProto module, see
# module-map.asciipb) and google/protobuf/empty.proto (SwiftProtobuf's own types).
# Debian's protoc + protoc-gen-grpc-swift-2 built (release, that product only) from the same
# grpc-swift-protobuf version Tests/Benchmarks/Package.swift names. The server side registers these
# methods by hand with pass-through coders (grpc-engine-paper/GRPCTwin.swift); the client is generated.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="2.4.1"
tools="$here/../.build-protoc-gen-grpc-swift"
if [ ! -x "$tools/protoc-gen-grpc-swift-2" ]; then
  rm -rf "$tools/src" && mkdir -p "$tools"
  git clone --quiet --depth 1 --branch "$version" https://github.com/grpc/grpc-swift-protobuf.git "$tools/src"
  swift build -c release --package-path "$tools/src" --product protoc-gen-grpc-swift-2
  cp "$tools/src/.build/release/protoc-gen-grpc-swift-2" "$tools/protoc-gen-grpc-swift-2"
fi
cd "$here"
protoc --plugin=protoc-gen-grpc-swift-2="$tools/protoc-gen-grpc-swift-2" -I . -I ../../../Proto \
  --grpc-swift-2_out=../Sources/BenchGRPC \
  --grpc-swift-2_opt=Visibility=Public,ProtoPathModuleMappings=module-map.asciipb \
  bench_grpc.proto
# Formatted as the rest of Tests/Benchmarks/Sources (the repo's .swift-format), so regenerating is a no-op.
swift format --in-place ../Sources/BenchGRPC/bench_grpc.grpc.swift
echo "generated: Tests/Benchmarks/Sources/BenchGRPC/bench_grpc.grpc.swift"
