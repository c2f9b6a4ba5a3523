import Files
import Foundation
import JSON

/// A per-layer pruning plan as `sparsity --sensitivity --plan-out` writes it and `prune --plan`
/// reads it: {"layers": {"conv2d": 0.5, …}} (other keys, like the sensitivity table, are ignored).
public enum PruningPlan {
    /// Layer → sparsity in [0, 1) from the plan file at `path`; errors name the file.
    public static func read(path: String) throws -> [String: Double] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileError.inFile(file: path, underlying: RunError("cannot read the plan: \(error.localizedDescription)"))
        }
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw FileError.inFile(file: path, underlying: error) }
        guard case .object(let root) = json, case .object(let layers)? = root["layers"] else {
            throw FileError.inFile(file: path, underlying: RunError("a plan is an object with a \"layers\" object of layer → sparsity"))
        }
        var plan: [String: Double] = [:]
        for (layer, value) in layers {
            guard case .number(let sparsity) = value, sparsity >= 0, sparsity < 1 else {
                throw FileError.inFile(file: path, underlying: RunError("layer '\(layer)': the sparsity must be a number in [0, 1)"))
            }
            plan[layer] = sparsity
        }
        return plan
    }
}
