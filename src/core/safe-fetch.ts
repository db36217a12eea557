/**
 * Downloads a URL with a size cap, a time limit and (unless allowed) a refusal of private, loopback and
 * link-local addresses, checked on the address actually connected to, so a DNS answer cannot smuggle a request
 * into the local network. Redirects are followed by hand, each hop checked again. The same guard checks a URL
 * given now for later (`checkPublicUrl`) and sends a POST to it then (`postGuarded`, for callbacks).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent, type Dispatcher, request } from 'undici';
import { InvalidInput, UpstreamError } from './errors.js';

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

/** True for addresses that belong to this machine or its private network. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  return family === 0 ? true : PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad)
      return callback(Object.assign(new Error(`refused private address ${bad.address}`), { code: 'EPRIVATE' }), []);
    const all = (options as { all?: boolean }).all;
    if (all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

const publicAgent = new Agent({ connect: { lookup: publicOnlyLookup as never } });
const anyAgent = new Agent();

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Allow loopback and private addresses (tests, self-hosted upstreams). */
  allowPrivate?: boolean;
  /** When set, only these host names (lower case) may be contacted, on every hop. */
  allowedHosts?: ReadonlySet<string>;
  /** What the thing is, for error messages ("image_url", "the video"). */
  what?: string;
  /** When set, an answer that declares a content type not matching it is refused (transient: a wrong page). */
  acceptType?: RegExp;
  /**
   * Sends the request through this dispatcher (the configured proxy) rather than directly. The proxy then resolves
   * and connects, so the address check cannot apply: give it only with `allowedHosts` pinning a known host.
   */
  dispatcher?: Dispatcher;
}

/**
 * Fetches `url` fully into memory.
 * @throws InvalidInput for a URL that is refused or a body over `maxBytes` (`TOO_LARGE`);
 *   UpstreamError (retryable) for timeouts, network failures and non-2xx answers.
 */
export async function downloadLimited(url: string, options: DownloadOptions): Promise<Buffer> {
  const what = options.what ?? 'the file';
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current = url;
  for (let hop = 0; hop <= 3; hop++) {
    const target = checkUrl(current, options, what);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      const dispatcher = options.dispatcher ?? (options.allowPrivate ? anyAgent : publicAgent);
      res = await request(target, { signal, dispatcher });
    } catch (error) {
      if (isPrivateRefusal(error)) {
        throw new InvalidInput(`${what} points to a private or local address, which is not allowed`);
      }
      throw new UpstreamError(`could not download ${what}: ${describe(error)}`, true, { cause: error });
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      await res.body.dump();
      current = new URL(String(res.headers.location), target).href;
      continue;
    }
    if (res.statusCode >= 400) {
      await res.body.dump();
      // Rate limits and timeouts pass like server errors; other 4xx answers will not change by asking again.
      const transient = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429;
      throw new UpstreamError(`could not download ${what}: HTTP ${res.statusCode}`, transient);
    }
    const type = String(res.headers['content-type'] ?? '');
    if (options.acceptType && type && !options.acceptType.test(type)) {
      await res.body.dump();
      throw new UpstreamError(`could not download ${what}: the server sent ${type.split(';')[0]}`, true);
    }
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > options.maxBytes) {
      await res.body.dump();
      throw tooLarge(what, options.maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > options.maxBytes) {
          res.body.destroy();
          throw tooLarge(what, options.maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof InvalidInput) throw error;
      throw new UpstreamError(`could not download ${what}: ${describe(error)}`, true, { cause: error });
    }
    return Buffer.concat(chunks);
  }
  throw new UpstreamError(`could not download ${what}: too many redirects`, false);
}

export interface GuardOptions {
  /** Allow loopback and private addresses (tests, self-hosted receivers). */
  allowPrivate?: boolean;
  /** What the URL is, for error messages ("callback_url"). */
  what: string;
}

/**
 * Checks a URL given now and used later: http(s), and (unless allowed) a host whose every DNS address is public.
 * The address is checked again when the URL is used, as DNS may answer differently then.
 * @throws InvalidInput saying what is wrong (not a URL, not http(s), private, a host that does not resolve).
 */
export async function checkPublicUrl(raw: string, options: GuardOptions): Promise<URL> {
  const url = checkUrl(raw, options, options.what);
  if (options.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return url;
  const addresses = await dnsLookupAsync(host, { all: true }).catch(() => {
    throw new InvalidInput(`${options.what}: the host ${host} could not be found (DNS)`);
  });
  if (addresses.some((a) => isPrivateAddress(a.address))) {
    throw new InvalidInput(`${options.what} points to a private or local address, which is not allowed`);
  }
  return url;
}

/**
 * POSTs `body` to `url` through the same guard as downloads, without following redirects (a redirect is an
 * answer like any other), and returns the status code; the answer's body is read and dropped.
 * @throws InvalidInput when the URL is refused (also when its host now resolves to a private address);
 *   UpstreamError (retryable) when the receiver cannot be reached or does not answer within `timeoutMs`.
 */
export async function postGuarded(
  raw: string,
  body: string,
  headers: Record<string, string>,
  options: GuardOptions & { timeoutMs: number },
): Promise<number> {
  const target = checkUrl(raw, options, options.what);
  try {
    const res = await request(target, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
      dispatcher: options.allowPrivate ? anyAgent : publicAgent,
    });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    if (isPrivateRefusal(error)) {
      throw new InvalidInput(`${options.what} points to a private or local address, which is not allowed`);
    }
    throw new UpstreamError(`could not reach ${options.what}: ${describe(error)}`, true, { cause: error });
  }
}

function isPrivateRefusal(error: unknown): boolean {
  return (
    (error as { code?: string }).code === 'EPRIVATE' ||
    (error as { cause?: { code?: string } }).cause?.code === 'EPRIVATE'
  );
}

function checkUrl(raw: string, options: Pick<DownloadOptions, 'allowPrivate' | 'allowedHosts'>, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInput(`${what} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInput(`${what} must be an http(s) URL`);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (options.allowedHosts && !options.allowedHosts.has(host)) {
    throw new InvalidInput(`${what} must come from ${[...options.allowedHosts].join(', ')}`);
  }
  if (!options.allowPrivate && (host === 'localhost' || (isIP(host) && isPrivateAddress(host)))) {
    throw new InvalidInput(`${what} points to a private or local address, which is not allowed`);
  }
  return url;
}

function tooLarge(what: string, maxBytes: number): InvalidInput {
  return new InvalidInput(`${what} is larger than the ${formatBytes(maxBytes)} limit`, 'TOO_LARGE');
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return error instanceof Error ? error.message : String(error);
}

/** "10 MiB", "512 KiB": limits as users read them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
