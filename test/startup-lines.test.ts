import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectOutput, type ServiceProcess, spawnService } from './support/service-process.js';

const ROOT = join(import.meta.dirname, '..');
let service: ServiceProcess | undefined;
let dir: string;
afterEach(async () => {
  if (service && service.child.exitCode === null) await service.terminate();
  service = undefined;
  rmSync(dir, { recursive: true, force: true });
});
const fresh = () => {
  dir = mkdtempSync(join(tmpdir(), 'dvb-startup-'));
  return dir;
};

/** The lines a process wrote that are not JSON log lines, and none of them a stack frame. */
function expectOneLineNoStack(output: string, line: RegExp) {
  expect(output).toMatch(line);
  expect(output).not.toMatch(/^\s+at /m);
}

describe('#14 start-up problems are one line each, never a stack', () => {
  it('the port already in use', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      service = spawnService(fresh(), { PORT: String(port) });
      expect(await service.exited).toBe(1);
      expectOneLineNoStack(
        service.output(),
        new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use .*set PORT$`, 'm'),
      );
    } finally {
      taken.close();
    }
  });

  it('DATA_DIR not writable', async () => {
    const data = join(fresh(), 'data');
    mkdirSync(data);
    // root writes through file modes: a read-only mount stands in for a folder it may not write.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', data]);
    else chmodSync(data, 0o500);
    try {
      service = spawnService(dir, { DATA_DIR: data });
      expect(await service.exited).toBe(1);
      expectOneLineNoStack(service.output(), /^DATA_DIR \(.*\) is not writable \((EACCES|EROFS)\): .*$/m);
    } finally {
      if (asRoot) execFileSync('umount', [data]);
      else chmodSync(data, 0o700);
    }
  });

  it('a non-loopback HOST without PUBLIC_BASE_URL is a warning, and the service runs', async () => {
    service = spawnService(fresh(), { HOST: '0.0.0.0', API_TOKEN: 'secret-for-the-test' });
    const warning = await service.waitForLog(/^HOST is 0\.0\.0\.0 but PUBLIC_BASE_URL is not set/);
    expect(warning.level).toBe(40);
    expect(warning.msg).toMatch(/links will read http:\/\/0\.0\.0\.0:0\/videos/);
    await service.waitForLog(/^service started$/);
  });

  it('PROVIDER=doubao with no usable session warns at start, not at the first request', async () => {
    service = spawnService(fresh(), { PROVIDER: 'doubao' });
    const warning = await service.waitForLog(/^PROVIDER=doubao has no usable session/);
    expect(warning.level).toBe(40);
    expect(warning.msg).toMatch(/npm run session/);
    await service.waitForLog(/^service started$/);
  });

  it('`npm run session` without a display says to use --import', async () => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/providers/doubao/session-cli.ts')],
      {
        cwd: fresh(),
        env: { PATH: process.env.PATH ?? '', DOUBAO_SESSIONS_FILE: join(dir, 'session.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = collectOutput(child);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output().trim().split('\n')).toHaveLength(1);
    expect(output()).toMatch(/No display here .* use `--import`/);
  });
});
