import CCurl

/// The `@convention(c)` functions libcurl calls for every transfer of every client.
///
/// They capture nothing: the transfer arrives as the `CURLOPT_WRITEDATA`/`CURLOPT_HEADERDATA` context, an
/// unretained `CurlEasyTransfer` kept alive by its `CurlTransferTable`. They run on the thread driving that
/// table: the client's curl thread or an event loop.
enum CurlCallbacks {
    static let body: curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<CurlEasyTransfer>.fromOpaque(context).takeUnretainedValue()
        return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
    }

    static let header: curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<CurlEasyTransfer>.fromOpaque(context).takeUnretainedValue()
        return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    }
}
