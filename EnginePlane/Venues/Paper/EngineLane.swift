/// An actor on the engine's executor: what runs on it never runs beside the engine's own work,
/// which matters once the paper book and the engine write through one connection, in one
/// transaction (see `PaperVenue.join`).
actor EngineLane {
    let executor: any SerialExecutor
    init(executor: any SerialExecutor) { self.executor = executor }
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func run<T: Sendable, Failure: Error>(_ body: @Sendable () throws(Failure) -> T) throws(Failure) -> T {
        try body()
    }
}

/// A connection passed from the engine to the book it now belongs to (see `PaperVenue.join`).
struct HandedOver<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
