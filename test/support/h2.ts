// A raw HTTP/2 gRPC unary call, for metadata grpc-js refuses to send (two authorization values, tabs,
// bytes outside printable ASCII): the server must handle what any client can put on the wire.
import http2 from 'node:http2';

/** Sends an empty request message to `path` with `headers` added; resolves with grpc-status and grpc-message. */
export function rawGrpcCall(
  address: string,
  path: string,
  headers: http2.OutgoingHttpHeaders,
  timeoutMs = 5000,
): Promise<{ code: number; details: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`raw call to ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    session.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    let status: { code: number; details: string } | undefined;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        status = {
          code: Number(h['grpc-status']),
          details: decodeURIComponent(String(h['grpc-message'] ?? '')),
        };
      }
    };
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => undefined);
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      session.close();
      if (status) resolve(status);
      else reject(new Error(`raw call to ${path}: stream closed without grpc-status`));
    });
    // One gRPC frame: not compressed, length 0 (an empty message).
    req.end(Buffer.alloc(5));
  });
}
