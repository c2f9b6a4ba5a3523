/// How a window op pads one spatial axis.
public enum PaddingMode: String, Sendable {
    case same, valid, causal
}

/// One spatial axis of a sliding window: size, stride, dilation and padding.
public struct AxisWindow: Sendable {
    public var window: Int
    public var stride: Int
    public var dilation: Int = 1
    public var padding: PaddingMode

    public init(window: Int, stride: Int, dilation: Int = 1, padding: PaddingMode) {
        self.window = window
        self.stride = stride
        self.dilation = dilation
        self.padding = padding
    }

    public var effective: Int { (window - 1) * dilation + 1 }

    /// Output length and padding before the first element, TensorFlow's rule: SAME pads
    /// max((⌈n/s⌉ − 1)·s + k_eff − n, 0) in total, the smaller half before (extra at bottom/right);
    /// CAUSAL pads k_eff − 1 before.
    public func plan(_ length: Int) -> (output: Int, before: Int) {
        switch padding {
        case .same:
            let output = (length + stride - 1) / stride
            return (output, max((output - 1) * stride + effective - length, 0) / 2)
        case .valid:
            return (length >= effective ? (length - effective) / stride + 1 : 0, 0)
        case .causal:
            return (length >= 1 ? (length - 1) / stride + 1 : 0, effective - 1)
        }
    }
}
