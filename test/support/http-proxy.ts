/**
 * A local HTTP proxy for tests, as operators run one (squid, Clash, …): CONNECT tunnels (what undici's proxy agents
 * and Chromium use for https) and plain forwarded requests in absolute form (what Chromium sends for http), each
 * target recorded, and the request lines of plain HTTP carried inside tunnels. Host names ending in `.test` are reached on 127.0.0.1, so a client can only reach a fake under
 * such a name through this proxy: a request that bypassed it would not even resolve.
 */
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';

export interface TestProxy {
  url: string;
  /** `host:port` of each CONNECT tunnel. */
  tunnels: string[];
  /** `host:port` of each forwarded plain request. */
  forwarded: string[];
  /** `METHOD /path` of each plain-HTTP request seen inside a tunnel (an https tunnel shows none). */
  tunnelled: string[];
  /** Every target, tunnelled or forwarded. */
  targets(): string[];
  close(): Promise<void>;
}

const address = (host: string) => (host.endsWith('.test') ? '127.0.0.1' : host);

export async function startProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const tunnelled: string[] = [];
  const REQUEST_LINE = /(?:^|\r\n)(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;
  const server: Server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(String(req.url));
    } catch {
      res.writeHead(400).end('absolute-form requests only');
      return;
    }
    forwarded.push(target.host);
    const upstream = request(
      {
        host: address(target.hostname),
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, client, head) => {
    tunnels.push(String(req.url));
    const [host, port] = String(req.url).split(':');
    const upstream = connect(Number(port), address(host!), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) tunnelled.push(`${m[1]} ${m[2]}`);
      });
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    tunnelled,
    targets: () => [...tunnels, ...forwarded],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
