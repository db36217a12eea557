/**
 * Re-hosting a video trusts the answer, not the URL: Doubao's video hosts serve play URLs whose path ends in `/`
 * (accepted when the answer is a video with an MP4 `ftyp` box), while an HTML page or a file that is not an MP4
 * is refused even when its URL ends in `.mp4`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStore } from '../src/core/media.js';
import { isMp4, sampleMp4 } from './support/media-samples.js';

describe('video download check', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let media: MediaStore;
  const limits = { maxBytes: 10_000_000, timeoutMs: 5_000, allowPrivate: true };

  beforeAll(async () => {
    const mp4 = sampleMp4();
    server = createServer((req, res) => {
      if (req.url!.startsWith('/video/tos/cn/abc/')) res.writeHead(200, { 'content-type': 'video/mp4' }).end(mp4);
      else if (req.url === '/page.mp4') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from('not a video at all'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'dvb-download-'));
    media = new MediaStore(dir);
    await media.init();
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a video from a play URL whose path ends in `/`', async () => {
    const name = await media.rehostVideo('t1', [`${base}/video/tos/cn/abc/?mime_type=video_mp4`], limits);
    expect(isMp4(readFileSync(join(media.videosDir, name)))).toBe(true);
  });

  it('refuses an HTML page and a file without an ftyp box, as transient', async () => {
    await expect(media.rehostVideo('t2', [`${base}/page.mp4`], limits)).rejects.toMatchObject({
      retryable: true,
      message: /sent text\/html/,
    });
    await expect(media.rehostVideo('t3', [`${base}/blob`], limits)).rejects.toMatchObject({
      retryable: true,
      message: /not an MP4/,
    });
  });
});
