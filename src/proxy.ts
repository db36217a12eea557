/**
 * Outbound HTTP through the operator's proxy: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their lower-case
 * forms), each client through the mechanism it supports:
 * - Ark, the Doubao web client and the downloads of users' images from Telegram and Discord (undici 7): an undici
 *   EnvHttpProxyAgent as their dispatcher (`proxyAgent`);
 * - Doubao's headless Chromium: Playwright's `proxy` launch option, NO_PROXY as its bypass list (`browserProxy`);
 * - grammY (node-fetch, which takes an `http.Agent`): a CONNECT tunnel agent (`tunnelAgentFor`);
 * - discord.js REST: its `rest.agent` option, a ProxyAgent built from the undici discord.js itself bundles
 *   (`discordRestAgent`): an agent of another undici version breaks its multipart uploads.
 * Never undici's global dispatcher, for the same reason. The Discord gateway is not proxied: the installed
 * @discordjs/ws (1.2.x) opens it with the `ws` package's WebSocket and passes it no agent, and offers no option to
 * give it one or another WebSocket class (see docs/discord.md).
 */
import { Agent, type ClientRequestArgs, request } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { RESTOptions } from 'discord.js';
import { EnvHttpProxyAgent } from 'undici';
import type { Config } from './config.js';

const agents = new WeakMap<Config, EnvHttpProxyAgent>();

/** The proxy agent the configuration asks for (one per configuration, shared), or undefined when no proxy is set. */
export function proxyAgent(config: Config): EnvHttpProxyAgent | undefined {
  const { HTTPS_PROXY: httpsProxy, HTTP_PROXY: httpProxy, NO_PROXY: noProxy } = config;
  if (!httpsProxy && !httpProxy) return undefined;
  const known = agents.get(config);
  if (known) return known;
  const agent = new EnvHttpProxyAgent({
    ...(httpProxy && { httpProxy }),
    ...(httpsProxy && { httpsProxy }),
    ...(noProxy && { noProxy }),
  });
  agents.set(config, agent);
  return agent;
}

type ProxyConfig = Pick<Config, 'HTTPS_PROXY' | 'HTTP_PROXY' | 'NO_PROXY'>;

/** Playwright's proxy launch option (server, bypass list, credentials), or undefined when no proxy is set. */
export interface BrowserProxy {
  server: string;
  bypass?: string;
  username?: string;
  password?: string;
}

/**
 * The proxy for a launched Chromium: HTTPS_PROXY (else HTTP_PROXY) for every scheme, NO_PROXY's hosts as its bypass
 * list (`*` → no proxy at all). Chromium itself never proxies loopback addresses.
 */
export function browserProxy(config: ProxyConfig): BrowserProxy | undefined {
  const proxy = config.HTTPS_PROXY ?? config.HTTP_PROXY;
  const bypass = (config.NO_PROXY ?? '').split(/[\s,]+/).filter(Boolean);
  if (!proxy || bypass.includes('*')) return undefined;
  const url = new URL(proxy);
  const credentials = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : {};
  return {
    server: `${url.protocol}//${url.host}`,
    ...(bypass.length > 0 && { bypass: bypass.join(',') }),
    ...credentials,
  };
}

/**
 * The `rest.agent` of a discord.js Client whose API is `apiBase`: a ProxyAgent of the undici that discord.js's REST
 * client runs (its own copy, resolved from discord.js's folder), so uploads keep working; undefined when no proxy
 * applies (none set, or NO_PROXY exempts the host). Not that undici's EnvHttpProxyAgent: it is experimental there
 * and warns on stderr at start. Every REST call goes to `apiBase`'s host, so NO_PROXY is checked once here.
 */
export function discordRestAgent(config: ProxyConfig, apiBase: string): RESTOptions['agent'] | undefined {
  const url = new URL(apiBase);
  const proxy = url.protocol === 'https:' ? config.HTTPS_PROXY : (config.HTTP_PROXY ?? config.HTTPS_PROXY);
  if (!proxy || exempt(url, config.NO_PROXY)) return undefined;
  const fromDiscord = createRequire(createRequire(import.meta.url).resolve('discord.js'));
  const fromRest = createRequire(fromDiscord.resolve('@discordjs/rest'));
  const undici = fromRest('undici') as { ProxyAgent: new (uri: string) => RESTOptions['agent'] };
  return new undici.ProxyAgent(proxy);
}

/** The proxies in use, for the log: a URL's user and password are left out. */
export function describeProxies(config: Config): Record<string, string> {
  const safe = (url: string) => {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  };
  return {
    ...(config.HTTPS_PROXY && { https: safe(config.HTTPS_PROXY) }),
    ...(config.HTTP_PROXY && { http: safe(config.HTTP_PROXY) }),
    ...(config.NO_PROXY && { noProxy: config.NO_PROXY }),
  };
}

/** Whether NO_PROXY (`host`, `.domain`, `*`, with or without `:port`) exempts `url`. */
function exempt(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return noProxy.split(/[\s,]+/).some((entry) => {
    if (entry === '*') return true;
    const [name, port] = entry.replace(/^\*?\./, '.').split(':');
    if (port && port !== url.port) return false;
    return name!.startsWith('.') ? host.endsWith(name!) : host === name;
  });
}

/**
 * An `http.Agent` that reaches `target`'s origin through a CONNECT tunnel of the configured proxy (TLS inside the
 * tunnel for https), for clients that take an agent (grammY's node-fetch); undefined when no proxy applies.
 */
export function tunnelAgentFor(config: Config, target: string): Agent | undefined {
  const url = new URL(target);
  const secure = url.protocol === 'https:';
  const proxy = secure ? config.HTTPS_PROXY : (config.HTTP_PROXY ?? config.HTTPS_PROXY);
  if (!proxy || exempt(url, config.NO_PROXY)) return undefined;
  return new TunnelAgent(new URL(proxy), secure);
}

class TunnelAgent extends Agent {
  readonly #proxy: URL;
  readonly #secure: boolean;

  constructor(proxy: URL, secure: boolean) {
    super({ keepAlive: true });
    this.#proxy = proxy;
    this.#secure = secure;
    // Node checks a request's protocol against its agent's: this agent serves https requests too.
    (this as unknown as { protocol: string }).protocol = secure ? 'https:' : 'http:';
  }

  /** Node's Agent accepts a connection given later through the callback (hence no return value). */
  override createConnection(
    options: ClientRequestArgs & { servername?: string },
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    const done = callback ?? (() => {});
    const target = `${options.host}:${options.port}`;
    const auth = this.#proxy.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(this.#proxy.username)}:${decodeURIComponent(this.#proxy.password)}`).toString('base64')}`
      : undefined;
    const tunnel = request({
      host: this.#proxy.hostname,
      port: this.#proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth && { 'proxy-authorization': auth }) },
    });
    tunnel.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy refused a tunnel to ${target} (HTTP ${res.statusCode})`), socket);
        return;
      }
      const servername = options.servername || options.host;
      done(null, this.#secure ? tlsConnect({ socket, ...(servername && { servername }) }) : socket);
    });
    // Node's Agent ignores the stream of a failed connection.
    tunnel.once('error', (error) => done(error, undefined as never));
    tunnel.end();
    return undefined;
  }
}
