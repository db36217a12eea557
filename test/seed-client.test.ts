import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { sampleImage } from './support/media-samples.js';

it("`npm start` on the local provider serves the seed guide's Python client flow, videos within 30 s, no setting changed", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-seed-client-'));
  const image = join(dir, 'image.jpg');
  writeFileSync(image, sampleImage('jpg'));
  const port = await freePort();
  const service = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: join(dir, 'data'),
      DOUBAO_SESSIONS_FILE: join(dir, 'none.json'),
    },
  });
  let output = '';
  service.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  try {
    for (let i = 0; i < 300 && !output.includes('service started'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('using the offline local provider');
    const started = performance.now();
    const { stdout } = await promisify(execFile)('python3', [
      'test/seed-client/seed_client.py',
      `http://127.0.0.1:${port}`,
      image,
    ]);
    expect(stdout.match(/^completed \d{16} http:\/\/127\.0\.0\.1:\d+\/videos\/\S+\.mp4$/gm)).toHaveLength(2);
    expect(stdout).toContain('listed 2');
    // Both videos (the client makes them one after the other) within the 30 s a newcomer should wait at most.
    expect(performance.now() - started).toBeLessThan(30_000);
  } finally {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  expect(service.exitCode).toBe(0);
});
