#!/usr/bin/env bash
# Builds the keraslite wheel (`make wheel`): the release binary linked with the static Swift
# standard library and Foundation, stripped, as package data of the pure-Python module in python/,
# then `auditwheel repair` copies libhdf5, OpenBLAS, zlib and what they load into keraslite.libs/
# and sets the manylinux tag. Prints the wheel's path on its last line.
#
# The result is cached in $WHEEL_CACHE/<key>/ (unless WHEEL_CACHE is empty), keyed by everything
# that goes into it: the sources, Package.swift/.resolved, python/, this script, the wheel tools'
# pins, the Swift toolchain and the Debian libraries' versions. A fresh clone of an unchanged tree
# then reuses the wheel instead of a multi-minute static release build.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
TOOLS=${WHEEL_TOOLS:-.build/wheel-tools}   # virtualenv with requirements-wheel.txt (make wheel-tools)
DIST=${DIST:-dist}
WHEEL_CACHE=${WHEEL_CACHE-$HOME/.cache/keraslite-wheel}
export PATH="$(cd "$TOOLS/bin" && pwd):$PATH"        # auditwheel runs patchelf from PATH
LIB_PACKAGES="libhdf5-103-1 libopenblas0-pthread zlib1g libgfortran5 libsz2 libaec0 libcurl3-gnutls libcurl4"

nice -n 10 $SWIFT package resolve >/dev/null
key=$( {
    git ls-files -z --cached --others --exclude-standard Sources Package.swift python scripts/build_wheel.sh requirements-wheel.txt \
        | sort -z | xargs -0 sha256sum
    grep -v "\"originHash\"" Package.resolved 2>/dev/null || true   # originHash differs between checkouts
    $SWIFT --version 2>&1
    dpkg-query -W $LIB_PACKAGES 2>&1 || true
} | sha256sum | cut -c1-16)

cached=${WHEEL_CACHE:+$WHEEL_CACHE/$key}
if [ -n "$cached" ] && compgen -G "$cached/keraslite-*.whl" >/dev/null; then
    echo "wheel: cached in $cached (key $key)" >&2
else
    start=$(date +%s)
    nice -n 10 $SWIFT build -c release --static-swift-stdlib --product keraslite >&2
    built=$(date +%s)
    binary=$($SWIFT build -c release --static-swift-stdlib --show-bin-path)/keraslite

    work=.build/wheel
    rm -rf "$work" && mkdir -p "$work/stage" "$work/raw" "$work/repaired"
    cp -r python/. "$work/stage/"
    rm -rf "$work/stage/build" "$work/stage"/*.egg-info
    mkdir -p "$work/stage/keraslite/bin"
    # Symbols only: Swift's metadata and reflection sections stay. The strip of a copy keeps
    # .build/release/keraslite debuggable.
    strip -o "$work/stage/keraslite/bin/keraslite" "$binary"
    chmod 755 "$work/stage/keraslite/bin/keraslite"
    "$TOOLS/bin/python" -m pip wheel -q --no-deps --no-build-isolation --disable-pip-version-check -w "$work/raw" "$work/stage" >&2
    "$TOOLS/bin/auditwheel" repair -w "$work/repaired" "$work"/raw/keraslite-*.whl >&2
    "$TOOLS/bin/auditwheel" show "$work"/repaired/keraslite-*.whl >&2
    echo "wheel: static release build $((built - start)) s, packaging $(( $(date +%s) - built )) s" >&2
    if [ -n "$cached" ]; then
        mkdir -p "$WHEEL_CACHE"
        rm -rf "$cached.tmp" && mkdir "$cached.tmp"
        cp "$work"/repaired/keraslite-*.whl "$cached.tmp/"
        rm -rf "$cached" && mv "$cached.tmp" "$cached"
    else
        cached=$work/repaired
    fi
fi

mkdir -p "$DIST"
rm -f "$DIST"/keraslite-*.whl
cp "$cached"/keraslite-*.whl "$DIST/"
wheel=$(ls "$DIST"/keraslite-*.whl)
echo "wheel: $wheel, $(stat -c %s "$wheel") bytes" >&2
echo "$wheel"
