"""Layer-zoo cases for ConvLSTM2D (one conv_lstm2d op, unrolled into CONV_2D steps), registered into
convert_support.ZOO when convert_support imports this module: the layer's options one at a time, and
the shapes of real video models — a ConvLSTM2D classifier (ConvLSTM2D → GlobalAveragePooling2D → Dense),
an activity recognizer (ConvLSTM2D → MaxPooling3D → TimeDistributed(Dropout) → Flatten → Dense) and a
next-frame predictor (ConvLSTM2D / BatchNormalization stacks returning sequences, then Conv3D).

Also the models that leave a length unknown (Input(shape=(None, 4)) → LSTM, a ConvLSTM2D over an unknown
number of frames): extras "input_shapes" {input name: sizes after the batch} sizes the test
inputs and becomes `convert --input-shape NAME=D1,D2,…`."""

VIDEO = (4, 9, 8, 2)  # T, H, W, C: distinct sizes, so a swapped axis cannot pass


def register(case, _seq, BOTH):
    # --- Single ConvLSTM2D layers on [N, 4, 9, 8, 2]
    variants = [
        ("same", dict(padding="same")), ("valid", dict()),
        ("sequences", dict(padding="same", return_sequences=True)),
        ("kernel32-valid-sequences", dict(kernel_size=(3, 2), return_sequences=True)),
        ("dilation2-same", dict(padding="same", dilation_rate=2)),
        ("backwards", dict(padding="same", go_backwards=True)),
        ("backwards-sequences", dict(go_backwards=True, return_sequences=True)),
        ("stride2-same", dict(padding="same", strides=2)),
        ("hard-sigmoid", dict(padding="same", recurrent_activation="hard_sigmoid")),
        ("relu-nobias", dict(activation="relu", use_bias=False)),
        ("dropout", dict(padding="same", dropout=0.3, recurrent_dropout=0.2)),
        ("kernel1", dict(kernel_size=1)),
    ]
    for suffix, options in variants:
        case(f"convlstm2d-{suffix}", zip=suffix in ("same", "sequences"))(
            lambda K, options=options: _seq(K, VIDEO, K.layers.ConvLSTM2D(3, **{"kernel_size": 3, **options})))

    @case("convlstm2d-return-state", zip=True)
    def _(K):
        x = K.Input(shape=VIDEO, name="frames")
        outputs = K.layers.ConvLSTM2D(3, 3, padding="same", return_state=True, name="convlstm")(x)
        # One named layer per output (a layer's several outputs share its name in Keras' output list).
        return K.Model(x, [K.layers.Activation("linear", name=f"out{i}")(o) for i, o in enumerate(outputs)])

    # --- Real-model shapes
    case("convlstm2d-video", zip=True)(lambda K: _seq(
        K, (4, 8, 8, 1), K.layers.ConvLSTM2D(3, 3, padding="same"), K.layers.GlobalAveragePooling2D(), K.layers.Dense(2)))
    case("convlstm2d-activity", zip=True)(lambda K: _seq(
        K, (4, 12, 12, 3), K.layers.ConvLSTM2D(4, 3, activation="tanh", recurrent_dropout=0.2, return_sequences=True),
        K.layers.MaxPooling3D((1, 2, 2), padding="same"), K.layers.TimeDistributed(K.layers.Dropout(0.2)),
        K.layers.ConvLSTM2D(6, 3, return_sequences=True), K.layers.MaxPooling3D((1, 2, 2), padding="same"),
        K.layers.Flatten(), K.layers.Dense(3, activation="softmax")))
    case("convlstm2d-next-frame", zip=True)(lambda K: _seq(
        K, (5, 10, 10, 1), K.layers.ConvLSTM2D(8, 5, padding="same", return_sequences=True, activation="relu"),
        K.layers.BatchNormalization(), K.layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True, activation="relu"),
        K.layers.BatchNormalization(), K.layers.ConvLSTM2D(8, 1, padding="same", return_sequences=True, activation="relu"),
        K.layers.Conv3D(1, 3, activation="sigmoid", padding="same")))

    # --- Unknown lengths, fixed by `convert --input-shape`
    @case("lstm-unknown-length-input-shape", input_shapes={"x": [6, 4]}, zip=True)
    def _(K):
        x = K.Input(shape=(None, 4), name="x")
        return K.Model(x, K.layers.Dense(2, name="out")(K.layers.LSTM(5, name="lstm")(x)))

    @case("convlstm2d-unknown-steps-input-shape", input_shapes={"frames": [3, 7, 6, 2]})
    def _(K):
        x = K.Input(shape=(None, 7, 6, 2), name="frames")  # Keras 3's ConvLSTM wants static frame sizes
        y = K.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True, name="convlstm")(x)
        return K.Model(x, K.layers.Conv3D(2, 3, padding="same", name="head")(y))
