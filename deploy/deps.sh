#!/usr/bin/env bash
# deps.sh run|test — make sure the Debian packages contactd needs are
# installed. As root it installs what is missing with apt-get; otherwise it
# prints the command to run and fails.
set -euo pipefail
run_pkgs=(gcc pkg-config libopus-dev libopusfile-dev libspandsp-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us espeak-ng)
test_pkgs=("${run_pkgs[@]}" postgresql postgresql-client chromium sip-tester sox)
case "${1:-run}" in
  run) want=("${run_pkgs[@]}") ;;
  test) want=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v go >/dev/null 2>&1; then
  # Debian 12's golang-go (1.19) is too old to build this module, and too
  # old to fetch the right toolchain itself (Go >= 1.21 does that).
  echo "Go is not installed: install Go 1.21 or newer (go.dev/dl); it fetches the toolchain go.mod names." >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
