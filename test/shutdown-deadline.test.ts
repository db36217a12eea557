import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type ServiceProcess, spawnService } from './support/service-process.js';

let service: ServiceProcess | undefined;
let dir: string;
afterEach(() => {
  if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('#14 a shutdown that hangs (an upload whose body never ends) exits at SHUTDOWN_DEADLINE_S, saying so', async () => {
  dir = mkdtempSync(join(tmpdir(), 'dvb-deadline-'));
  service = spawnService(dir, { SHUTDOWN_DEADLINE_S: '2' });
  const base = new URL(await service.baseUrl());
  // An upload that sends half its body and then nothing: the HTTP API's close waits for it.
  const upload = httpRequest({
    host: base.hostname,
    port: base.port,
    method: 'POST',
    path: '/api/file/upload?file_type=2&file_name=a.png',
    headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' },
  });
  upload.on('error', () => {});
  upload.write(Buffer.alloc(1000));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { code, ms } = await service.terminate();
  upload.destroy();
  expect(code).toBe(1);
  expect(ms).toBeGreaterThan(1_500);
  expect(ms).toBeLessThan(15_000);
  expect(service.lines().find((l) => /did not finish within SHUTDOWN_DEADLINE_S/.test(l.msg))).toMatchObject({
    level: 50,
    deadlineS: 2,
  });
});
