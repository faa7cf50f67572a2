import { defineCacheContract } from '../../test/contracts/cache-contract.js';
import { MemoryCache } from './memory-cache.js';

let n = 0;
defineCacheContract('memory', async () => {
  const cache = new MemoryCache();
  return { cache, fresh: (prefix) => `${prefix}${++n}`, close: () => cache.close() };
});
