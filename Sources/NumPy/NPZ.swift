import Foundation
import Kernels
import ZIPFoundation

/// numpy's `.npz`: a zip archive of `.npy` files, one per array, named after the array
/// (`np.savez(path, x=a)` stores `x.npy`). Reads stored and deflated archives; writes stored ones.
public enum NPZ {
    /// The arrays of the archive at `path`, by name, in archive order.
    public static func read(path: String) throws -> [(name: String, array: NPYArray)] {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw NPYError.archive("\(path) is not a zip archive")
        }
        var arrays: [(name: String, array: NPYArray)] = []
        for entry in archive where entry.type == .file {
            guard entry.path.hasSuffix(".npy") else { continue }
            var data = Data()
            do { _ = try archive.extract(entry) { data.append($0) } } catch {
                throw NPYError.archive("cannot extract \(entry.path): \(error)")
            }
            arrays.append((String(entry.path.dropLast(4)), try NPY.decode(data)))
        }
        return arrays
    }

    /// The bytes of an `.npz` holding `arrays` as float32 (stored, uncompressed).
    public static func encode(_ arrays: [(name: String, value: TensorValue)]) throws -> [UInt8] {
        try encode(arrays.map { ($0.name, $0.value, NPYElementType.float32) })
    }

    /// The bytes of an `.npz` holding each array as its own element type (stored, uncompressed).
    public static func encode(_ arrays: [(name: String, value: TensorValue, type: NPYElementType)]) throws -> [UInt8] {
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for (name, value, type) in arrays {
                let bytes = NPY.encode(value, as: type)
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
                                     modificationDate: Date(timeIntervalSince1970: 315_532_800)) { position, size in
                    Data(bytes[Int(position)..<(Int(position) + size)])
                }
            }
            guard let data = archive.data else { throw NPYError.archive("no archive data") }
            return [UInt8](data)
        } catch let error as NPYError {
            throw error
        } catch {
            throw NPYError.archive("cannot build the archive: \(error)")
        }
    }
}
