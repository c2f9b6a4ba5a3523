import CLibFuzzer
import Foundation

// libFuzzer drives the run (its flags, corpus directories, crash files); each input goes to
// `fuzzOneInput`.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { start, count in fuzzOneInput(start, count) })
