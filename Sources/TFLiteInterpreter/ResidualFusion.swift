import Kernels
import TFLite

// A residual connection's ADD fused into the convolution right before it: CONV_2D writes a tensor
// only the next operator, a same-shape ADD, reads; the executor then runs one step that stores
// clip(conv + other operand) straight over the other operand (`Workspace.residual`), so the
// convolution's output is never written and read back (ResNet's blocks: a 1×1 convolution, its
// batch norm folded, then the shortcut's ADD with a fused RELU).

extension TFLiteExecutor {
    /// What a fused step adds: the ADD's clip, and the convolution's own output, which is never
    /// stored (a ranges observer still sees its extremes, noted as the GEMM stores the sums).
    struct FusedResidual {
        let convolutionOutput: Int
        let clip: ActivationClip?
    }

    /// `steps` with every CONV_2D → ADD pair that can be fused replaced by one step: the
    /// convolution's inputs and then the ADD's other operand, the ADD's output, the releases of
    /// both. A pair fuses when both are float32 and not folded, the convolution's one output is
    /// read by the ADD alone (once) and is no model output, the two operands have the same
    /// shape in the file (no broadcasting), and neither activation is tanh.
    static func fusingResiduals(_ steps: [Step], file: TFLiteFile, tensors: [TFLiteFile.TensorInfo], storages: [TensorStorage],
                                kept: Set<Int>, options: Options) -> [Step] {
        var readers: [Int: Int] = [:]
        for step in steps where !step.folded { for index in step.inputs where index >= 0 { readers[index, default: 0] += 1 } }
        func isFloat(_ index: Int) -> Bool { if case .float32 = storages[index] { true } else { false } }
        func activation(_ step: Step, _ table: String, _ field: Int) -> FusedActivation? {
            let context = OperatorContext(info: file.subgraphs[0].operators[step.index], tensors: tensors, storages: storages,
                                          constants: [:], options: options)
            return try? context.options(table).activation(field)
        }
        var fused: [Step] = []
        var position = 0
        while position < steps.count {
            let convolution = steps[position]
            defer { position += 1 }
            guard position + 1 < steps.count, convolution.builtin == "CONV_2D", !convolution.folded,
                  convolution.outputs.count == 1, let t = convolution.outputs.first, isFloat(t), !kept.contains(t), readers[t] == 1
            else { fused.append(convolution); continue }
            let add = steps[position + 1]
            guard add.builtin == "ADD", !add.folded, add.outputs.count == 1, isFloat(add.outputs[0]),
                  add.inputs.count == 2, add.inputs.filter({ $0 == t }).count == 1,
                  let s = add.inputs.first(where: { $0 != t }), s >= 0, isFloat(s),
                  tensors[s].shape == tensors[t].shape,
                  (tensors[s].shapeSignature ?? tensors[s].shape) == (tensors[t].shapeSignature ?? tensors[t].shape),
                  let own = activation(convolution, "Conv2DOptions", Field.Conv2DOptions.fused_activation_function),
                  let added = activation(add, "AddOptions", Field.AddOptions.fused_activation_function)
            else { fused.append(convolution); continue }
            if case .tanh = own { fused.append(convolution); continue }
            if case .tanh = added { fused.append(convolution); continue }
            let inputs = convolution.inputs + [s]
            let releases = Set(convolution.releases + add.releases).subtracting([t])
            fused.append(Step(index: convolution.index, builtin: convolution.builtin, kernel: convolution.kernel, inputs: inputs,
                              outputs: add.outputs, releases: releases.sorted(), consumable: inputs.map { index in
                                  releases.contains(index) && inputs.filter { $0 == index }.count == 1
                              }, folded: false, residual: FusedResidual(convolutionOutput: t, clip: added.clip)))
            position += 1  // the ADD
        }
        return fused
    }
}
