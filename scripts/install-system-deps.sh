#!/usr/bin/env bash
# Install the Debian packages segreport uses (chromium for PDF and browser tests,
# fonts-noto-cjk for Chinese charts, poppler-utils for PDF checks) when we can:
# as root, or with password-less sudo. Otherwise say what is missing and go on.
# SEGREPORT_SPARK=1 (make test-spark) adds the Java runtime a local Spark session needs.
set -euo pipefail
packages=("$@")
[ "${SEGREPORT_SPARK:-0}" = 1 ] && packages+=(default-jre-headless)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "segreport: not a Debian/Ubuntu system; please install: ${missing[*]}" >&2; exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "segreport: not root and no sudo; please install: ${missing[*]} (PDF, Chinese fonts, browser tests and local Spark need them)" >&2
  exit 0
fi
echo "segreport: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# matplotlib caches the font list; rebuild it so the new CJK fonts are found.
rm -rf "${HOME:-/root}/.cache/matplotlib" 2>/dev/null || true
