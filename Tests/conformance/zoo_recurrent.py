"""Layer-zoo cases for recurrent and text layers (Embedding, Masking, SimpleRNN, GRU, LSTM,
Bidirectional), registered into convert_support.ZOO when convert_support imports this module.

extras: "ids": V -> every input holds integer ids in [1, V) (int32 for int32 Inputs, whole floats
otherwise); "pad": True -> each sample's last steps are zero ids (what mask_zero masks)."""


def register(case, _seq, BOTH):
    def _k3(K):
        return K.__name__ == "keras"

    # --- Embedding
    @case("embedding-int32", ids=50, zip=True)
    def _(K):
        x = K.Input(shape=(7,), dtype="int32", name="ids")
        return K.Model(x, K.layers.Embedding(50, 6, name="embed")(x))

    @case("embedding-float-ids", ids=30)
    def _(K):
        return _seq(K, (5,), K.layers.Embedding(30, 4), K.layers.Flatten(), K.layers.Dense(3))

    # --- Single recurrent layers on [N, 8, 3]
    seq = (8, 3)
    variants = [
        ("last", {}), ("sequences", dict(return_sequences=True)), ("backwards", dict(go_backwards=True)),
        ("backwards-sequences", dict(go_backwards=True, return_sequences=True)), ("unroll", dict(unroll=True)),
        ("nobias", dict(use_bias=False)), ("relu", dict(activation="relu")),
        ("dropout", dict(dropout=0.3, recurrent_dropout=0.2)),
    ]
    for cls in ("SimpleRNN", "GRU", "LSTM"):
        for suffix, options in variants:
            name = f"{cls.lower()}-{suffix}"
            case(name, zip=suffix == "last")(
                lambda K, cls=cls, options=options: _seq(K, seq, getattr(K.layers, cls)(5, **options)))
        if cls != "SimpleRNN":
            case(f"{cls.lower()}-hard-sigmoid")(
                lambda K, cls=cls: _seq(K, seq, getattr(K.layers, cls)(4, recurrent_activation="hard_sigmoid")))

        @case(f"{cls.lower()}-return-state", zip=True)
        def _(K, cls=cls):
            x = K.Input(shape=seq, name="x")
            outputs = getattr(K.layers, cls)(4, return_sequences=True, return_state=True, name="rnn")(x)
            # One named layer per output (a layer's several outputs share its name in Keras' output list).
            return K.Model(x, [K.layers.Activation("linear", name=f"out{i}")(o) for i, o in enumerate(outputs)])

    case("gru-reset-before")(lambda K: _seq(K, seq, K.layers.GRU(5, reset_after=False)))
    case("gru-reset-before-sequences")(lambda K: _seq(K, seq, K.layers.GRU(5, reset_after=False, return_sequences=True)))

    # --- Bidirectional
    for merge in ("concat", "sum", "ave", "mul"):
        case(f"bidirectional-lstm-{merge}", zip=merge == "concat")(
            lambda K, merge=merge: _seq(K, seq, K.layers.Bidirectional(K.layers.LSTM(4), merge_mode=merge)))
    case("bidirectional-gru-sequences", zip=True)(
        lambda K: _seq(K, seq, K.layers.Bidirectional(K.layers.GRU(4, return_sequences=True))))
    case("bidirectional-simplernn-sequences-sum")(
        lambda K: _seq(K, seq, K.layers.Bidirectional(K.layers.SimpleRNN(3, return_sequences=True), merge_mode="sum")))

    @case("bidirectional-return-state")
    def _(K):
        x = K.Input(shape=seq, name="x")
        outputs = K.layers.Bidirectional(K.layers.LSTM(3, return_state=True), name="bi")(x)
        return K.Model(x, [K.layers.Activation("linear", name=f"out{i}")(o) for i, o in enumerate(outputs)])

    # --- Masks: Embedding(mask_zero) and Masking into each recurrent layer
    for cls in ("SimpleRNN", "GRU", "LSTM"):
        case(f"masked-embedding-{cls.lower()}", ids=20, pad=True, zip=cls == "LSTM")(
            lambda K, cls=cls: _seq(K, (9,), K.layers.Embedding(20, 4, mask_zero=True), getattr(K.layers, cls)(5)))
        case(f"masked-embedding-{cls.lower()}-sequences", ids=20, pad=True)(
            lambda K, cls=cls: _seq(K, (9,), K.layers.Embedding(20, 4, mask_zero=True),
                                    getattr(K.layers, cls)(5, return_sequences=True)))
        case(f"masking-{cls.lower()}", pad=True)(
            lambda K, cls=cls: _seq(K, seq, K.layers.Masking(0.0), getattr(K.layers, cls)(4, go_backwards=True)))
    case("masked-bidirectional-lstm-sequences", ids=20, pad=True)(
        lambda K: _seq(K, (9,), K.layers.Embedding(20, 4, mask_zero=True),
                       K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True)), K.layers.LSTM(2)))
    case("masked-bidirectional-gru", ids=20, pad=True)(
        lambda K: _seq(K, (9,), K.layers.Embedding(20, 4, mask_zero=True), K.layers.Bidirectional(K.layers.GRU(3))))

    # --- Real-model shapes
    case("stock-lstm-stack", zip=True)(lambda K: _seq(
        K, (60, 1), K.layers.LSTM(16, return_sequences=True), K.layers.Dropout(0.2), K.layers.LSTM(16),
        K.layers.Dropout(0.2), K.layers.Dense(1)))
    case("text-bilstm", ids=100, zip=True)(lambda K: _seq(
        K, (20,), K.layers.Embedding(100, 8), K.layers.Bidirectional(K.layers.LSTM(6, return_sequences=True)),
        K.layers.GlobalMaxPooling1D(), K.layers.Dense(3, activation="softmax")))
    case("masked-lstm-padded-ids", ids=40, pad=True)(lambda K: _seq(
        K, (12,), K.layers.Embedding(40, 6, mask_zero=True), K.layers.LSTM(8), K.layers.Dense(2, activation="softmax")))
    case("gru-classifier", ids=60)(lambda K: _seq(
        K, (15,), K.layers.Embedding(60, 8), K.layers.GRU(10, return_sequences=True), K.layers.GRU(6),
        K.layers.Dense(4, activation="softmax")))
    case("cnn-lstm-video", zip=True)(lambda K: _seq(
        K, (6, 12, 12, 1), K.layers.TimeDistributed(K.layers.Conv2D(4, 3, activation="relu")),
        K.layers.TimeDistributed(K.layers.MaxPooling2D()), K.layers.TimeDistributed(K.layers.Flatten()),
        K.layers.LSTM(8), K.layers.Dense(3, activation="softmax")))
    case("cnn-lstm-series")(lambda K: _seq(
        K, (24, 2), K.layers.Conv1D(8, 3, activation="relu"), K.layers.MaxPooling1D(2), K.layers.GRU(6, return_sequences=True),
        K.layers.LSTM(5), K.layers.Dense(1)))
    case("masked-gru", ids=50, pad=True)(lambda K: _seq(
        K, (12,), K.layers.Embedding(50, 4, mask_zero=True), K.layers.GRU(5), K.layers.Dense(2, activation="softmax")))

    # --- Gate weights of ≥ 1024 values: --quantize dynamic makes these LSTMs hybrid
    case("lstm-wide-stack", zip=True)(lambda K: _seq(
        K, (10, 32), K.layers.LSTM(32, return_sequences=True), K.layers.LSTM(32, go_backwards=True), K.layers.Dense(2)))
    case("bidirectional-lstm-wide")(lambda K: _seq(
        K, (10, 32), K.layers.Bidirectional(K.layers.LSTM(32, return_sequences=True), merge_mode="sum"),
        K.layers.GlobalAveragePooling1D(), K.layers.Dense(3)))

    @case("nested-lstm-in-functional")
    def _(K):
        inner = K.Sequential([K.Input(shape=(5, 3)), K.layers.LSTM(4), K.layers.Dense(4)], name="encoder")
        a, b = K.Input(shape=(5, 3), name="a"), K.Input(shape=(4,), name="b")
        joined = K.layers.Concatenate()([inner(a), K.layers.Dense(4, name="b_dense")(b)])
        return K.Model([a, b], K.layers.Dense(1, name="score")(joined))
