import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { arkOptionsFromConfig, createArkProvider } from '../src/providers/ark/index.js';
import { describeProxies } from '../src/proxy.js';
import { type ArkFake, startArkFake } from './fakes/ark/index.js';
import { startTelegramFake } from './fakes/telegram/index.js';
import { startProxy } from './support/http-proxy.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function arkThrough(env: Record<string, string>): Promise<{ fake: ArkFake; started: boolean }> {
  const fake = await startArkFake({ queuedMs: 50, runningMs: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'dvb-proxy-'));
  cleanups.push(
    () => fake.close(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const config = loadConfig({
    DATA_DIR: dir,
    PROVIDER: 'ark',
    ARK_API_KEY: fake.knobs.apiKey,
    ARK_BASE_URL: fake.apiUrl,
    DOUBAO_SESSIONS_FILE: join(dir, 'none.json'),
    ...env,
  });
  const provider = createArkProvider(arkOptionsFromConfig(config));
  cleanups.push(() => provider.close?.());
  const ref = await provider.start({ prompt: 'through the proxy', guest: false });
  return { fake, started: !!ref.id };
}

/** The service with HTTP_PROXY set (and `env`) and a fake Telegram, once its bot polls. */
async function telegramPollingBehindProxy(env: Record<string, string> = {}) {
  const proxy = await startProxy();
  const fake = await startTelegramFake();
  const dir = mkdtempSync(join(tmpdir(), 'dvb-proxy-'));
  const service = spawnService(dir, {
    HTTP_PROXY: proxy.url,
    ...env,
    TELEGRAM_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
  });
  cleanups.push(
    () => proxy.close(),
    () => fake.close(),
    () => rmSync(dir, { recursive: true, force: true }),
    async () => void (await service.terminate()),
  );
  await service.waitForLog(/^Telegram bot polling$/, 30_000);
  return { proxy, fake };
}

describe('#14 HTTPS_PROXY / HTTP_PROXY / NO_PROXY', () => {
  it('Ark requests go through the proxy (lower-case http_proxy too)', async () => {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const { fake, started } = await arkThrough({ http_proxy: proxy.url });
    expect(started).toBe(true);
    expect(proxy.tunnels).toContain(new URL(fake.apiUrl).host);
  });

  it('NO_PROXY sends a host past the proxy', async () => {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const { started } = await arkThrough({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect(started).toBe(true);
    expect(proxy.tunnels).toEqual([]);
  });

  it('the service says what uses the proxy, without the password', async () => {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const dir = mkdtempSync(join(tmpdir(), 'dvb-proxy-'));
    const withCredentials = proxy.url.replace('http://', 'http://user:s3cret@');
    const service: ServiceProcess = spawnService(dir, { HTTPS_PROXY: withCredentials });
    cleanups.push(
      () => void service.terminate(),
      () => rmSync(dir, { recursive: true, force: true }),
    );
    const line = await service.waitForLog(/^outbound HTTP goes through the configured proxy$/);
    expect(line).toMatchObject({
      proxies: { https: `${proxy.url}/` },
      through: ['ark', 'doubao', 'telegram', 'discord REST'],
    });
    expect(service.output()).not.toContain('s3cret');
  });

  it('the Telegram bot (grammY) polls through the proxy', async () => {
    const { proxy, fake } = await telegramPollingBehindProxy();
    expect(proxy.tunnels).toContain(new URL(fake.apiRoot).host);
  });

  it('NO_PROXY keeps the Telegram bot off the proxy', async () => {
    const { proxy } = await telegramPollingBehindProxy({ NO_PROXY: 'localhost,127.0.0.1' });
    expect(proxy.tunnels).toEqual([]);
  });

  it('describes proxies without their credentials', () => {
    const config = loadConfig({ HTTPS_PROXY: 'http://u:p@proxy.example:3128', NO_PROXY: 'localhost' });
    expect(describeProxies(config)).toEqual({ https: 'http://proxy.example:3128/', noProxy: 'localhost' });
  });
});
