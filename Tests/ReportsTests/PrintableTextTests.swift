import Foundation
import Keras
import Reports
import TestSupport
import Testing

/// Names read from a model file never put control characters on the terminal.
@Suite struct PrintableTextTests {
    @Test func inspectEscapesControlCharactersFromTheFile() throws {
        let path = Fixtures.root.appendingPathComponent("Tests/KerasTests/Corpus/fuzz_control_characters_in_class_name.h5").path
        let text = try InspectReport(model: try KerasFile.load(path: path), countZeros: true).text()
        #expect(text.contains(#"QK\u{05}\u{06}tional"#))
        #expect(!text.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" })
    }
}
