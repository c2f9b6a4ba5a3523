/// A static tensor shape; `nil` marks a dimension unknown until run time (usually the batch).
public typealias Shape = [Int?]

extension Array where Element == Int? {
    /// The number of elements, or nil when a dimension is unknown.
    public var elementCount: Int? {
        var count = 1
        for dimension in self {
            guard let dimension else { return nil }
            count *= dimension
        }
        return count
    }

    /// `[?,32,32,3]`, the printer's spelling.
    public var text: String {
        "[" + map { $0.map(String.init) ?? "?" }.joined(separator: ",") + "]"
    }
}
