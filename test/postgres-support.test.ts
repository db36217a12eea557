/**
 * The throw-away PostgreSQL cluster of test/support/postgres.ts: it starts as a user PostgreSQL accepts (not root),
 * is gone with its files after `stop()`, dies with a test process killed by SIGKILL, and — without the server
 * binaries — fails with one line saying how to install them instead of letting the tests pass.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { INSTALL_HINT, startPostgres } from './support/postgres.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
};

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('throw-away PostgreSQL cluster', () => {
  it('without the server binaries, starting fails with how to install them', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dvb-no-pg-'));
    try {
      await expect(startPostgres({ debianRoot: empty, path: empty })).rejects.toThrow(INSTALL_HINT);
      expect(INSTALL_HINT).toMatch(/apt-get install postgresql/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('runs as a non-root user, answers on its URL and a fresh database, and stop() removes it', async () => {
    const cluster = await startPostgres();
    console.info(`PostgreSQL test cluster up in ${cluster.startMs} ms`);
    const owner = execFileSync('ps', ['-o', 'user=', '-p', String(cluster.pid)], { encoding: 'utf8' }).trim();
    expect(owner).not.toBe('root');
    const client = new pg.Client({ connectionString: await cluster.createDatabase() });
    await client.connect();
    expect((await client.query('SELECT current_database() AS db')).rows[0].db).toMatch(/^test_/);
    await client.end();
    await cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
    expect(alive(cluster.pid)).toBe(false);
    await expect(new pg.Client({ connectionString: cluster.url }).connect()).rejects.toThrow(/ECONNREFUSED/);
  });

  it('dies with a test process killed by SIGKILL', async () => {
    const script = `
      import { startPostgres } from './test/support/postgres.ts';
      const cluster = await startPostgres();
      console.log(JSON.stringify({ pid: cluster.pid, dir: cluster.dir }));
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    await until(() => out.includes('\n'), 30_000);
    const { pid, dir } = JSON.parse(out) as { pid: number; dir: string };
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await until(() => !alive(pid), 10_000);
    rmSync(dir, { recursive: true, force: true }); // the next run's sweep would, ten minutes on
  }, 60_000);
});
