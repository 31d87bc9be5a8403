#!/usr/bin/env bash
# deps.sh run|test|bench|cluster — make sure the Debian packages contactd needs are
# installed. As root it installs what is missing with apt-get; otherwise it
# prints the command to run and fails.
set -euo pipefail
run_pkgs=(gcc pkg-config libopus-dev libopusfile-dev libspandsp-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us espeak-ng)
# baresip-core: the desk-phone tests register a real SIP phone.
# asterisk-core-sounds-en-wav: real recorded telephone prompts for the
# narrowband recogniser tests. sipvicious: the scanner tests (svwar, svcrack).
# firefox-esr: the softphone smoke test in Firefox (e2e/firefox_test.go).
# flite: the recogniser tests speak in voices closer to human callers than
# espeak; asterisk-core-sounds-en has the prompts' transcripts, without
# which the narrowband recogniser tests skip.
test_pkgs=("${run_pkgs[@]}" postgresql postgresql-client chromium sip-tester sox baresip-core asterisk-core-sounds-en-wav asterisk-core-sounds-en sipvicious firefox-esr flite)
# bench: the peers measured beside contactd (raw decoder, rtpengine).
bench_pkgs=("${test_pkgs[@]}" pocketsphinx rtpengine-daemon)
# cluster: deploy/cluster-test.sh runs the SIP front (kamailio, with its
# dispatcher module in the base package) and an HTTP load balancer (haproxy)
# in front of the nodes' HTTP, as deploy/cluster.md deploys them.
cluster_pkgs=("${test_pkgs[@]}" kamailio haproxy)
case "${1:-run}" in
  run) want=("${run_pkgs[@]}") ;;
  test) want=("${test_pkgs[@]}") ;;
  bench) want=("${bench_pkgs[@]}") ;;
  cluster) want=("${cluster_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|bench|cluster" >&2; exit 2 ;;
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
