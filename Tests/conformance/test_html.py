"""`keraslite inspect --html`: the page renders in headless Chromium (the Debian package, installed
by `make deps-test`) and the rendered DOM holds what `inspect --json` reports — one table row per
layer or operator, one graph box per op plus the graph's inputs and outputs, one size bar per
layer with weights — and nothing from the network."""
import html.parser
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


def check_page(chromium, tmp_path, page, rows, nodes, bars):
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text, "the page references the network"
    dom = rendered(chromium, page, tmp_path)
    assert "js" in dom.html_classes, "the page script did not run to its end"
    ids = dom.section_ids()
    for section in SECTIONS:
        assert section in ids, f"section #{section} missing: {ids}"
    assert dom.urls() == [u for u in dom.urls() if u.startswith("#")], f"external references: {dom.urls()}"
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
