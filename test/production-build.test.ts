/**
 * `npm start` runs the compiled JavaScript with plain `node` (no tsx, no TypeScript at run time): the build that
 * `npm install` makes through `prepare` starts the service.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectOutput } from './support/service-process.js';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/main.js');

describe('#14 a production build', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('`npm start` is plain node on dist/, built by `prepare`; tsx and pino-pretty are development-only', () => {
    expect(pkg.scripts.start).toBe('node dist/src/main.js');
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.dependencies).not.toHaveProperty('pino-pretty');
    expect(pkg.devDependencies).toHaveProperty('tsx');
    expect(pkg.engines.node).toBe('>=20.18.1');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('dist/');
  });

  it('the compiled service starts under plain node', async () => {
    // CI's `npm ci` ran `prepare`; a checkout where nobody built yet builds here.
    if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'dvb-dist-'));
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, PORT: '0', PROVIDER: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(child);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not started within 60 s:\n${output()}`)), 60_000);
        child.stdout.on('data', () => {
          if (output().includes('"service started"')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', () => reject(new Error(`exited:\n${output()}`)));
      });
      expect(output()).not.toMatch(/tsx|\.ts:\d+/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(child.exitCode).toBe(0);
  }, 180_000);
});
