import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstTlsBroker } from './kafka-tls-probe.js';

describe('firstTlsBroker', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('gives no verdict for a plain-text port, a closed port or an address without a port', async () => {
    // A plain-text server that answers the ClientHello with bytes that are not TLS, as a plain
    // Kafka listener would, and closes.
    server = createServer((s) => s.end(Buffer.from([0, 0, 0, 4, 0, 0, 0, 1])));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect(await firstTlsBroker([`127.0.0.1:${port}`, '127.0.0.1:1', 'localhost'], 1_000)).toBeUndefined();
  });
});
