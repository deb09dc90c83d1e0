#!/usr/bin/env bash
# Regenerates tests/vectors/aeron-<version>.txt: every session-protocol
# message leakless encodes or decodes, written by each Aeron version's own
# generated encoders (Vectors.java; aeron-1.15/Vectors.java for 1.15.1).
# tests/protocol_vectors.rs decodes each and re-encodes it byte for byte.
#
#   bash interop/java-cluster/vectors.sh            # every version of the matrix
#   bash interop/java-cluster/vectors.sh 1.51.0     # one
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
versions=("${@:-1.51.0 1.15.1}")
for version in ${versions[*]}; do
  eval "$(bash "$here/prepare.sh" "$version")"
  if [ "$version" != 1.15.1 ]; then
    # prepare.sh compiled 1.15.1's writer with its node; current ones here.
    javac --release 17 -cp "$LEAKLESS_AERON_CLASSPATH" -d "${LEAKLESS_AERON_CLASSPATH%%:*}" "$here/Vectors.java"
  fi
  out="$root/tests/vectors/aeron-$version.txt"
  {
    echo "# Aeron $version's own encoders (interop/java-cluster/vectors.sh); name, then the bytes in hex"
    # shellcheck disable=SC2086 # the options are several words
    "$LEAKLESS_JAVA" $LEAKLESS_JAVA_OPTS -cp "$LEAKLESS_AERON_CLASSPATH" Vectors
  } >"$out"
  echo "wrote $out" >&2
done
