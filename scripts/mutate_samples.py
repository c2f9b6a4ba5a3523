#!/usr/bin/env python3
"""Mutates copies of Keras sample files (random byte flips, truncations, zeroed blocks) and runs
`keraslite inspect` and `convert` on each under a timeout, reporting crashes (signals, ASan) and
hangs — the reproduction of issue 14, and a quick smoke test beside `make fuzz-keras`:

    scripts/mutate_samples.py .build/debug/keraslite --count 60 --seed 1 [--keep DIR] [files…]

A run is fine when it exits 0, or 2 with one line on stderr. Anything else is printed with the
mutated file kept in --keep (default /tmp/keraslite-mutants) for reproduction.
"""
import argparse
import glob
import os
import random
import subprocess
import sys
import tempfile


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "zero", "mixed"])
    if kind in ("flip", "mixed"):
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    if kind in ("zero", "mixed"):
        for _ in range(rng.randint(1, 4)):
            start = rng.randrange(len(data))
            length = rng.choice([8, 64, 512, 4096])
            data[start:start + length] = bytes(len(data[start:start + length]))
    if kind == "truncate":
        data = data[:rng.randrange(8, len(data))]
    return bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("files", nargs="*")
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--keep", default="/tmp/keraslite-mutants")
    args = parser.parse_args()
    files = args.files or sorted(f for f in glob.glob("Samples/*.h5") + glob.glob("Samples/*.keras")
                                 if not f.endswith(".weights.h5"))
    rng = random.Random(args.seed)
    os.makedirs(args.keep, exist_ok=True)
    problems = 0
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.count):
            source = files[index % len(files)]
            extension = ".keras" if source.endswith(".keras") else ".h5"
            path = os.path.join(scratch, f"mutant{index}{extension}")
            with open(source, "rb") as handle:
                mutant = mutate(handle.read(), rng)
            with open(path, "wb") as handle:
                handle.write(mutant)
            for command in (["inspect", path], ["convert", path, "-o", os.path.join(scratch, "out.tflite"), "--quiet"]):
                try:
                    result = subprocess.run([args.binary] + command, capture_output=True, timeout=args.timeout,
                                            env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
                    stderr = result.stderr.decode(errors="replace").strip()
                    fine = result.returncode == 0 or (result.returncode == 2 and stderr.count("\n") == 0 and stderr)
                    verdict = None if fine else f"exit {result.returncode}: {stderr[-300:]!r}"
                except subprocess.TimeoutExpired:
                    verdict = f"hang > {args.timeout:g} s"
                if verdict:
                    problems += 1
                    kept = os.path.join(args.keep, f"{os.path.basename(source)}.{index}{extension}")
                    with open(kept, "wb") as handle:
                        handle.write(mutant)
                    print(f"{kept} {command[0]}: {verdict}", flush=True)
    print(f"{args.count} mutants of {len(files)} files, {problems} problem runs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
