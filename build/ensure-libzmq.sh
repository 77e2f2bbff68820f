#!/usr/bin/env bash
# Makes sure libzmq.so.5 (Debian's libzmq5, ZeroMQ 4.3) can be loaded: the ZeroMQ source loads it at run time, and
# the tests and the zeromq sample use it. Run by the build of Calloop.Rx.Tests and Calloop.Rx.Samples, so that the
# README's commands work on a machine that has only the .NET SDK. Installs it with apt-get when missing and allowed.
set -euo pipefail

# grep reads all of ldconfig's output: with -q it could exit first, and pipefail would then see SIGPIPE.
if /sbin/ldconfig -p 2>/dev/null | grep 'libzmq\.so\.5' >/dev/null; then
    exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-libzmq: libzmq.so.5 not found; installing Debian's libzmq5" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzmq5 >/dev/null
    exit 0
fi

echo "ensure-libzmq: libzmq.so.5 not found. Install ZeroMQ 4.3 (Debian/Ubuntu: sudo apt-get install -y libzmq5)." >&2
exit 1
