import GraphIR

// Keras' 3-D layers over NDHWC volumes: Conv3D, Conv3DTranspose, Max/AveragePooling3D,
// GlobalAverage/MaxPooling3D, UpSampling3D, Cropping3D and ZeroPadding3D.

extension LayerTable {
    static func addVolumetricLayers(to table: inout [String: LayerSpec]) {
        table["Conv3D"] = LayerSpec(variables: kernelAndBias) { context in
            let config = context.config
            try config.requireChannelsLast()
            let groups = try config.int("groups", default: 1)
            guard groups == 1 else {
                throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "groups=\(groups)")
            }
            var inputs = [try context.input(), try context.weight("kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            return [try context.activate(try context.emit(.conv3d, inputs, try windowAttributes(config, rank: 3)))]
        }
        table["Conv3DTranspose"] = LayerSpec(variables: kernelAndBias) { context in
            let config = context.config
            try config.requireChannelsLast()
            var attributes = try windowAttributes(config, rank: 3)
            if config["output_padding"] != nil, config["output_padding"]?.isNull != true {
                attributes[.outputPadding] = try config.ints("output_padding", count: 3)
            }
            var inputs = [try context.input(), try context.weight("kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            return [try context.activate(try context.emit(.transposeConv3d, inputs, attributes))]
        }
        for (name, kind) in [("MaxPooling3D", OpKind.maxPool3d), ("MaxPool3D", .maxPool3d),
                             ("AveragePooling3D", .avgPool3d), ("AvgPool3D", .avgPool3d)] {
            table[name] = LayerSpec { context in
                let config = context.config
                try config.requireChannelsLast()
                let size = try config.ints("pool_size", count: 3, default: [2, 2, 2])
                let strides = try config.ints("strides", count: 3, default: size)
                let padding = try config.padding()
                return [try context.emit(kind, [try context.input()], Attributes {
                    $0[.poolSize] = size
                    $0[.strides] = strides
                    $0[.padding] = padding
                })]
            }
        }
        for name in ["GlobalAveragePooling3D", "GlobalAvgPool3D", "GlobalMaxPooling3D", "GlobalMaxPool3D"] {
            let kind: OpKind = name.hasPrefix("GlobalMax") ? .globalMaxPool : .globalAvgPool
            table[name] = LayerSpec { context in
                try context.config.requireChannelsLast()
                let keepDims = try context.config.bool("keepdims", default: false)
                return [try context.emit(kind, [try context.input()], Attributes { $0[.keepDims] = keepDims })]
            }
        }
        table["UpSampling3D"] = LayerSpec { context in
            try context.config.requireChannelsLast()
            let scale = try context.config.ints("size", count: 3, default: [2, 2, 2])
            return [try context.emit(.upsample3d, [try context.input()], Attributes { $0[.resizeScale] = scale })]
        }
        table["ZeroPadding3D"] = LayerSpec { context in
            try context.config.requireChannelsLast()
            let pairs = try context.config.pairs("padding", count: 3)
            return [try context.emit(.pad, [try context.input()], Attributes {
                $0[.paddings] = [0, 0] + pairs.flatMap { [$0.0, $0.1] } + [0, 0]
            })]
        }
        table["Cropping3D"] = LayerSpec { try cropping($0, rank: 3) }
    }
}
