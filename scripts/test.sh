#!/usr/bin/env bash
# Runs every module's tests (Netty PARANOID leak detection on) with JDK 25. Usage: scripts/test.sh [extra mvn args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
. "$here/scripts/jdk.sh"
switchboard_find_jdk || exit 2
command -v mvn >/dev/null || { echo "scripts/test.sh: Maven is needed: apt-get install maven" >&2; exit 2; }
cd "$here"
exec mvn -B -ntp "$@" install
