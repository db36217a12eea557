/**
 * One process owns a SQLite DATA_DIR (issue 12, case 3): a second store on the same database is refused, a second
 * `npm start` on the same DATA_DIR exits with one clear line, and the lock survives `kill -9` correctly — the
 * killed service's DATA_DIR can be started again at once. The services are real child processes (`src/main.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUse, TaskStore } from '../src/core/store.js';
import { spawnLocalStart } from './support/service-process.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-lock-'));
  dirs.push(dir);
  return dir;
}

/** `npm start` (what it runs) on `dataDir` with the offline provider; resolves with its output so far. */
function service(dataDir: string) {
  const { child, stdout, stderr } = spawnLocalStart(dataDir);
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = async () => {
    const deadline = Date.now() + 60_000;
    while (!stdout().includes('"service started"')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the service did not start: ${stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, started, output: () => ({ stdout: stdout(), stderr: stderr() }) };
}

describe('one process per DATA_DIR', () => {
  it('refuses a second store on the same database file, and lets a new one in once the first is closed', () => {
    const file = join(tempDir(), 'tasks.db');
    const first = new TaskStore(file);
    expect(() => new TaskStore(file)).toThrow(DataDirInUse);
    first.close();
    const again = new TaskStore(file);
    again.close();
  });

  it('a second npm start on the same DATA_DIR exits 1 with one line; after kill -9 of the first, a start succeeds', async () => {
    const dataDir = tempDir();
    const first = service(dataDir);
    await first.started();

    const second = service(dataDir);
    expect(await second.exited).toBe(1);
    const lines = second.output().stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^${dataDir} is in use by another running service \\(pid ${first.child.pid} on .+\\): stop it first`),
    );

    first.child.kill('SIGKILL');
    await first.exited;
    const third = service(dataDir);
    await third.started();
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 120_000);
});
