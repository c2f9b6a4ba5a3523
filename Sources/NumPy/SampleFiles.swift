import Foundation

/// Model inputs read from numpy files, the one loader behind `--calibration` and `--input`: a
/// `.npy` (one array, for a one-input model), an `.npz` (one array per input, by name) or a
/// directory of such files, read in name order (callers stack them along the batch axis).
public enum SampleFiles {
    /// The files `path` names: itself, or the `.npy`/`.npz` files of a directory sorted by name.
    public static func paths(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw NPYError.samples(file: path, problem: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let files = names.filter { $0.hasSuffix(".npy") || $0.hasSuffix(".npz") }.sorted()
            .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
        guard !files.isEmpty else { throw NPYError.samples(file: path, problem: "the directory holds no .npy or .npz files") }
        return files
    }

    /// The arrays of one file in the order of `inputNames`: a one-input model takes a single array
    /// under any name; otherwise each input's array is found in an `.npz` by its name, then by
    /// `alternativeNames[position]` (a .tflite tensor name), then as `arr_<position>` (np.savez's
    /// positional names).
    public static func read(_ file: String, inputNames: [String], alternativeNames: [String?] = []) throws -> [NPYArray] {
        let arrays: [(name: String, array: NPYArray)]
        do {
            arrays = isZip(file) ? try NPZ.read(path: file) : [("", try NPY.read(path: file))]
        } catch {
            throw NPYError.samples(file: file, problem: "\(error)")
        }
        if arrays.count == 1, inputNames.count == 1 { return [arrays[0].array] }
        if arrays.first?.name == "" {
            throw NPYError.samples(file: file, problem: "the model has \(inputNames.count) inputs (\(inputNames.joined(separator: ", "))); "
                                  + "pass an .npz with one array per input name")
        }
        let byName = Dictionary(arrays.map { ($0.name, $0.array) }, uniquingKeysWith: { first, _ in first })
        return try inputNames.enumerated().map { position, name in
            let alternative = position < alternativeNames.count ? alternativeNames[position] : nil
            guard let array = byName[name] ?? alternative.flatMap({ byName[$0] }) ?? byName["arr_\(position)"] else {
                throw NPYError.samples(file: file, problem: "no array '\(name)' (the archive holds "
                                      + "\(arrays.map(\.name).joined(separator: ", ")); the model's inputs are \(inputNames.joined(separator: ", ")))")
            }
            return array
        }
    }

    /// True when the file starts like a zip archive (an `.npz`); unreadable files go by extension.
    public static func isZip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return path.hasSuffix(".npz") }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
    }
}
