#!/usr/bin/env python3
"""Tally keraslite against real Keras files collected from public GitHub repositories.

Issue 12 §3 "Real files". The files themselves are NOT in git (licences vary, sizes add up); they
are listed in scripts/realworld_manifest.json — one entry per file:

    {file, repo, commit, path, licence, kind, bytes}

`file` is the local name (<owner>__<repo>__<path with / → _>); `repo`, `commit` and `path` say
where it came from (`git show <commit>:<path>` of github.com/<repo> reproduces it byte for byte);
`licence` is the repository's LICENSE file as an SPDX-ish name, or "none".

Usage (from the repository root):

    .venv/bin/python scripts/realworld_tally.py [--files DIR] [--bin .build/release/keraslite]
                                               [--out table.md] [--only SUBSTRING]

DIR defaults to $KERASLITE_REALWORLD, else /work/realworld-files; manifest entries whose file is
not in DIR are skipped (and counted). The binary defaults to .build/debug/keraslite.

For each file present:

1. `keraslite inspect FILE --json` — exit code, keras_version, params, the `convertible` flag and
   the classes named in `not_convertible`; then `keraslite sparsity FILE --json` (exit code, and
   whether its `total` equals inspect's `params`).
2. `keraslite convert FILE -o TMP.tflite` — exit code and the first stderr line.
3. If it converted: a subprocess (this script with --worker) loads FILE with the Keras that wrote
   it (tf_keras for keras_version 1.x/2.x, keras 3 for 3.x; compile=False; a failure is recorded
   as "Keras cannot load") and runs 4 random samples, one at a time (keraslite writes batch 1),
   through Keras and through LiteRT (ai_edge_litert.interpreter.Interpreter). Float inputs are
   uniform in [0, 1), seeded by the file name's CRC-32 so reruns draw the same samples; an input
   that feeds an Embedding gets integers in [0, input_dim). The reported error is max |y_keras − y_litert| / max(1, max |y_keras|) over all outputs and
   samples; "exact" means ≤ 1e-4.

Every keraslite command runs with a timeout (--timeout, default 120 s) and every Keras/LiteRT
worker with --keras-timeout (default 300 s), so one bad file cannot hang the tally. An exit
status other than 0, 1 or 2, a signal or a timeout of keraslite is a bug and is listed separately
under "keraslite crashes / hangs".

Output: a markdown table (file, kind, Keras version, params, inspect, convertible / blocking
classes, convert, LiteRT rel. error) and a summary (files read, converted, exact; failures grouped
by reason; most common blocking classes), printed and, with --out, written to a file.
Requires TensorFlow, tf_keras, keras 3, ai-edge-litert, h5py, numpy (requirements-test.txt).
"""

import argparse
import collections
import datetime
import json
import os
import subprocess
import sys
import tempfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXACT = 1e-4
SAMPLES = 4


# ----------------------------------------------------------------------------------------------
# Worker: runs in its own process (TensorFlow is imported only here).

def worker(model_path, tflite_path, keras_version, seed):
    import numpy as np

    major = (keras_version or "2").split(".")[0]
    result = {"keras": None, "error": None, "rel": None, "max_abs": None, "note": None}
    try:
        if major == "3":
            import keras
            result["keras"] = "keras " + keras.__version__
            model = keras.models.load_model(model_path, compile=False)
        else:
            import tf_keras as keras
            result["keras"] = "tf_keras " + keras.__version__
            model = keras.models.load_model(model_path, compile=False)
    except Exception as e:  # noqa: BLE001 — any failure is the answer
        result["error"] = "Keras cannot load: %s: %s" % (type(e).__name__, str(e).splitlines()[0][:160] if str(e) else "")
        print(json.dumps(result))
        return

    # Which model inputs feed an Embedding directly, and its vocabulary.
    vocab = {}
    try:
        inputs = list(model.inputs)

        def walk(layers):
            for layer in layers:
                if hasattr(layer, "layers") and layer.__class__.__name__ in ("Sequential", "Functional", "Model"):
                    walk(layer.layers)
                if layer.__class__.__name__ == "Embedding":
                    try:
                        lin = layer.input
                    except Exception:  # noqa: BLE001
                        continue
                    for i, t in enumerate(inputs):
                        if lin is t or getattr(lin, "name", None) == getattr(t, "name", "?"):
                            vocab[i] = int(layer.input_dim)

        walk(model.layers)
        if not vocab and model.layers and model.layers[0].__class__.__name__ == "Embedding" and len(inputs) == 1:
            vocab[0] = int(model.layers[0].input_dim)
    except Exception:  # noqa: BLE001
        pass

    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=tflite_path)
    in_details = interp.get_input_details()
    out_details = interp.get_output_details()
    k_inputs = list(model.inputs)
    if len(in_details) != len(k_inputs):
        result["error"] = "input count differs: Keras %d, TFLite %d" % (len(k_inputs), len(in_details))
        print(json.dumps(result))
        return

    # Pair TFLite inputs with Keras inputs: by name when every name matches, else by position.
    def kname(t):
        return getattr(t, "name", "").split(":")[0]

    order = list(range(len(k_inputs)))
    names = [d["name"] for d in in_details]
    by_name = []
    for t in k_inputs:
        n = kname(t)
        hits = [j for j, tn in enumerate(names) if tn == n or tn.endswith(":" + n) or tn.split(":")[0].endswith(n)]
        by_name.append(hits[0] if len(hits) == 1 else None)
    if None not in by_name and len(set(by_name)) == len(by_name):
        order = by_name

    # Resize any dynamic (-1) non-batch dimension to 8 so the interpreter can allocate.
    for d in in_details:
        sig = list(d.get("shape_signature", d["shape"]))
        if any(s == -1 for s in sig):
            interp.resize_tensor_input(d["index"], [1 if s == -1 and i == 0 else (8 if s == -1 else s) for i, s in enumerate(sig)])
    interp.allocate_tensors()
    in_details = interp.get_input_details()
    out_details = interp.get_output_details()

    rng = np.random.default_rng(seed)
    worst, worst_abs = 0.0, 0.0
    for _ in range(SAMPLES):
        feeds = []
        for i, t in enumerate(k_inputs):
            d = in_details[order[i]]
            shape = [int(s) for s in d["shape"]]
            if i in vocab:
                x = rng.integers(0, vocab[i], size=shape)
            elif np.issubdtype(d["dtype"], np.integer):
                x = rng.integers(0, 10, size=shape)
            else:
                x = rng.random(size=shape)
            feeds.append(x)
        k_feed = [np.asarray(x).astype("float32") if not np.issubdtype(np.asarray(x).dtype, np.integer) else np.asarray(x).astype("int32") for x in feeds]
        y_k = model(k_feed if len(k_feed) > 1 else k_feed[0], training=False)
        if not isinstance(y_k, (list, tuple)):
            if isinstance(y_k, dict):
                y_k = list(y_k.values())
            else:
                y_k = [y_k]
        y_k = [np.asarray(y) for y in y_k]
        # UNIDIRECTIONAL_SEQUENCE_LSTM (keraslite's and TensorFlow's) keeps its states in variable
        # tensors between invokes: every input starts from zero states, as Keras does.
        interp.reset_all_variables()
        for i, x in enumerate(feeds):
            d = in_details[order[i]]
            interp.set_tensor(d["index"], np.asarray(x).astype(d["dtype"]))
        interp.invoke()
        y_t = [interp.get_tensor(d["index"]) for d in out_details]
        if len(y_t) != len(y_k):
            result["error"] = "output count differs: Keras %d, TFLite %d" % (len(y_k), len(y_t))
            print(json.dumps(result))
            return
        # Pair outputs by shape when position does not fit.
        pairs = list(zip(y_k, y_t))
        if any(a.size != b.size for a, b in pairs) and len(y_k) > 1:
            pool = list(y_t)
            pairs = []
            for a in y_k:
                j = next((j for j, b in enumerate(pool) if b.size == a.size), None)
                if j is None:
                    break
                pairs.append((a, pool.pop(j)))
        for a, b in pairs:
            if a.size != b.size:
                result["error"] = "output shape differs: Keras %s, TFLite %s" % (list(a.shape), list(b.shape))
                print(json.dumps(result))
                return
            a = a.astype("float64").reshape(-1)
            b = b.astype("float64").reshape(-1)
            if not np.all(np.isfinite(b)) and np.all(np.isfinite(a)):
                result["error"] = "LiteRT output not finite"
                print(json.dumps(result))
                return
            diff = float(np.max(np.abs(a - b))) if a.size else 0.0
            scale = max(1.0, float(np.max(np.abs(a))) if a.size else 1.0)
            worst = max(worst, diff / scale)
            worst_abs = max(worst_abs, diff)
    result["rel"] = worst
    result["max_abs"] = worst_abs
    print(json.dumps(result))


# ----------------------------------------------------------------------------------------------
# Driver.

def run(cmd, timeout):
    """Run cmd; return (status, stdout, stderr) where status is an int exit code, "signal N" or "timeout"."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), ""
    rc = p.returncode
    if rc < 0:
        rc = "signal %d" % -rc
    return rc, p.stdout, p.stderr


def is_bug(status):
    return not (isinstance(status, int) and status in (0, 1, 2))


def first_line(text, path=None):
    """The first non-empty line, without the "keraslite: <path>: " prefix."""
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            if path:
                for prefix in ("keraslite: %s: " % path, "%s: " % path):
                    if line.startswith(prefix):
                        line = line[len(prefix):]
            return line
    return ""


def md_escape(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def convert_reason(row):
    """A short reason for grouping convert failures: weights-only, a custom class keraslite cannot
    read, or the set of layer classes inspect names as blocking."""
    line = row.get("convert_error", "")
    low = line.lower()
    if "weights only" in low or "weights-only" in low:
        return "weights-only file (no model config; needs --config)"
    if "custom object" in low:
        return "custom / subclassed model class"
    b = row.get("blocking") or {}
    if b:
        return "blocked by " + " + ".join(sorted(b))
    return "other: " + line[:80]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default=os.environ.get("KERASLITE_REALWORLD", "/work/realworld-files"))
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "keraslite"))
    ap.add_argument("--manifest", default=os.path.join(HERE, "realworld_manifest.json"))
    ap.add_argument("--out", help="also write the markdown to this file")
    ap.add_argument("--only", help="only files whose name contains this")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per keraslite command")
    ap.add_argument("--keras-timeout", type=float, default=300, help="seconds per Keras/LiteRT comparison")
    ap.add_argument("--worker", nargs=4, metavar=("MODEL", "TFLITE", "KERAS_VERSION", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], int(args.worker[3]))
        return

    manifest = json.load(open(args.manifest))
    rows, bugs, absent = [], [], []
    tmp = tempfile.mkdtemp(prefix="realworld-")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for n, entry in enumerate(manifest):
        name = entry["file"]
        if args.only and args.only not in name:
            continue
        path = os.path.join(args.files, name)
        if not os.path.exists(path):
            absent.append(name)
            continue
        print("[%d/%d] %s" % (n + 1, len(manifest), name), file=sys.stderr, flush=True)
        row = {"file": name, "kind": entry.get("kind", ""), "licence": entry.get("licence", ""), "bytes": entry.get("bytes")}

        # 1. inspect + sparsity
        st, out, err = run([args.bin, "inspect", path, "--json"], args.timeout)
        row["inspect_status"] = st
        if is_bug(st):
            bugs.append((name, "inspect", st, first_line(err, path)))
        info = None
        if st == 0:
            try:
                info = json.loads(out)
            except ValueError:
                row["inspect_status"] = "bad JSON"
        else:
            row["inspect_error"] = first_line(err, path)
        if info:
            row["keras_version"] = info.get("keras_version")
            row["params"] = info.get("params")
            row["convertible"] = info.get("convertible")
            row["blocking"] = collections.Counter(b.get("class", "?") for b in info.get("not_convertible", []) or [])
            row["format"] = info.get("format")
        st, out, err = run([args.bin, "sparsity", path, "--json"], args.timeout)
        row["sparsity_status"] = st
        if is_bug(st):
            bugs.append((name, "sparsity", st, first_line(err, path)))
        if st == 0 and info:
            try:
                row["sparsity_total_ok"] = json.loads(out).get("total") == info.get("params")
            except ValueError:
                row["sparsity_total_ok"] = False

        # 2. convert
        tfl = os.path.join(tmp, "m%d.tflite" % n)
        st, out, err = run([args.bin, "convert", path, "-o", tfl], args.timeout)
        row["convert_status"] = st
        row["convert_error"] = first_line(err, path) if st != 0 else ""
        if is_bug(st):
            bugs.append((name, "convert", st, first_line(err, path)))

        # 3. Keras vs LiteRT
        if st == 0 and os.path.exists(tfl):
            kv = row.get("keras_version") or "2"
            try:
                p = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", path, tfl, kv, str(zlib.crc32(name.encode()))],
                                   capture_output=True, text=True, timeout=args.keras_timeout, env=env)
                lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
                if lines:
                    row["compare"] = json.loads(lines[-1])
                else:
                    row["compare"] = {"error": "worker failed (exit %s): %s" % (p.returncode, (p.stderr.strip().splitlines() or [""])[-1][:160])}
            except subprocess.TimeoutExpired:
                row["compare"] = {"error": "Keras/LiteRT comparison timed out"}
            try:
                os.remove(tfl)
            except OSError:
                pass
        rows.append(row)

    text = render(rows, bugs, absent, args)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def render(rows, bugs, absent, args):
    L = []
    version, digest, mtime = "?", "?", "?"
    if os.path.exists(args.bin):
        import hashlib
        digest = hashlib.sha256(open(args.bin, "rb").read()).hexdigest()[:12]
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(args.bin), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        st, out, _ = run([args.bin, "--version"], 30)
        version = out.strip() if st == 0 else "?"
    L.append("Run %s UTC with `%s` (version %s, sha256 %s…, modified %s), files from `%s`." % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), args.bin, version, digest, mtime, args.files))
    L.append("")
    L.append("| file | kind | Keras | params | inspect | convertible / blocking classes | convert | LiteRT rel. error |")
    L.append("|---|---|---|---:|---|---|---|---|")
    for r in rows:
        insp = "ok" if r.get("inspect_status") == 0 else "exit %s" % r.get("inspect_status")
        if r.get("inspect_status") == 0 and r.get("sparsity_status") != 0:
            insp += " (sparsity exit %s)" % r.get("sparsity_status")
        elif r.get("inspect_status") == 0 and r.get("sparsity_total_ok") is False:
            insp += " (sparsity total ≠ params)"
        if r.get("inspect_status") != 0:
            conv = md_escape(r.get("inspect_error", "")[:110])
        elif r.get("convertible"):
            conv = "yes"
        else:
            b = r.get("blocking") or {}
            conv = "no: " + ", ".join("%s×%d" % (k, v) if v > 1 else k for k, v in b.most_common()) if b else "no"
        cs = r.get("convert_status")
        cv = "ok" if cs == 0 else "exit %s: %s" % (cs, md_escape(r.get("convert_error", "")[:110]))
        c = r.get("compare")
        if c is None:
            err = "—"
        elif c.get("error"):
            err = md_escape(c["error"][:100])
        else:
            err = "%.1e%s" % (c["rel"], "" if c["rel"] <= EXACT else " ✗")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            md_escape(r["file"]), md_escape(r["kind"]), r.get("keras_version") or "?",
            "{:,}".format(r["params"]) if isinstance(r.get("params"), int) else "?", insp, conv, cv, err))
    L.append("")

    n = len(rows)
    read = sum(1 for r in rows if r.get("inspect_status") == 0)
    flagged = sum(1 for r in rows if r.get("convertible"))
    conv = sum(1 for r in rows if r.get("convert_status") == 0)
    compared = [r for r in rows if r.get("compare") and r["compare"].get("rel") is not None]
    exact = sum(1 for r in compared if r["compare"]["rel"] <= EXACT)
    L.append("## Summary")
    L.append("")
    L.append("- files: %d (%d manifest entries not present in the files directory)" % (n, len(absent)))
    L.append("- read (inspect exit 0): %d / %d" % (read, n))
    L.append("- marked convertible by inspect: %d / %d" % (flagged, n))
    L.append("- converted (convert exit 0): %d / %d" % (conv, n))
    L.append("- compared with Keras through LiteRT: %d; exact (≤ 1e-4·max(1,|y|)): %d; not exact: %d" % (
        len(compared), exact, len(compared) - exact))
    L.append("")

    reasons = collections.Counter()
    examples = {}
    for r in rows:
        if r.get("inspect_status") != 0:
            e = r.get("inspect_error", "")
            key = "inspect fails: " + ("custom / subclassed model class" if "custom object" in e else (e[:70] or str(r.get("inspect_status"))))
        elif r.get("convert_status") != 0:
            key = "convert fails: " + convert_reason(r)
        elif r.get("compare") and r["compare"].get("error"):
            e = r["compare"]["error"]
            key = "compare: " + (e.split(":")[0] if e.startswith("Keras cannot load") else e[:70])
        elif r.get("compare") and r["compare"].get("rel") is not None and r["compare"]["rel"] > EXACT:
            key = "converted but outputs differ (> 1e-4)"
        else:
            continue
        reasons[key] += 1
        examples.setdefault(key, r["file"])
    L.append("### Failures by reason")
    L.append("")
    L.append("| reason | files | e.g. |")
    L.append("|---|---:|---|")
    for k, v in reasons.most_common():
        L.append("| %s | %d | %s |" % (md_escape(k), v, md_escape(examples[k])))
    L.append("")

    blocking = collections.Counter()
    for r in rows:
        for k in (r.get("blocking") or {}):
            blocking[k] += 1
    L.append("### Blocking classes (files naming each)")
    L.append("")
    L.append(", ".join("%s %d" % (k, v) for k, v in blocking.most_common()) or "none")
    L.append("")
    L.append("### keraslite crashes / hangs (exit not 0/1/2, signal, timeout)")
    L.append("")
    if bugs:
        for name, what, st, line in bugs:
            L.append("- `%s` — %s: %s %s" % (name, what, st, md_escape(line)))
    else:
        L.append("none")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
