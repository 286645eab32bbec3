#!/usr/bin/env bash
# Regenerates the committed Swift and C code from Proto/fleet.proto.
# Swift: Debian's protoc + protoc-gen-swift built (release, that product only) from the same
# swift-protobuf version Package.swift names. C: protoc-c from Debian's protobuf-c-compiler.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="1.39.0"
tools="$here/../.build-protoc-gen-swift"
if [ ! -x "$tools/protoc-gen-swift" ]; then
  rm -rf "$tools/src" && mkdir -p "$tools"
  checkout="$here/../.build/checkouts/swift-protobuf"
  if [ -d "$checkout" ] && [ "$(git -C "$checkout" describe --tags 2>/dev/null)" = "$version" ]; then
    # The package's own resolved checkout (after any `swift build`): no network needed.
    cp -R "$checkout" "$tools/src"
  else
    git clone --quiet --depth 1 --branch "$version" https://github.com/apple/swift-protobuf.git "$tools/src"
  fi
  swift build -c release --package-path "$tools/src" --product protoc-gen-swift
  cp "$tools/src/.build/release/protoc-gen-swift" "$tools/protoc-gen-swift"
fi
cd "$here"
protoc --plugin=protoc-gen-swift="$tools/protoc-gen-swift" \
  --swift_out=Swift --swift_opt=Visibility=Public fleet.proto
protoc-c --c_out=C fleet.proto
echo "generated: Proto/Swift/fleet.pb.swift Proto/C/fleet.pb-c.{c,h}"
