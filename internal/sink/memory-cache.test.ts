import { defineCacheContract } from '../../test/contracts/cache-contract.js';
import { createMemoryCache } from './memory-cache.js';

let n = 0;
defineCacheContract('memory', async () => {
  const cache = createMemoryCache();
  return { cache, fresh: (prefix) => `${prefix}${++n}`, close: () => cache.close() };
});
