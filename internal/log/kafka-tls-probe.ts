import { connect } from 'node:tls';

/**
 * The first of `brokers` (host:port) whose port completes a TLS handshake, or undefined.
 *
 * A plain-text client pointed at a TLS listener sees only connections the broker closes, which
 * look like an outage and would be retried for ever. This asks which protocol the port speaks,
 * nothing more: the certificate is not checked and nothing is sent after the handshake. A port
 * that refuses, times out or answers plain text gives no verdict.
 */
export async function firstTlsBroker(brokers: readonly string[], timeoutMs = 3_000): Promise<string | undefined> {
  for (const broker of brokers) {
    if (await speaksTls(broker, timeoutMs)) return broker;
  }
  return undefined;
}

function speaksTls(broker: string, timeoutMs: number): Promise<boolean> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(broker.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (speaks: boolean) => {
      socket.destroy();
      resolve(speaks);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
    socket.once('close', () => done(false));
  });
}
