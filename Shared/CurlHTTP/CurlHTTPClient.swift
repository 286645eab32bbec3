import CCurl

/// A small blocking HTTP/1.1 client on libcurl with a kept-alive connection: the demo strategy,
/// the `ops` operator subcommands and the tests use it as an outside client of OPS would.
/// One instance per thread (a curl easy handle is not thread-safe).
public final class CurlHTTPClient {
    private let handle: UnsafeMutableRawPointer
    private let timeoutMilliseconds: Int

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public init(timeout: Duration = .seconds(10)) throws(HTTPClientError) {
        guard Self.globalInit, let handle = curl_easy_init() else {
            throw HTTPClientError(url: "", message: "libcurl could not be initialised")
        }
        self.handle = handle
        let (seconds, attoseconds) = timeout.components
        self.timeoutMilliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends one request; a non-2xx status is a response, not an error. Throws only when no HTTP
    /// response arrived (connection refused, timeout, bad URL).
    public func request(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) throws(HTTPClientError) -> HTTPResponse {
        let sink = ResponseSink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        if body != nil { headerList = curl_slist_append(headerList, "Expect:") }
        defer { curl_slist_free_all(headerList) }

        fleet_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fleet_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        fleet_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        fleet_curl_setopt_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        fleet_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, box.toOpaque())
        fleet_curl_setopt_header_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \r\n")
                sink.headers.append((name, value))
            }
            return size * count
        }
        fleet_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, box.toOpaque())
        fleet_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList)

        let code: CURLcode = url.withCString { urlPointer in
            method.withCString { methodPointer in
                fleet_curl_setopt_ptr(handle, CURLOPT_URL, urlPointer)
                fleet_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, methodPointer)
                fleet_curl_setopt_long(handle, CURLOPT_NOBODY, method == "HEAD" ? 1 : 0)
                if let body {
                    return body.withUnsafeBytes { bytes in
                        fleet_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
                        fleet_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, bytes.baseAddress)
                        return curl_easy_perform(handle)
                    }
                } else {
                    fleet_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, nil)
                    fleet_curl_setopt_long(handle, CURLOPT_HTTPGET, method == "GET" ? 1 : 0)
                    return curl_easy_perform(handle)
                }
            }
        }
        guard code == CURLE_OK else {
            throw HTTPClientError(url: url, message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        fleet_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(String, String)] = []
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let drop = Set(set)
        var slice = Substring(self)
        while let first = slice.first, drop.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, drop.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// An HTTP response.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Names lower-cased.
    public let headers: [(String, String)]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.last(where: { $0.0 == lowered })?.1
    }
}

/// No HTTP response: the request could not be made or timed out.
public struct HTTPClientError: Error, CustomStringConvertible {
    public let url: String
    public let message: String
    public var description: String { "\(url): \(message)" }
}
