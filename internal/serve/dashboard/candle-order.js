// The server's order of a window's states.

/** Whether `a` is a later state of the same window than `b`. */
export function newer(a, b) {
  if (a.openTime !== b.openTime) return a.openTime > b.openTime;
  if (a.revision !== b.revision) return a.revision > b.revision;
  if (a.closed !== b.closed) return a.closed;
  return a.trades > b.trades;
}
