import Foundation
import Kernels
import Testing

/// ConvLSTMLayer with 1×1 kernels is an LSTM run on every pixel's own sequence: both cores agree.
struct ConvRecurrentTests {
    @Test func oneByOneConvLSTMIsAnLSTMPerPixel() throws {
        let (batch, steps, height, width, channels, filters) = (2, 3, 2, 3, 2, 4)
        func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float(sin(Double($0 * 7 + seed))) * 0.8 } }
        let x = values(batch * steps * height * width * channels, 1)
        let kernel = values(channels * 4 * filters, 2), recurrent = values(filters * 4 * filters, 3), bias = values(4 * filters, 4)
        let sigmoid: (UnsafeMutableBufferPointer<Float>) -> Void = { buffer in for i in buffer.indices { buffer[i] = 1 / (1 + exp(-buffer[i])) } }
        let tanhActivation: (UnsafeMutableBufferPointer<Float>) -> Void = { buffer in for i in buffer.indices { buffer[i] = tanh(buffer[i]) } }
        for goBackwards in [false, true] {
            var convolutional = ConvLSTMLayer(filters: filters, kernel: kernel, kernelSize: (1, 1), recurrentKernel: recurrent,
                                              recurrentKernelSize: (1, 1), bias: bias,
                                              rows: AxisWindow(window: 1, stride: 1, padding: .same),
                                              columns: AxisWindow(window: 1, stride: 1, padding: .same),
                                              activation: tanhActivation, recurrentActivation: sigmoid)
            convolutional.returnSequences = true
            convolutional.goBackwards = goBackwards
            let result = try convolutional.run(TensorValue(shape: [batch, steps, height, width, channels], values: x), workspace: Workspace())
            #expect(result[0].shape == [batch, steps, height, width, filters])
            #expect(result[2].shape == [batch, height, width, filters])

            var lstm = RecurrentLayer(cell: .lstm, units: filters, kernel: kernel, recurrentKernel: recurrent, bias: bias,
                                      activation: tanhActivation, recurrentActivation: sigmoid)
            lstm.returnSequences = true
            lstm.goBackwards = goBackwards
            let pixels = height * width
            for n in 0..<batch {
                for pixel in 0..<pixels {
                    var sequence: [Float] = []
                    for t in 0..<steps { sequence += x[(((n * steps + t) * pixels + pixel) * channels)...].prefix(channels) }
                    let expected = try lstm.run(TensorValue(shape: [1, steps, channels], values: sequence), mask: nil)
                    for t in 0..<steps {
                        for f in 0..<filters {
                            let ours = result[0].values[((n * steps + t) * pixels + pixel) * filters + f]
                            #expect(abs(ours - expected[0].values[t * filters + f]) < 1e-5)
                        }
                    }
                    for f in 0..<filters {
                        #expect(abs(result[2].values[(n * pixels + pixel) * filters + f] - expected[2].values[f]) < 1e-5)
                    }
                }
            }
        }
    }
}
