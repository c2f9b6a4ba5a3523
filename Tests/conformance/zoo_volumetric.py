"""The layer zoo's volumetric cases (NDHWC): Conv3D, Conv3DTranspose, Max/AveragePooling3D,
GlobalAverage/MaxPooling3D, UpSampling3D, Cropping3D, ZeroPadding3D and a small Conv3D autoencoder.

`register(cs)` adds them to convert_support's ZOO; convert_support calls it with itself (the module
object, which is `__main__` in the builder subprocesses)."""

VOL = (5, 6, 7, 2)  # D, H, W, C: distinct sizes, so a swapped axis cannot pass


def register(cs):
    simple = cs._register_simple

    # --- Conv3D
    for name, kw in [("valid", dict()), ("same", dict(padding="same")),
                     ("stride2-same", dict(strides=2, padding="same")),
                     ("kernel322-stride123", dict(kernel_size=(3, 2, 2), strides=(1, 2, 3))),
                     ("dilation212-same", dict(dilation_rate=(2, 1, 2), padding="same")),
                     ("dilation2-valid", dict(kernel_size=2, dilation_rate=2)),
                     ("nobias-relu", dict(use_bias=False, activation="relu")),
                     ("sigmoid-same", dict(padding="same", activation="sigmoid"))]:
        simple(f"conv3d-{name}", VOL, lambda K, kw=kw: [K.layers.Conv3D(4, **{"kernel_size": 3, **kw})],
               zip=name == "stride2-same")

    # --- Conv3DTranspose
    for name, kw in [("stride2-same", dict(strides=2, padding="same")), ("stride2-valid", dict(strides=2)),
                     ("k2-stride2", dict(kernel_size=2, strides=2)),
                     ("stride121-same-relu", dict(strides=(1, 2, 1), padding="same", activation="relu")),
                     ("nobias-stride1-valid", dict(use_bias=False)),
                     ("outpad1-stride2-same", dict(strides=2, padding="same", output_padding=1))]:
        simple(f"conv3dtranspose-{name}", VOL, lambda K, kw=kw: [K.layers.Conv3DTranspose(3, **{"kernel_size": 3, **kw})],
               zip=name == "stride2-same")

    # --- Pooling: pool 3 stride 2, pool 2 (default strides), mixed windows
    for kind, short in (("Max", "maxpool3d"), ("Average", "avgpool3d")):
        for padding in ("valid", "same"):
            simple(f"{short}-{padding}", VOL,
                   lambda K, k=kind, p=padding: [getattr(K.layers, f"{k}Pooling3D")(3, strides=2, padding=p)],
                   zip=padding == "same")
        simple(f"{short}-pool2", VOL, lambda K, k=kind: [getattr(K.layers, f"{k}Pooling3D")(2)])
        simple(f"{short}-pool231-stride121-same", VOL,
               lambda K, k=kind: [getattr(K.layers, f"{k}Pooling3D")((2, 3, 1), strides=(1, 2, 1), padding="same")])
        simple(f"{short}-pool1x2x2", VOL, lambda K, k=kind: [getattr(K.layers, f"{k}Pooling3D")((1, 2, 2))])
        simple(f"{short}-pool3x1x1", VOL, lambda K, k=kind: [getattr(K.layers, f"{k}Pooling3D")((3, 1, 1), strides=(2, 1, 1))])

    # --- Global pooling
    for kind, short in (("Average", "gap3d"), ("Max", "gmp3d")):
        for keepdims in (False, True):
            simple(short + ("-keepdims" if keepdims else ""), VOL,
                   lambda K, k=kind, kd=keepdims: [getattr(K.layers, f"Global{k}Pooling3D")(keepdims=kd)])

    # --- UpSampling3D, Cropping3D, ZeroPadding3D
    simple("upsampling3d-2", VOL, lambda K: [K.layers.UpSampling3D()], zip=True)
    simple("upsampling3d-2x1x3", VOL, lambda K: [K.layers.UpSampling3D((2, 1, 3))])
    simple("cropping3d-symmetric", VOL, lambda K: [K.layers.Cropping3D(1)])
    simple("cropping3d-asymmetric", VOL, lambda K: [K.layers.Cropping3D(((1, 0), (0, 2), (2, 1)))], zip=True)
    simple("zeropadding3d-symmetric", VOL, lambda K: [K.layers.ZeroPadding3D(1)])
    simple("zeropadding3d-asymmetric", VOL, lambda K: [K.layers.ZeroPadding3D(((1, 0), (0, 2), (2, 1)))], zip=True)

    # --- Small models
    simple("conv3d-autoencoder", (4, 8, 8, 1), lambda K: [
        K.layers.Conv3D(4, 3, padding="same", activation="relu"), K.layers.MaxPooling3D(2),
        K.layers.UpSampling3D(2), K.layers.Conv3D(1, 3, padding="same", activation="sigmoid")], zip=True)
    simple("conv3d-volume", (6, 6, 6, 1), lambda K: [
        K.layers.Conv3D(4, 3, activation="relu"), K.layers.MaxPooling3D(2), K.layers.Flatten(), K.layers.Dense(2)],
        zip=True)
    # Weights large enough for --quantize (test_volumetric.py): 3456 in the Conv3D, 1280 in the Dense.
    simple("conv3d-wide", (4, 6, 6, 8), lambda K: [
        K.layers.Conv3D(16, 3, padding="same", activation="relu"), K.layers.GlobalAveragePooling3D(), K.layers.Dense(80)])
    simple("conv3d-bn-gap3d", VOL, lambda K: [
        K.layers.Conv3D(4, 3, padding="same"), K.layers.BatchNormalization(), K.layers.ReLU(),
        K.layers.AveragePooling3D(2, padding="same"), K.layers.GlobalAveragePooling3D(), K.layers.Dense(3)])
