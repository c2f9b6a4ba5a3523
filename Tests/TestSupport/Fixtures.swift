import Foundation

/// Where the tests find their files: the repository, its Samples, and the read-only third-party
/// models (`../shared/models` beside the checkout, `KERASLITE_SHARED_MODELS`, or /work/shared/models).
public enum Fixtures {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let samples = root.appendingPathComponent("Samples")

    public static func sample(_ name: String) -> String { samples.appendingPathComponent(name).path }

    public static let sharedModels: URL = {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["KERASLITE_SHARED_MODELS"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        candidates.append(root.appendingPathComponent("../shared/models").standardized)
        candidates.append(URL(fileURLWithPath: "/work/shared/models"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
    }()

    /// A model under the shared models folder, e.g. `realworld/fer2013_mini_XCEPTION.102-0.66.hdf5`.
    public static func shared(_ relative: String) -> String { sharedModels.appendingPathComponent(relative).path }

    /// The Keras 2.0.5 file written by a third party.
    public static let realworld = shared("realworld/fer2013_mini_XCEPTION.102-0.66.hdf5")
}
