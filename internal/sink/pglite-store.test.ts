import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';
import { defineStoreContract } from '../../test/contracts/store-contract.js';
import { createPgliteStore } from './pglite-store.js';

// Starting PGlite compiles PostgreSQL's WebAssembly and runs initdb (seconds, tens of them on a
// loaded machine), so the tests share one database and each gets a fresh schema, as the
// PostgreSQL tests do.
let database: PGlite;
let n = 0;
beforeAll(async () => {
  database = await PGlite.create();
}, 120_000);
afterAll(async () => {
  await database?.close();
});

defineStoreContract('pglite', async () => {
  const store = await createPgliteStore({ database, schema: `test_${++n}` });
  return { store, reopen: async () => store.share(), close: () => store.close() };
});
