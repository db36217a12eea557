/**
 * A throw-away PostgreSQL cluster for tests: Debian's server binaries (`/usr/lib/postgresql/<ver>/bin`, or `initdb`
 * and `postgres` on PATH) make a cluster in a temp dir, listening on 127.0.0.1 at a free port and on a unix socket in
 * that dir; the test gets a `DATABASE_URL` and removes everything with `stop()`.
 *
 * PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` system user (made by Debian's
 * package; `nobody` when it is missing) through `setpriv`, with the temp dir handed to that user; a developer who
 * is not root runs them as themself. The server is a child of the test process started with a parent-death signal
 * (`setpriv --pdeathsig`), so a test run killed with SIGKILL does not leave a postmaster behind. Without the binaries,
 * `startPostgres` throws one line saying how to get them: tests that need PostgreSQL fail, never pass silently.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './free-port.js';

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: trust authentication, for tests only. */
  url: string;
  /**
   * A URL of a fresh, empty database of this cluster (one per test that wants a clean slate). `icuLocale` gives it
   * that ICU collation as its default (the cluster's own is C), as an operator's database may have.
   */
  createDatabase(name?: string, options?: { icuLocale?: string }): Promise<string>;
  /** Milliseconds `startPostgres` took (initdb + first connection). */
  startMs: number;
  /** The temp dir holding the cluster's data and its unix socket. */
  dir: string;
  /** The postmaster's process id. */
  pid: number;
  /** Stops the server (fast shutdown, then immediate) and removes the temp dir. */
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH: ' +
  'install them with `sudo apt-get install postgresql` (Debian/Ubuntu; .ci/run does it), then run the tests again';

/** Where to look for the server binaries: Debian's versioned folders, then PATH. */
export interface BinarySearch {
  debianRoot?: string;
  path?: string;
}

/** The directory holding `initdb` and `postgres`, newest Debian version first; undefined when there is none. */
export function findPostgresBin({
  debianRoot: root = '/usr/lib/postgresql',
  path = process.env.PATH ?? '',
}: BinarySearch = {}): string | undefined {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const debian = versions.map((v) => join(root, v, 'bin')).find(hasServer);
  if (debian) return debian;
  for (const dir of path.split(':')) if (dir && hasServer(dir)) return dir;
  return undefined;
}

const hasServer = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));

/** The uid/gid to run the server as when we are root, or undefined when we are not root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const entry = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${name}:`));
    if (entry) {
      const [, , uid, gid] = entry.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

/** The command line that runs `argv` as `user` (and dies with its parent when `pdeath`), via setpriv. */
function asUser(user: { uid: number; gid: number } | undefined, argv: string[], pdeath: boolean): string[] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync);
  if (!setpriv) {
    if (user) throw new Error('running as root needs `setpriv` (util-linux) to start PostgreSQL as another user');
    return argv;
  }
  const ids = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  return [setpriv, ...ids, ...(pdeath ? ['--pdeathsig=SIGQUIT'] : []), '--', ...argv];
}

/** Creates and starts a cluster; throws INSTALL_HINT when the binaries are missing. */
export async function startPostgres(search: BinarySearch = {}): Promise<PostgresCluster> {
  const bin = findPostgresBin(search);
  if (!bin) throw new Error(INSTALL_HINT);
  const started = performance.now();
  sweepStaleClusters();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'dvb-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (argv: string[]) =>
    execFileSync(asUser(user, argv, false)[0]!, asUser(user, argv, false).slice(1), { cwd: dir, stdio: 'pipe' });
  try {
    run([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`initdb failed in ${dir}: ${stderr.trim() || String(error)}`);
  }
  // A port taken between the probe and the bind makes the server exit; another free port is tried.
  let lastLog = '';
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const settings = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: 'off', // a throw-away cluster: durability costs time and buys nothing here
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      shared_buffers: '16MB',
    };
    const argv = [
      join(bin, 'postgres'),
      '-D',
      data,
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ];
    const cmd = asUser(user, argv, true);
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr!.on('data', (chunk) => log.push(String(chunk)));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    if (await ready(url, child)) {
      return {
        url,
        startMs: Math.round(performance.now() - started),
        dir,
        pid: Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
        createDatabase: (name, options) => createDatabase(url, name, options),
        stop: () => stopServer(child, dir),
      };
    }
    lastLog = log.join('');
    await stopServer(child, undefined);
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start in ${dir}: ${lastLog.trim().split('\n').slice(-5).join(' | ')}`);
}

/** Waits until the server answers a query (true), or exits or stays silent for 30 s (false). */
async function ready(url: string, child: ChildProcess): Promise<boolean> {
  let exited = child.exitCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 30_000;
  while (!exited && Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return false;
}

let databases = 0;

async function createDatabase(
  url: string,
  name = `test_${process.pid}_${++databases}`,
  options: { icuLocale?: string } = {},
): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const icu = options.icuLocale
      ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale.replace(/'/g, '')}'`
      : '';
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"${icu}`);
  } finally {
    await client.end();
  }
  return url.replace(/\/[^/]*$/, `/${name}`);
}

/** SIGINT (fast shutdown: clients cut off, clean stop), SIGQUIT after 5 s; then the temp dir goes. */
async function stopServer(child: ChildProcess, dir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * Removes the temp dirs of clusters whose test run was killed (the server died with it, the dir stayed): older than
 * ten minutes and with no live postmaster. A dir being set up right now is younger; one in use has its postmaster.
 */
function sweepStaleClusters(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith('dvb-pg-'))) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < 10 * 60_000) continue;
      const pidFile = join(dir, 'data', 'postmaster.pid');
      if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8').split('\n')[0]))) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another run's dir, or one we may not read: not ours to judge.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * One throw-away cluster for the whole test file: started before its tests, stopped after them. Read `cluster()`
 * inside the tests (it is there once `beforeAll` has run).
 */
export function clusterForFile(): () => PostgresCluster {
  let cluster: PostgresCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => cluster!;
}
