/// Reproducible test inputs: a 64-bit linear congruential generator giving multiples of 1/1000 in
/// [−1, 1] (times `scale`), so every run of a kernel test sees the same values.
struct SeededValues {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(scale: Float = 1) -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000 * scale
    }

    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in next(scale: scale) }
    }
}
