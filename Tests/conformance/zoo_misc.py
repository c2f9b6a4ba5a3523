"""Layer-zoo cases for TimeDistributed, the resizing/cropping layers, UpSampling1D, Dot and the
attention layers (Attention, AdditiveAttention, MultiHeadAttention). convert_support.py calls
`register(case, register_simple)` once, so these cases are part of its ZOO like the others."""

IMG = (12, 12, 3)
SEQ = (10, 4)
VIDEO = (3, 8, 8, 3)
BOTH = ("2", "3")


def register(case, register_simple):
    # --- UpSampling1D, Resizing, CenterCrop, Cropping1D (GlobalMaxPooling1D, Permute and
    # Cropping2D have their cases in convert_support.py)
    register_simple("upsampling1d-2", SEQ, lambda K: [K.layers.UpSampling1D()])
    register_simple("upsampling1d-3", SEQ, lambda K: [K.layers.Conv1D(3, 3), K.layers.UpSampling1D(3)], zip=True)
    for interpolation in ("bilinear", "nearest"):
        for label, size in (("up", (20, 17)), ("down", (7, 5)), ("same", (12, 12))):
            register_simple(f"resizing-{interpolation}-{label}", IMG,
                            lambda K, i=interpolation, s=size: [K.layers.Resizing(*s, interpolation=i)],
                            zip=(interpolation, label) == ("bilinear", "up"))
    register_simple("centercrop-8x6", IMG, lambda K: [K.layers.CenterCrop(8, 6)], zip=True)
    register_simple("centercrop-odd-7x11", IMG, lambda K: [K.layers.CenterCrop(7, 11)])
    register_simple("cropping1d-asymmetric", SEQ, lambda K: [K.layers.Cropping1D((1, 3))])
    register_simple("cropping1d-symmetric", SEQ, lambda K: [K.layers.Cropping1D(2)])

    # --- Dot
    def two_inputs(K, a_shape, b_shape):
        return K.Input(shape=a_shape, name="a"), K.Input(shape=b_shape, name="b")

    for label, a_shape, b_shape, axes, normalize in [
            ("vectors", (6,), (6,), 1, False), ("vectors-normalize", (6,), (6,), 1, True),
            ("sequences-22", (5, 4), (7, 4), 2, False), ("sequences-11", (5, 4), (5, 3), 1, False),
            ("sequences-12", (4, 5), (6, 4), (1, 2), False), ("sequences-normalize", (5, 4), (7, 4), (2, 2), True),
            ("sequence-vector", (5, 4), (4,), (2, 1), False), ("vector-sequence", (4,), (4, 6), (1, 1), False),
            ("negative-axes", (5, 4), (7, 4), -1, False)]:
        @case(f"dot-{label}", zip=label == "sequences-22")
        def _(K, a_shape=a_shape, b_shape=b_shape, axes=axes, normalize=normalize):
            a, b = two_inputs(K, a_shape, b_shape)
            return K.Model([a, b], K.layers.Dot(axes=axes, normalize=normalize)([a, b]))

    # --- Attention (Luong), AdditiveAttention (Bahdanau)
    for label, kwargs, with_key in [("dot", {}, False), ("dot-scale-key", dict(use_scale=True), True),
                                    ("concat", dict(score_mode="concat"), False),
                                    ("concat-scale-key", dict(score_mode="concat", use_scale=True), True)]:
        # Keras 3 cannot load an Attention(score_mode="dot") back from .h5 (the string is
        # deserialized as keras.ops.dot), so its Keras 3 cases are .keras only.
        @case(f"attention-{label}", zip=True, k3_keras_only="dot" in label)
        def _(K, kwargs=kwargs, with_key=with_key):
            q, v = K.Input(shape=(5, 4), name="query"), K.Input(shape=(7, 4), name="value")
            inputs = [q, v] + ([K.Input(shape=(7, 4), name="key")] if with_key else [])
            return K.Model(inputs, K.layers.Attention(**kwargs)(inputs))

    for label, kwargs in [("scale", {}), ("noscale", dict(use_scale=False))]:
        @case(f"additive-attention-{label}", zip=label == "scale")
        def _(K, kwargs=kwargs):
            # tf.keras sizes the scale by the value's features, Keras 3 by the query's: equal here.
            q, v, k = K.Input(shape=(5, 4), name="query"), K.Input(shape=(7, 4), name="value"), K.Input(shape=(7, 4), name="key")
            return K.Model([q, v, k], K.layers.AdditiveAttention(**kwargs)([q, v, k]))

    @case("attention-seq2seq-head", zip=True, k3_keras_only=True)
    def _(K):
        # Encoder/decoder features joined by Luong attention, then a Dense head.
        q, v = K.Input(shape=(5, 6), name="decoder"), K.Input(shape=(8, 6), name="encoder")
        context = K.layers.Attention()([K.layers.Dense(6)(q), v])
        return K.Model([q, v], K.layers.Dense(3, activation="softmax")(K.layers.Concatenate()([q, context])))

    # --- MultiHeadAttention
    @case("mha-self", zip=True)
    def _(K):
        x = K.Input(shape=(6, 8), name="tokens")
        return K.Model(x, K.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x))

    @case("mha-cross-key-value-dim", zip=True)
    def _(K):
        q, v, k = K.Input(shape=(5, 8), name="query"), K.Input(shape=(7, 6), name="value"), K.Input(shape=(7, 3), name="key")
        return K.Model([q, v, k], K.layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5)(q, v, k))

    @case("mha-nobias")
    def _(K):
        q, v = K.Input(shape=(4, 6), name="query"), K.Input(shape=(9, 6), name="value")
        return K.Model([q, v], K.layers.MultiHeadAttention(num_heads=1, key_dim=6, use_bias=False)(q, v))

    @case("mha-transformer-block", zip=True)
    def _(K):
        x = K.Input(shape=(6, 8), name="tokens")
        attended = K.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x)
        h = K.layers.LayerNormalization()(K.layers.Add()([x, attended]))
        h = K.layers.Add()([h, K.layers.Dense(8)(K.layers.Dense(16, activation="relu")(h))])
        return K.Model(x, K.layers.Dense(2)(K.layers.GlobalAveragePooling1D()(h)))

    # --- TimeDistributed
    register_simple("timedistributed-dense", SEQ, lambda K: [K.layers.TimeDistributed(K.layers.Dense(3, activation="relu"))],
                    zip=True)
    register_simple("timedistributed-conv2d-video", VIDEO, lambda K: [
        K.layers.TimeDistributed(K.layers.Conv2D(4, 3, activation="relu")),
        K.layers.TimeDistributed(K.layers.BatchNormalization()),
        K.layers.TimeDistributed(K.layers.MaxPooling2D()),
        K.layers.TimeDistributed(K.layers.Flatten()),
        K.layers.TimeDistributed(K.layers.Dense(5)),
        K.layers.GlobalAveragePooling1D(), K.layers.Dense(2)], zip=True)
    register_simple("timedistributed-gap-dropout", VIDEO, lambda K: [
        K.layers.TimeDistributed(K.layers.DepthwiseConv2D(3, padding="same")),
        K.layers.TimeDistributed(K.layers.GlobalAveragePooling2D()),
        K.layers.TimeDistributed(K.layers.Dropout(0.5))])
    register_simple("cnn-then-timedistributed", IMG, lambda K: [
        K.layers.Conv2D(4, 3, strides=2), K.layers.Reshape((5, 20)),
        K.layers.TimeDistributed(K.layers.Dense(6, activation="tanh")),
        K.layers.TimeDistributed(K.layers.Dense(2))])
