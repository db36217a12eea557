/**
 * Outbound HTTP through the operator's proxy: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their lower-case
 * forms). The Ark client gets an undici EnvHttpProxyAgent as its dispatcher; grammY fetches with node-fetch, which
 * takes an `http.Agent`: `tunnelAgentFor` gives one that opens a CONNECT tunnel through the proxy.
 * Not undici's global dispatcher: discord.js brings its own undici, and its multipart uploads fail when sent
 * through an agent of ours (another undici version), so Discord (REST and gateway) and the Doubao web client are
 * not proxied yet.
 */
import { Agent, type ClientRequestArgs, request } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { EnvHttpProxyAgent } from 'undici';
import type { Config } from './config.js';

/** The proxy agent the configuration asks for, or undefined when no proxy is set. */
export function proxyAgent(config: Config): EnvHttpProxyAgent | undefined {
  const { HTTPS_PROXY: httpsProxy, HTTP_PROXY: httpProxy, NO_PROXY: noProxy } = config;
  if (!httpsProxy && !httpProxy) return undefined;
  return new EnvHttpProxyAgent({
    ...(httpProxy && { httpProxy }),
    ...(httpsProxy && { httpsProxy }),
    ...(noProxy && { noProxy }),
  });
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
