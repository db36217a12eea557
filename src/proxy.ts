/**
 * Outbound HTTP through the operator's proxy: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their lower-case
 * forms) give an undici EnvHttpProxyAgent. main.ts makes it undici's global dispatcher, which every undici
 * `request` without its own dispatcher uses (the Doubao web client, discord.js REST, Node's `fetch`); the Ark client
 * gets it as its dispatcher. Not covered yet: grammY (node-fetch, which needs an http.Agent that tunnels) and the
 * Discord gateway's WebSocket.
 */
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
