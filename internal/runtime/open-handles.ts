import { Socket } from 'node:net';

/**
 * What keeps this process alive, for the line a process writes when it has to exit with handles
 * still open: each kind of active resource (process.getActiveResourcesInfo()) with its count and,
 * for TCP sockets, the remote ends, so that a lingering client can be told from the log by its
 * server's port. Example: `TCPSocketWrap x2 (127.0.0.1:9092, 127.0.0.1:9092), Timeout x1`.
 */
export function describeOpenHandles(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const peers = socketPeers();
  const parts = [...counts].map(([kind, n]) => {
    const base = `${kind} x${n}`;
    return kind === 'TCPSocketWrap' && peers.length > 0 ? `${base} (${peers.join(', ')})` : base;
  });
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** `host:port` of every connected TCP socket, from Node's undocumented handle list when it has one. */
function socketPeers(): string[] {
  const list = (process as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  if (typeof list !== 'function') return [];
  const out: string[] = [];
  for (const h of list.call(process)) {
    if (h instanceof Socket && h.remotePort !== undefined) out.push(`${h.remoteAddress}:${h.remotePort}`);
  }
  return out.sort();
}
