import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * An HTTP proxy that serves CONNECT alone (what HTTPS_PROXY clients use for TLS), counting the
 * tunnels it opens per `host:port`. `hosts` maps names only the proxy can resolve to addresses,
 * so a client that reaches such a name at all reached it through the proxy.
 */
export interface ConnectProxy {
  readonly url: string;
  /** Tunnels opened, by the `host:port` the client asked for. */
  readonly tunnels: ReadonlyMap<string, number>;
  /** Requests that were not CONNECT (a client sending plain HTTP to the proxy). */
  readonly plainRequests: number;
  close(): Promise<void>;
}

export async function startConnectProxy(hosts: Readonly<Record<string, string>> = {}): Promise<ConnectProxy> {
  const tunnels = new Map<string, number>();
  const sockets = new Set<Socket>();
  let plainRequests = 0;
  const server: Server = createServer((_req, res) => {
    plainRequests++;
    res.writeHead(405).end();
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const m = /^(.+):(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const [, host = '', port = ''] = m;
    tunnels.set(target, (tunnels.get(target) ?? 0) + 1);
    const upstream = connect(Number(port), hosts[host] ?? host);
    sockets.add(client).add(upstream);
    const forget = (s: Socket) => () => sockets.delete(s);
    client.on('close', forget(client));
    upstream.on('close', forget(upstream));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    get plainRequests() {
      return plainRequests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
