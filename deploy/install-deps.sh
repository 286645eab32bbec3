#!/usr/bin/env bash
# Installs the Debian packages the fleet builds and tests against, if missing. Idempotent.
# Swift itself (6.2 or newer) must be on PATH; the Swift packages resolve from Package.swift.
set -euo pipefail
# --test adds what only the tests use: Debian's prometheus package for promtool.
packages=(
  pkg-config make gcc curl
  libsystemd-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev libyaml-dev libgcrypt20-dev
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
)
[ "${1:-}" = "--test" ] && packages+=(prometheus)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # RUNLEVEL=1 keeps package scripts from starting services (prometheus) on a build machine.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "install-deps: swift is not on PATH (Swift 6.2+ needed)" >&2; exit 1; }
echo "install-deps: all system packages present"
