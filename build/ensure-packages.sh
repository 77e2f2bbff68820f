#!/usr/bin/env bash
# Makes sure the Debian packages named as arguments are installed, so that the README's commands work on a machine
# that has only the .NET SDK. Run by the builds of Calloop.Rx.Samples and Calloop.Rx.Tests (build/EnsurePackages.targets):
#   libzmq5  libzmq.so.5 (ZeroMQ 4.3): the ZeroMQ source loads it at run time; the tests and the zeromq sample use it.
#   tmux     the monitor sample's test runs the sample in a detached tmux session.
# Each package is checked by what the project uses of it; the missing ones are installed with apt-get in one go when
# that is allowed (root), else the script says what to install and fails.
set -euo pipefail

present() {
    case "$1" in
        # grep reads all of ldconfig's output: with -q it could exit first, and pipefail would then see SIGPIPE.
        libzmq5) /sbin/ldconfig -p 2>/dev/null | grep 'libzmq\.so\.5' >/dev/null ;;
        tmux) command -v tmux >/dev/null 2>&1 ;;
        *) echo "ensure-packages: no check known for '$1'" >&2; exit 2 ;;
    esac
}

missing=()
for package in "$@"; do
    present "$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-packages: installing ${missing[*]}" >&2
    # Two projects may build at once: wait for the other's dpkg lock rather than fail.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
    exit 0
fi

echo "ensure-packages: missing ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]})." >&2
exit 1
