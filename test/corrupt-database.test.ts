/**
 * Issue 13.10: a corrupt or unreadable database at start-up ends `npm start` with one line naming the file and
 * what to do (exit code 1), not a raw stack. The services are real child processes (`src/main.ts`).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { TaskStore } from '../src/core/store.js';
import { spawnLocalStart } from './support/service-process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-corrupt-'));
  dirs.push(dir);
  return dir;
}

/** Runs `npm start` (what it runs) on `dataDir` until it exits; resolves with its exit code and output. */
function startService(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const { child, stdout, stderr } = spawnLocalStart(dataDir);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr(), stdout: stdout() });
    }),
  );
}

function expectOneLine(result: { code: number | null; stderr: string }, file: string, advice: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`${file} cannot be used as the task database`);
  expect(lines[0]).toMatch(advice);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

it('#13.10 a tasks.db that is not a database stops start-up with one line naming it and what to do', async () => {
  const dir = tempDir();
  const file = join(dir, 'tasks.db');
  writeFileSync(file, 'this is not a database, it is a text file that was copied over it by mistake\n'.repeat(100));
  expectOneLine(await startService(dir), file, /file is not a database\): restore it from a backup, or move it aside/);
}, 90_000);

it('#13.10 a damaged database (pages overwritten) stops start-up with one line', async () => {
  const dir = tempDir();
  const file = join(dir, 'tasks.db');
  new TaskStore(file).close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4000, 0xa5), 0, 4000, 100); // the header's tail and the schema page
  closeSync(fd);
  expectOneLine(await startService(dir), file, /restore it from a backup, or move it aside|may read and write/);
}, 90_000);

it('#13.10 a tasks.db that cannot be opened (a folder in its place) stops start-up with one line', async () => {
  const dir = tempDir();
  const file = join(dir, 'tasks.db');
  mkdirSync(file);
  expectOneLine(await startService(dir), file, /may read and write/);
}, 90_000);
