"""Models keraslite reads but cannot (yet) lower: TimeDistributed, 3-D, ConvLSTM1D, attention, Lambda and
custom layers, built by real Keras 2 (tf_keras) and Keras 3 in builder subprocesses and cached like
the layer zoo (`python reading_support.py build-reading --keras 3 --out DIR`).

Each case records, per top-level layer, Keras' own class name and count_params(), and which
classes keraslite is expected to list as not convertible."""
import argparse
import hashlib
import json
import pathlib
import sys
import time
import zlib

import numpy as np

import convert_support as cs

READING = []  # (name, build(K) -> model, versions, blocked classes, extras)


def reading_case(name, blocked, versions=cs.BOTH, **extras):
    def register(build):
        READING.append((name, build, tuple(versions), tuple(blocked), extras))
        return build
    return register


def _k3(K):
    return K.__name__ == "keras"


# The stacked stock LSTM, the text BiLSTM over Embedding and the masked GRU convert now: they are
# layer-zoo cases (zoo_recurrent.py), as is the nested LSTM.


def _(K):
    return K.Sequential([K.Input(shape=(8, 3)), K.layers.SimpleRNN(4, return_sequences=True),
                         K.layers.TimeDistributed(K.layers.Dense(2))])


# ConvLSTM2D converts now (zoo_convlstm.py: convlstm2d-video and the other ConvLSTM2D cases); its 1-D
# sibling does not.
@reading_case("convlstm1d-sequence", ["ConvLSTM1D"])
def _(K):
    return K.Sequential([K.Input(shape=(4, 10, 2)), K.layers.ConvLSTM1D(3, 3, padding="same"),
                         K.layers.GlobalAveragePooling1D(), K.layers.Dense(2)])


@reading_case("attention-functional", ["MultiHeadAttention"], zip=True)
def _(K):
    # Attention over two axes of a rank-4 input (attention_axes default (1, 2)): keraslite lowers
    # MultiHeadAttention on sequences only.
    x = K.Input(shape=(2, 6, 8), name="tokens")
    attended = K.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x)
    pooled = K.layers.GlobalAveragePooling2D()(K.layers.Add()([x, attended]))
    return K.Model(x, K.layers.Dense(2, name="out")(pooled))


@reading_case("causal-attention", ["MultiHeadAttention"], versions=("3",), zip=True)
def _(K):
    # A call-time option keraslite does not lower is a blocker, not a silently different result.
    x = K.Input(shape=(6, 8), name="tokens")
    attended = K.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x, use_causal_mask=True)
    return K.Model(x, K.layers.Dense(2, name="out")(K.layers.GlobalAveragePooling1D()(attended)))


@reading_case("subclassed-model", ["Scorer"], versions=("3",), zip=True)
def _(K):
    # A subclassed model records no layer graph; keraslite lists its stored weights per layer.
    @K.saving.register_keras_serializable(package="keraslite_test")
    class Scorer(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = K.layers.Dense(8, activation="relu", name="hidden")
            self.out = K.layers.Dense(2, name="out")

        def call(self, x):
            return self.out(self.hidden(x))

    model = Scorer(name="scorer")
    model(np.zeros((1, 5), "float32"))
    return model


@reading_case("lambda-then-dense", ["Lambda"])
def _(K):
    return K.Sequential([K.Input(shape=(4,)), K.layers.Dense(3), K.layers.Lambda(lambda t: t * 2.0),
                         K.layers.Dense(2)])


def reading_cases(version):
    return [name for name, _, versions, _, _ in READING if version in versions]


def reading_case_info(name):
    return next((blocked, extras) for n, _, _, blocked, extras in READING if n == name)


def reading_cache_key():
    here = pathlib.Path(__file__)
    return cs.cache_key(hashlib.sha256(here.read_bytes()).hexdigest())


class ReadingCache(cs.ModelCache):
    script = "reading_support.py"


def build_reading(version, out, only=None):
    """Builds each case into out/<case>/model.h5 (+ model.keras on Keras 3 where asked) with
    meta.json: per top-level layer name, Keras class and count_params, and the model's total."""
    K = cs._import_keras(version)
    out = pathlib.Path(out)
    for name, build, versions, blocked, extras in READING:
        if version not in versions or (only and name not in only):
            continue
        case_dir = out / name
        case_dir.mkdir(parents=True, exist_ok=True)
        try:
            K.backend.clear_session()
            K.utils.set_random_seed(zlib.crc32(name.encode()) % (2 ** 31))
            model = build(K)
            files = ["model.h5"]
            model.save(str(case_dir / "model.h5"))
            if extras.get("zip") and version == "3":
                model.save(str(case_dir / "model.keras"))
                files.append("model.keras")
            layers = [{"name": layer.name, "class": type(layer).__name__, "params": int(layer.count_params())}
                      for layer in model.layers]
            meta = {"name": name, "keras": version, "keras_version": K.__version__, "files": files,
                    "params": int(model.count_params()), "layers": layers, "blocked": list(blocked)}
            (case_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        except Exception:  # noqa: BLE001 - recorded per case, reported by the test
            import traceback

            (case_dir / "error.txt").write_text(traceback.format_exc())
            print(f"FAILED {name}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["build-reading"])
    parser.add_argument("--keras", choices=["2", "3"], required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    build_reading(args.keras, args.out, only=args.only)


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    main()
