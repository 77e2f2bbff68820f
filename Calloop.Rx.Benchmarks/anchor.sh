#!/usr/bin/env bash
# Runs one anchor workload on Calloop.Rx (or, with --impl rx-els, on Rx's EventLoopScheduler; with --impl dotnet-epoll,
# the fd workloads on bare epoll P/Invokes and no loop; with --impl rx-subject, broadcast-8 and pipeline on a plain
# Subject, the operator floor) and prints one result line in the anchors' format. Builds Release once if needed.
# Usage: anchor.sh [--impl rx-els|rx-subject|dotnet-epoll] <workload> [n]
# The result line is the anchors' format, so an anchors harness can run this script as one more implementation
# beside the others (passing its path as the harness's extra implementation command).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dll="$here/bin/Release/net10.0/Calloop.Rx.Benchmarks.dll"
if [ ! -f "$dll" ] || [ -n "$(find "$here/.." -name '*.cs' -path '*Calloop.Rx*' -not -path '*/obj/*' -not -path '*/bin/*' -newer "$dll" -print -quit)" ]; then
  dotnet build "$here/Calloop.Rx.Benchmarks.csproj" -c Release -v quiet -nologo >&2
  touch "$dll"   # an up-to-date incremental build leaves the dll's time alone; mark it checked
fi
exec dotnet "$dll" "$@"
