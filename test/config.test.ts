import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from '../src/config.js';

const NO_SESSIONS = { DOUBAO_SESSIONS_FILE: '/nonexistent/session.json' };

describe('configuration', () => {
  it('has the seed defaults and runs offline on the local provider', () => {
    const config = loadConfig(NO_SESSIONS);
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8000,
      PUBLIC_BASE_URL: 'http://127.0.0.1:8000',
      DATA_DIR: './data',
      PROVIDER: 'local',
      providerDefaulted: true,
      FIRST_ATTEMPT_DELAY_S: 180,
      RETRY_INTERVAL_S: 180,
      MAX_ATTEMPTS: 5,
      MAX_IMAGE_BYTES: 10 * 1024 * 1024,
      MAX_PROMPT_CHARS: 2000,
      LOCAL_RENDER_S: 0,
      USER_MAX_ACTIVE: 2,
      USER_DAILY_LIMIT: 20,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('picks ark when only an Ark key is configured', () => {
    expect(loadConfig({ ...NO_SESSIONS, ARK_API_KEY: 'k' }).PROVIDER).toBe('ark');
  });

  it('names the variable and the value of every bad setting', () => {
    const error = (() => {
      try {
        loadConfig({ ...NO_SESSIONS, MAX_ATTEMPTS: 'abc', PORT: '70000', PROVIDER: 'openai' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error!.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('Invalid MAX_ATTEMPTS'))).toContain('`abc`');
    expect(lines.find((l) => l.startsWith('Invalid PORT'))).toContain('`70000`');
    expect(lines.find((l) => l.startsWith('Invalid PROVIDER'))).toContain('`openai`');
  });

  it('refuses durations that would overflow Node timers (over 24.8 days) with a clear message', () => {
    const tooLong = { RETRY_INTERVAL_S: '2147484', ATTEMPT_TIMEOUT_S: '1e9', DOUBAO_MIN_SPACING_MS: '2147483648' };
    const error = (() => {
      try {
        loadConfig({ ...NO_SESSIONS, ...tooLong });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error!.message.split('\n');
    expect(lines).toHaveLength(3);
    for (const name of Object.keys(tooLong)) {
      expect(lines.find((l) => l.startsWith(`Invalid ${name}`))).toMatch(/at most .*24\.8 days.*Node timer/);
    }
    expect(loadConfig({ ...NO_SESSIONS, RETRY_INTERVAL_S: '2147483' }).RETRY_INTERVAL_S).toBe(2147483);
  });

  it('requires API_TOKEN when the API listens beyond loopback', () => {
    expect(() => loadConfig({ ...NO_SESSIONS, HOST: '0.0.0.0' })).toThrow(/API_TOKEN: required when HOST/);
    expect(loadConfig({ ...NO_SESSIONS, HOST: '0.0.0.0', API_TOKEN: 'a-token-of-16-ch' }).HOST).toBe('0.0.0.0');
    expect(['127.0.0.1', '127.8.0.1', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', 'example.com'].some(isLoopbackHost)).toBe(false);
  });

  it('stops `npm start` with one clear line, not a stack trace', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { ...process.env, ...NO_SESSIONS, MAX_ATTEMPTS: 'zero' },
        stdio: 'pipe',
      });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr.trim()).toMatch(/^Invalid MAX_ATTEMPTS: .*`zero`/);
    expect(stderr).not.toContain('    at ');
  });
});
