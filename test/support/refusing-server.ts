/**
 * A small real HTTP server standing in for an upstream's video host whose links no longer work: `/expired.mp4`
 * answers 403 (an expired signed URL), `/big.mp4` serves `bigBytes` bytes (over a small MAX_VIDEO_BYTES).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RefusingServer {
  expiredUrl: string;
  bigUrl: string;
  close(): Promise<void>;
}

export async function startRefusingServer(bigBytes = 64 * 1024): Promise<RefusingServer> {
  const server = createServer((req, res) => {
    if (req.url === '/big.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bigBytes });
      res.end(Buffer.alloc(bigBytes));
      return;
    }
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    expiredUrl: `${base}/expired.mp4?x-signature=abc`,
    bigUrl: `${base}/big.mp4`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
