"""`keraslite inspect --html`: the page renders in headless Chromium (the Debian package, installed
by `make deps-test`) and the rendered DOM holds what `inspect --json` reports — one table row per
layer or operator, one graph box per op plus the graph's inputs and outputs, one size bar per
layer with weights — and nothing from the network. `keraslite diff --html`: the rendered page has
one structure row per aligned op classed as `diff --json` counts them, one row per paired weight,
both graphs with their boxes and highlights."""
import html.parser
import json
import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import SAMPLES, keraslite, keraslite_json

SECTIONS = ("summary", "optypes", "sizes", "sparsity", "ops", "graph")


@pytest.fixture(scope="session")
def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed; run `make deps-test` (apt package chromium)")


def run_chromium(binary, tmp_path, *args):
    """Headless Chromium on a file; returns stdout. A private profile keeps parallel runs apart."""
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{' '.join(command)} failed: {result.stderr[-2000:]}"
    return result.stdout


class DOM(html.parser.HTMLParser):
    """Counts elements by tag and class, collects section ids and every URL-bearing attribute."""

    def __init__(self):
        super().__init__()
        self.elements = []  # (tag, set of classes, attributes)
        self.html_classes = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        self.elements.append((tag, classes, attributes))
        if tag == "html":
            self.html_classes = classes

    handle_startendtag = handle_starttag

    def count(self, tag, cls):
        return sum(1 for t, classes, _ in self.elements if t == tag and cls in classes)

    def section_ids(self):
        return [attributes.get("id") for tag, _, attributes in self.elements if tag == "section"]

    def urls(self):
        return [value for _, _, attributes in self.elements for key, value in attributes.items()
                if key in ("src", "href", "xlink:href", "action", "poster", "data") and value]


def rendered(chromium, page, tmp_path):
    dom = DOM()
    dom.feed(run_chromium(chromium, tmp_path, "--dump-dom", page.resolve().as_uri()))
    return dom


def png_pixels(path):
    """(width, height, decompressed scanlines) of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    return width, height, zlib.decompress(idat)


def layers_flat(layers):
    for layer in layers:
        yield layer
        yield from layers_flat(layer.get("layers", []))


def rendered_self_contained(chromium, tmp_path, page, sections):
    """Renders `page` and checks what every keraslite page promises: no network references (in
    the file and in the rendered DOM), its script ran to the end, and `sections` are present."""
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text, "the page references the network"
    dom = rendered(chromium, page, tmp_path)
    assert "js" in dom.html_classes, "the page script did not run to its end"
    ids = dom.section_ids()
    for section in sections:
        assert section in ids, f"section #{section} missing: {ids}"
    assert dom.urls() == [u for u in dom.urls() if u.startswith("#")], f"external references: {dom.urls()}"
    return dom


def check_page(chromium, tmp_path, page, rows, nodes, bars):
    dom = rendered_self_contained(chromium, tmp_path, page, SECTIONS)
    assert dom.count("table", "ops") == 1
    assert dom.count("tr", "op") == rows
    assert dom.count("svg", "graph") == 1
    assert dom.count("g", "node") == nodes
    assert dom.count("path", "edge") >= nodes - 1 - (nodes // 10), "the graph is barely connected"
    assert dom.count("div", "bar") == bars
    assert dom.count("div", "hist-bin") == 11

    shot = tmp_path / (page.stem + ".png")
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1400,3000", page.resolve().as_uri())
    assert shot.stat().st_size > 30_000, f"screenshot only {shot.stat().st_size} bytes"
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1400, 3000)
    assert len(set(pixels[::7])) > 32, "the screenshot is (nearly) one colour"
    return dom


@pytest.mark.parametrize("sample", ["small_resnet_k3.keras", "multi_io_k2.h5"])
def test_keras_page_renders(chromium, tmp_path, sample):
    path = SAMPLES / sample
    page = tmp_path / "report.html"
    result = keraslite("inspect", path, "--html", page)
    assert result.stdout.startswith(str(path)), "the text report still goes to stdout"
    report = keraslite_json("inspect", path)
    layers = list(layers_flat(report["layers"]))
    with_weights = [layer for layer in layers if "layers" not in layer and layer["weight_bytes"] > 0]
    check_page(chromium, tmp_path, page, rows=len(layers),
               nodes=report["ops"] + len(report["inputs"]) + len(report["outputs"]), bars=len(with_weights))


def test_tflite_page_renders(chromium, tmp_path):
    model = tmp_path / "mobilenet.tflite"
    keraslite("convert", SAMPLES / "seed_mobilenetv2_k3.h5", "-o", model, "--quiet")
    page = tmp_path / "mobilenet.html"
    keraslite("inspect", model, "--json", "--html", page)
    report = keraslite_json("inspect", model)
    operators, tensors = report["operators"], report["tensors"]
    reading_constants = [op for op in operators if sum(tensors[i]["bytes"] for i in set(op["inputs"]) if i >= 0) > 0]
    dom = check_page(chromium, tmp_path, page, rows=len(operators),
                     nodes=len(operators) + len(report["inputs"]) + len(report["outputs"]), bars=len(reading_constants))

    # One arrow per distinct producer → consumer pair of a non-constant tensor.
    producer = {}
    for op in operators:
        for index in op["outputs"]:
            producer.setdefault(index, ("op", op["index"]))
    for index in report["inputs"]:
        producer[index] = ("input", index)
    links = set()
    for op in operators:
        for index in op["inputs"]:
            if index >= 0 and tensors[index]["bytes"] == 0 and index in producer:
                links.add((producer[index], ("op", op["index"])))
    for index in report["outputs"]:
        links.add((producer[index], ("output", index)))
    assert dom.count("path", "edge") == len(links)


def test_html_refuses_to_overwrite_the_input(tmp_path):
    model = tmp_path / "model.h5"
    shutil.copyfile(SAMPLES / "digits_cnn_k3.h5", model)
    before = model.read_bytes()
    result = keraslite("inspect", model, "--html", model, check=False)
    assert result.returncode == 64
    assert "--html" in result.stderr
    assert model.read_bytes() == before


# `keraslite diff A B --html page.html`: both models side by side, changes highlighted.

DIFF_SECTIONS = ("summary", "structure", "weights", "sizes", "sparsity", "optypes", "graph")
KINDS = ("same", "changed", "added", "removed")


def diff_with_page(tmp_path, a, b, name="diff.html"):
    """Runs `diff --html`; returns (page, `diff --json` report). The text report and the exit
    status are what `diff` gives without --html."""
    page = tmp_path / name
    result = keraslite("diff", a, b, "--html", page, check=False)
    assert result.returncode in (0, 1), result.stderr
    plain = keraslite("diff", a, b, check=False)
    assert (result.returncode, result.stdout) == (plain.returncode, plain.stdout), "--html changes nothing else"
    report = json.loads(keraslite("diff", a, b, "--json", check=False).stdout)
    assert report["equal"] == (result.returncode == 0)
    return page, report


def graph_nodes(dom):
    """Per side ('a', 'b'): the class sets of the graph's boxes, from the rendered DOM."""
    nodes, side = {"a": [], "b": []}, None
    for tag, classes, _ in dom.elements:
        if tag == "div" and "graph-a" in classes:
            side = "a"
        elif tag == "div" and "graph-b" in classes:
            side = "b"
        elif tag == "g" and "node" in classes and side:
            nodes[side].append(classes)
    return nodes


def check_diff_page(chromium, tmp_path, page, report, pills):
    """The rendered page holds what `diff --json` reports; `pills` is (inputs, outputs) per side."""
    dom = rendered_self_contained(chromium, tmp_path, page, DIFF_SECTIONS)
    verdict = "equal" if report["equal"] else "different"
    assert dom.count("p", "verdict") == 1 and dom.count("p", verdict) == 1

    # Structure: one row per aligned op, in order, classed by its kind; counts as in the JSON.
    rows = [classes for tag, classes, _ in dom.elements if tag == "tr" and "op" in classes]
    assert [[k for k in KINDS if k in classes] for classes in rows] == [[row["kind"]] for row in report["rows"]]
    structure = report["structure"]
    for kind in ("added", "removed", "changed"):
        assert sum(kind in classes for classes in rows) == len(structure[kind]), kind
    assert sum("same" in classes for classes in rows) == structure["same"]

    # Weights: one row per pair, highlighted when not equal; unmatched ones by side.
    weights = [classes for tag, classes, _ in dom.elements if tag == "tr" and "weight" in classes]
    assert len(weights) == len(report["weights"])
    assert ["changed" in classes for classes in weights] == [not w["equal"] for w in report["weights"]]
    unmatched = [classes for tag, classes, _ in dom.elements if tag == "tr" and "unmatched" in classes]
    assert sum("removed" in c for c in unmatched) == len(report["unmatched_weights"]["a"])
    assert sum("added" in c for c in unmatched) == len(report["unmatched_weights"]["b"])

    # Graphs: one box per op on each side plus the input/output pills; the alignment's highlights.
    assert dom.count("svg", "graph") == 2
    nodes = graph_nodes(dom)
    for side, (inputs, outputs) in zip("ab", pills):
        assert sum("io" not in c for c in nodes[side]) == report[side]["ops"], side
        assert sum("input" in c for c in nodes[side]) == inputs and sum("output" in c for c in nodes[side]) == outputs
    assert sum("removed" in c for c in nodes["a"]) == len(structure["removed"])
    assert sum("added" in c for c in nodes["b"]) == len(structure["added"])
    assert sum("changed" in c for c in nodes["a"]) == sum("changed" in c for c in nodes["b"]) == len(structure["changed"])
    assert dom.count("path", "edge") >= len(nodes["a"]) + len(nodes["b"]) - 2 - (len(nodes["a"]) + len(nodes["b"])) // 10

    # Sizes and sparsity: two charts with the same rows, two histograms.
    assert dom.count("div", "bars") == 2 and dom.count("div", "bar") % 2 == 0
    assert dom.count("div", "hist-bin") == 22

    shot = tmp_path / (page.stem + ".png")
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1400,3000", page.resolve().as_uri())
    assert shot.stat().st_size > 30_000, f"screenshot only {shot.stat().st_size} bytes"
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1400, 3000)
    assert len(set(pixels[::7])) > 32, "the screenshot is (nearly) one colour"
    return dom, rows


def io_pills(*paths):
    """(inputs, outputs) of each model, from `inspect --json`."""
    pills = []
    for path in paths:
        report = keraslite_json("inspect", path)
        pills.append((len(report["inputs"]), len(report["outputs"])))
    return pills


@pytest.mark.parametrize("sample", ["small_resnet_k3.keras", "multi_io_k2.h5"])
def test_diff_page_of_a_keras_file_and_its_tflite_is_all_same(chromium, tmp_path, sample):
    path = SAMPLES / sample
    target = tmp_path / "model.tflite"
    keraslite("convert", path, "-o", target, "--quiet")
    page, report = diff_with_page(tmp_path, path, target)
    assert report["equal"]
    dom, rows = check_diff_page(chromium, tmp_path, page, report, io_pills(path, target))
    assert rows and all("same" in classes for classes in rows)
    nodes = graph_nodes(dom)
    assert not any(c & {"changed", "added", "removed", "wdiff"} for c in nodes["a"] + nodes["b"])


def test_diff_page_of_tensorflows_float_and_dynamic_range_files(chromium, tmp_path, tflite_files):
    float_file = next(p for p in tflite_files if p.name == "tf_float.tflite")
    dynamic_file = next(p for p in tflite_files if p.name == "tf_dynamic.tflite")
    page, report = diff_with_page(tmp_path, float_file, dynamic_file)
    assert report["structure"]["changed"] and not report["equal"]
    dom, rows = check_diff_page(chromium, tmp_path, page, report, io_pills(float_file, dynamic_file))
    assert sum("changed" in classes for classes in rows) == len(report["structure"]["changed"])
    text = page.read_text(encoding="utf-8")
    assert "float32 → int8" in text


@pytest.mark.parametrize("a, b", [("digits_cnn_k2.h5", "digits_cnn_k3.h5"), ("digits_mlp_k2.h5", "digits_cnn_k3.h5")])
def test_diff_page_of_two_keras_files(chromium, tmp_path, a, b):
    page, report = diff_with_page(tmp_path, SAMPLES / a, SAMPLES / b)
    assert not report["equal"]
    check_diff_page(chromium, tmp_path, page, report, io_pills(SAMPLES / a, SAMPLES / b))


def test_diff_html_refuses_to_overwrite_an_input(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    shutil.copyfile(SAMPLES / "digits_cnn_k2.h5", a)
    shutil.copyfile(SAMPLES / "digits_cnn_k3.h5", b)
    before = b.read_bytes()
    for target in (a, b, tmp_path / "." / "b.h5"):
        result = keraslite("diff", a, b, "--html", target, check=False)
        assert result.returncode == 64, result.stderr
        assert "--html" in result.stderr
    assert b.read_bytes() == before
    result = keraslite("diff", a, tmp_path / "missing.h5", "--html", tmp_path / "page.html", check=False)
    assert result.returncode == 2 and not (tmp_path / "page.html").exists(), "no page when the diff fails"
