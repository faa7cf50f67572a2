import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeOpenHandles } from './open-handles.js';

describe('describeOpenHandles', () => {
  it("names each kind of open resource and a socket's remote port", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const client: Socket = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => r(s));
    });
    const timer = setInterval(() => {}, 60_000);
    try {
      const text = describeOpenHandles();
      expect(text).toMatch(/TCPSocketWrap x\d+ \([^)]*127\.0\.0\.1:\d+/);
      expect(text).toContain(`127.0.0.1:${port}`);
      expect(text).toContain('TCPServerWrap x1');
      expect(text).toMatch(/Timeout x\d+/);
    } finally {
      clearInterval(timer);
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
