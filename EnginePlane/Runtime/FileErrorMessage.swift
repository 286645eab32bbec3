import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A file operation's error as an operator reads it ("No such file or directory"), without the
/// full Foundation (the engine links only FoundationEssentials, which has no `localizedDescription`).
func fileErrorMessage(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError, let posix = cocoa.underlying as? POSIXError {
        return String(cString: strerror(posix.code.rawValue))
    }
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    return "\(error)"
}
