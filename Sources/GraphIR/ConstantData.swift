/// The values of a constant tensor, loaded on first use and then kept.
///
/// Frontends hand in a loader that reads the weights from the container (an HDF5 dataset,
/// a FlatBuffer buffer), so building a graph reads metadata only; `values()` reads once.
public final class ConstantData: @unchecked Sendable {
    /// Number of elements; known without loading.
    public let count: Int
    /// Bytes the values occupy where they are stored (file dtype × count), known without loading.
    public let storedBytes: Int
    private var loader: (() throws -> [Float])?
    private var cache: [Float]?

    /// Constant data that is read by `loader` when first needed.
    public init(count: Int, storedBytes: Int, loader: @escaping () throws -> [Float]) {
        self.count = count
        self.storedBytes = storedBytes
        self.loader = loader
    }

    /// Constant data already in memory.
    public init(values: [Float]) {
        count = values.count
        storedBytes = values.count * MemoryLayout<Float>.size
        cache = values
    }

    /// True once the values are in memory.
    public var isLoaded: Bool { cache != nil }

    /// The values as Float, in row-major order. The first call reads them from the container.
    public func values() throws -> [Float] {
        if let cache { return cache }
        let loaded = try valuesWithoutCaching()
        cache = loaded
        loader = nil
        return loaded
    }

    /// The values without keeping them: reports that scan every weight once use this so memory
    /// stays bounded by the largest tensor.
    public func valuesWithoutCaching() throws -> [Float] {
        if let cache { return cache }
        guard let loader else { return [] }
        let loaded = try loader()
        guard loaded.count == count else {
            throw GraphError.constantSize(expected: count, actual: loaded.count)
        }
        return loaded
    }
}
