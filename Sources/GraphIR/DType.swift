/// Element types of IR tensors, spelled as TFLite and numpy spell them.
public enum DType: String, Sendable, CaseIterable {
    case float32, float16, float64, int8, uint8, int16, int32, int64, bool

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The short spelling used by the text printer (`f32`, `i8`, …).
    public var shortName: String {
        switch self {
        case .float32: return "f32"
        case .float16: return "f16"
        case .float64: return "f64"
        case .int8: return "i8"
        case .uint8: return "u8"
        case .int16: return "i16"
        case .int32: return "i32"
        case .int64: return "i64"
        case .bool: return "bool"
        }
    }
}
