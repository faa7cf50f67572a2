import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';

describe('postgres (real server from test/infra/postgres.sh)', () => {
  let pool: pg.Pool;
  const schema = freshName('it_pg').replaceAll('-', '_');

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: endpoint('DATABASE_URL'), max: 4 });
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(
      `CREATE TABLE ${schema}.account (id text PRIMARY KEY, balance numeric NOT NULL CHECK (balance >= 0))`,
    );
    await pool.query(`INSERT INTO ${schema}.account VALUES ('a', 100), ('b', 0)`);
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  async function balances(): Promise<Record<string, string>> {
    const { rows } = await pool.query<{ id: string; balance: string }>(
      `SELECT id, balance::text AS balance FROM ${schema}.account ORDER BY id`,
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.balance]));
  }

  async function transfer(amount: string): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE ${schema}.account SET balance = balance + $1 WHERE id = 'b'`, [amount]);
      await client.query(`UPDATE ${schema}.account SET balance = balance - $1 WHERE id = 'a'`, [amount]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  it('commits both statements of a transaction', async () => {
    await transfer('30.5');
    expect(await balances()).toEqual({ a: '69.5', b: '30.5' });
  });

  it('rolls back the first statement when the second one fails', async () => {
    // Debiting more than `a` holds violates the CHECK after `b` was already credited.
    await expect(transfer('1000')).rejects.toMatchObject({ code: '23514' });
    expect(await balances()).toEqual({ a: '69.5', b: '30.5' });
  });

  it('isolates an open transaction from other sessions until it commits', async () => {
    const writer = await pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO ${schema}.account VALUES ('c', 1)`);
      expect(await balances()).not.toHaveProperty('c');
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    expect(await balances()).toHaveProperty('c', '1');
  });
});
