import Foundation

/// keraslite never writes over a file it reads: the check every command that writes runs on its
/// options before it starts.
public enum InputProtection {
    /// The message for the first of `inputs` that `output` names once symlinks are resolved —
    /// "`option` is `role` `path`; keraslite never overwrites its input" — or nil when none does.
    public static func violation(_ option: String, _ output: String, inputs: [(role: String, path: String?)]) -> String? {
        let target = canonical(output)
        guard let (role, path) = inputs.first(where: { $0.path.map(canonical) == target }) else { return nil }
        return "\(option) is \(role) \(path!); keraslite never overwrites its input"
    }

    /// `path` absolute, symlinks resolved, `.`/`..` removed.
    public static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardized.path
    }
}
