import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { captureSession } from '../src/providers/doubao/session-capture.js';
import { runSessionCommand } from '../src/providers/doubao/session-command.js';
import { parseSessionsFile } from '../src/providers/doubao/session-file.js';
import { sessionIdOf } from '../src/providers/doubao/session-pool.js';
import { HOME_PAGE_CLIENT } from './fakes/doubao/chat-page.js';
import { startDoubaoFake } from './fakes/doubao/index.js';
import { fakeSession } from './fakes/doubao/sessions.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const COOKIE = 'sessionid=abc123secret; sid_tt=def456; ttwid=1%7Cxyz';
const IDS = [
  '--device-id',
  '111',
  '--tea-uuid',
  '222',
  '--web-id',
  '333',
  '--room-id',
  '444',
  '--x-flow-trace',
  '04-a-b-01',
];

describe('npm run session', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-session-'));
    return join(dir, 'session.json');
  };
  const run = async (argv: string[], sessionsFile: string, baseUrl = 'http://127.0.0.1:9') => {
    const lines: string[] = [];
    const code = await runSessionCommand(argv, {
      sessionsFile,
      chromiumPath: CHROMIUM,
      baseUrl,
      print: (l) => lines.push(l),
    });
    return { code, output: lines.join('\n') };
  };

  it('imports a session from a cookie header and the five ids, as `npm run session -- --import` (real script)', async () => {
    const file = fresh();
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'src/providers/doubao/session-cli.ts', '--import', `cookie: ${COOKIE}`, ...IDS],
      {
        env: { ...process.env, DOUBAO_SESSIONS_FILE: file },
      },
    );
    expect(stdout).toContain(`Session ${sessionIdOf({ device_id: '111' })} (logged in) saved to ${file}`);
    expect(stdout).not.toContain('abc123secret');
    expect(parseSessionsFile(readFileSync(file, 'utf8'), file)).toEqual([
      { cookie: COOKIE, device_id: '111', tea_uuid: '222', web_id: '333', room_id: '444', x_flow_trace: '04-a-b-01' },
    ]);
  });

  it('appends to an existing file in its own shape and replaces a session with the same device id', async () => {
    const file = fresh();
    const guest = fakeSession('guest');
    writeFileSync(file, JSON.stringify({ guest_sessions: [guest], user_sessions: [] }));
    expect((await run(['--import', COOKIE, ...IDS], file)).code).toBe(0);
    expect((await run(['--import', `${COOKIE}; extra=1`, ...IDS], file)).code).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.guest_sessions).toEqual([guest]);
    expect(saved.user_sessions).toHaveLength(1);
    expect(saved.user_sessions[0].cookie).toBe(`${COOKIE}; extra=1`);
  });

  it('names the missing flags and writes nothing', async () => {
    const file = fresh();
    const result = await run(['--import', COOKIE, '--device-id', '111'], file);
    expect(result.code).toBe(2);
    expect(result.output).toContain('missing --tea-uuid, --web-id, --room-id, --x-flow-trace');
    expect(() => readFileSync(file)).toThrow();
  });

  it('captures the six fields from the first chat request of a (scripted) browser login', async () => {
    const fake = await startDoubaoFake();
    try {
      const session = await captureSession({
        chromiumPath: CHROMIUM,
        baseUrl: fake.baseUrl,
        headless: true,
        timeoutMs: 15_000,
      });
      expect(session).toMatchObject({ ...HOME_PAGE_CLIENT, room_id: expect.stringMatching(/^\d{19}$/) });
      expect(session.cookie).toMatch(/^sessionid=home[0-9a-f]+$/);
      expect(fake.conversations.has(session.room_id)).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
