import { randomUUID } from 'node:crypto';
import { Client, DatabaseError } from 'pg';
import { createDatabase, ensureDatabase, type Knex } from '../src/db/database';
import { compileNamedParameters, definePreparedStatement } from '../src/db/prepared-statement';
import { POSTGRES_URL } from '../../../test/support/infra';
import { dropDatabase } from '../../../test/support/databases';

const NAME = `platform_prepared_test_${process.pid}`;
const URL = `${POSTGRES_URL}/${NAME}`;
/** Statement names must be unique per process, so each test makes its own. */
const unique = (label: string) => `test.${label}.${randomUUID().slice(0, 8)}`;

interface PoolStats {
  numUsed(): number;
  numFree(): number;
}
const pool = (db: Knex) => db.client.pool as PoolStats;

describe('compileNamedParameters', () => {
  it('numbers named parameters in order of first use, the same name always the same $n', () => {
    expect(compileNamedParameters('SELECT :a, :b, :a, :c_2 WHERE x = :b')).toEqual({
      text: 'SELECT $1, $2, $1, $3 WHERE x = $2',
      parameters: ['a', 'b', 'c_2'],
    });
  });

  it('keeps :: casts, also right after a parameter', () => {
    expect(compileNamedParameters('SELECT :seatIds::uuid[], now()::date, (:n)::int, :json::jsonb->>\'k\'')).toEqual({
      text: "SELECT $1::uuid[], now()::date, ($2)::int, $3::jsonb->>'k'",
      parameters: ['seatIds', 'n', 'json'],
    });
  });

  it('leaves string literals, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = [
      "SELECT ':no', 'it''s :no', E'\\' :no', \"col:no\", $$ :no $$, $tag$ :no $tag$ -- :no",
      '/* :no /* nested :no */ :no */ :yes',
    ].join('\n');
    const { text, parameters } = compileNamedParameters(sql);
    expect(parameters).toEqual(['yes']);
    expect(text).toBe(sql.replace(':yes', '$1'));
  });

  it('refuses $n and ? placeholders and unterminated quotes', () => {
    expect(() => compileNamedParameters('SELECT $1')).toThrow(/not \$n/);
    expect(() => compileNamedParameters('SELECT ?')).toThrow(/not \?/);
    expect(() => compileNamedParameters("SELECT 'open")).toThrow(/Unterminated string/);
  });
});

describe('definePreparedStatement', () => {
  it('refuses a second definition of a name with different SQL, accepts the same SQL again', () => {
    const name = unique('dup');
    definePreparedStatement(name, 'SELECT :a::int AS a');
    expect(() => definePreparedStatement(name, 'SELECT :a::int AS a')).not.toThrow();
    expect(() => definePreparedStatement(name, 'SELECT :a::int + 1 AS a')).toThrow(/already defined with different SQL/);
  });

  it('refuses names Postgres would truncate or that are not plain identifiers', () => {
    expect(() => definePreparedStatement('x'.repeat(64), 'SELECT 1')).toThrow(/Invalid prepared statement name/);
    expect(() => definePreparedStatement('bad"name', 'SELECT 1')).toThrow(/Invalid prepared statement name/);
  });
});

describe('running prepared statements on knex', () => {
  let db: Knex;
  beforeAll(async () => {
    await dropDatabase(NAME);
    await ensureDatabase(URL);
    db = createDatabase({ url: URL, poolMax: 2 });
    await db.raw('CREATE TABLE items (id uuid PRIMARY KEY, label text NOT NULL)');
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(NAME);
  });
  afterEach(async () => {
    await db('items').del();
    expect(pool(db).numUsed()).toBe(0);
  });

  it('binds named parameters (casts, repeats) and returns the pg result; Postgres keeps it as a prepared statement', async () => {
    const statement = definePreparedStatement<{ n: number; ids: string[] }, { twice: number; count: number }>(
      unique('bind'),
      'SELECT (:n::int + :n::int) AS twice, cardinality(:ids::uuid[]) AS count',
    );
    const result = await statement.run(db, { n: 21, ids: [randomUUID(), randomUUID()] });
    expect(result.rows).toEqual([{ twice: 42, count: 2 }]);
    expect(result.rowCount).toBe(1);

    // On one connection (a transaction's), the second run reuses what the first prepared.
    await db.transaction(async (trx) => {
      await statement.run(trx, { n: 1, ids: [] });
      await statement.run(trx, { n: 2, ids: [] });
      const { rows } = await trx.raw('SELECT statement FROM pg_prepared_statements WHERE name = ?', [statement.name]);
      expect(rows).toEqual([{ statement: statement.text }]);
    });
  });

  it('refuses a missing or an unknown parameter before touching the database', async () => {
    const statement = definePreparedStatement<{ a: number }>(unique('params'), 'SELECT :a::int');
    await expect(statement.run(db, {} as { a: number })).rejects.toThrow(/no value for :a/);
    await expect(statement.run(db, { a: 1, b: 2 } as { a: number })).rejects.toThrow(/has no parameter :b/);
  });

  it('runs on the transaction connection: sees its uncommitted rows, is invisible outside, and rolls back with it', async () => {
    const insert = definePreparedStatement<{ id: string; label: string }>(
      unique('tx-insert'),
      'INSERT INTO items (id, label) VALUES (:id, :label)',
    );
    const find = definePreparedStatement<{ id: string }, { label: string }>(unique('tx-find'), 'SELECT label FROM items WHERE id = :id');
    const knexRow = randomUUID();
    const preparedRow = randomUUID();

    await expect(
      db.transaction(async (trx) => {
        await trx('items').insert({ id: knexRow, label: 'by knex' });
        expect((await find.run(trx, { id: knexRow })).rows).toEqual([{ label: 'by knex' }]);
        expect((await insert.run(trx, { id: preparedRow, label: 'prepared' })).rowCount).toBe(1);
        expect(await trx('items').where({ id: preparedRow }).first()).toEqual({ id: preparedRow, label: 'prepared' });
        // Another connection of the pool does not see the transaction's rows.
        expect((await find.run(db, { id: knexRow })).rows).toEqual([]);
        expect((await find.run(db, { id: preparedRow })).rows).toEqual([]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    expect((await find.run(db, { id: knexRow })).rows).toEqual([]);
    expect((await find.run(db, { id: preparedRow })).rows).toEqual([]);
    expect(await db('items').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('commits with the transaction, and refuses to run on a transaction that has ended', async () => {
    const insert = definePreparedStatement<{ id: string }>(unique('tx-commit'), "INSERT INTO items (id, label) VALUES (:id, 'x')");
    let finished: Knex.Transaction | undefined;
    await db.transaction(async (trx) => {
      await insert.run(trx, { id: randomUUID() });
      finished = trx;
    });
    expect(await db('items').count({ n: '*' })).toEqual([{ n: 1 }]);
    await expect(insert.run(finished!, { id: randomUUID() })).rejects.toThrow(/Transaction query already complete/);
    expect(await db('items').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('rejects with the same pg DatabaseError (and code) as knex.raw, and releases the connection', async () => {
    const id = randomUUID();
    await db('items').insert({ id, label: 'first' });
    const insert = definePreparedStatement<{ id: string; label: string }>(
      unique('dup-key'),
      'INSERT INTO items (id, label) VALUES (:id, :label)',
    );
    const viaKnex = await db.raw('INSERT INTO items (id, label) VALUES (?, ?)', [id, 'again']).catch((error: unknown) => error);
    const prepared = await insert.run(db, { id, label: 'again' }).catch((error: unknown) => error);
    expect(viaKnex).toBeInstanceOf(DatabaseError);
    expect(prepared).toBeInstanceOf(DatabaseError);
    expect((prepared as DatabaseError).code).toBe('23505');
    expect((prepared as DatabaseError).code).toBe((viaKnex as DatabaseError).code);
    expect((prepared as DatabaseError).constraint).toBe('items_pkey');
    expect((prepared as Error).message).toMatch(/^INSERT INTO items .* - duplicate key value violates unique constraint "items_pkey"$/s);
    expect(pool(db).numUsed()).toBe(0);

    // Inside a transaction the error aborts the transaction like any other statement's.
    await expect(db.transaction((trx) => insert.run(trx, { id, label: 'again' }))).rejects.toMatchObject({ code: '23505' });
  });

  it('emits knex query events, for the pool and for a transaction, and query-error on failure', async () => {
    const statement = definePreparedStatement<{ id: string }>(unique('events'), 'SELECT label FROM items WHERE id = :id::uuid');
    const seen: Array<{ sql: string; bindings: unknown[]; __knexTxId?: string }> = [];
    const onQuery = (query: { sql: string; bindings: unknown[]; __knexTxId?: string }) => seen.push(query);
    const errors: Array<{ code?: string; sql: string }> = [];
    const onError = (error: DatabaseError, query: { sql: string }) => errors.push({ code: error.code, sql: query.sql });
    db.on('query', onQuery).on('query-error', onError);
    try {
      const id = randomUUID();
      await statement.run(db, { id });
      expect(seen).toEqual([expect.objectContaining({ sql: statement.text, bindings: [id], method: 'raw' })]);
      expect(seen[0].__knexTxId).toBeUndefined();

      seen.length = 0;
      const onTrxQuery: string[] = [];
      await db.transaction(async (trx) => {
        trx.on('query', (query: { sql: string }) => onTrxQuery.push(query.sql));
        await statement.run(trx, { id });
      });
      // knex's own BEGIN and COMMIT, and the prepared statement between them, tagged with the transaction.
      expect(seen.map((query) => query.sql)).toEqual(['BEGIN;', statement.text, 'COMMIT;']);
      expect(seen[1].__knexTxId).toEqual(expect.stringMatching(/^trx/));
      expect(onTrxQuery).toEqual([statement.text, 'COMMIT;']);

      seen.length = 0;
      await expect(statement.run(db, { id: 'not-a-uuid' })).rejects.toMatchObject({ code: '22P02' });
      expect(seen).toHaveLength(1);
      expect(errors).toEqual([{ code: '22P02', sql: statement.text }]);
    } finally {
      db.removeListener('query', onQuery).removeListener('query-error', onError);
    }
  });

  it('re-prepares a statement whose result columns a migration changed; in a transaction the connection is retired', async () => {
    await db.raw('CREATE TABLE reshaped (id int)');
    await db.raw('INSERT INTO reshaped VALUES (1)');
    const single = createDatabase({ url: URL, poolMax: 1 });
    const statement = definePreparedStatement(unique('reshaped'), 'SELECT * FROM reshaped');
    const backendPid = definePreparedStatement<Record<string, never>, { pid: number }>(unique('reshaped-pid'), 'SELECT pg_backend_pid() AS pid');
    try {
      expect((await statement.run(single, {})).rows).toEqual([{ id: 1 }]);
      const pid = (await backendPid.run(single, {})).rows[0].pid;
      await single.raw("ALTER TABLE reshaped ADD COLUMN note text NOT NULL DEFAULT 'new'");
      expect((await statement.run(single, {})).rows).toEqual([{ id: 1, note: 'new' }]);
      expect((await statement.run(single, {})).rows).toEqual([{ id: 1, note: 'new' }]);
      expect((await backendPid.run(single, {})).rows[0].pid).toBe(pid);

      await single.raw('ALTER TABLE reshaped DROP COLUMN note');
      // Inside a transaction it cannot be retried: the error propagates and the connection is not reused.
      await expect(single.transaction((trx) => statement.run(trx, {}))).rejects.toMatchObject({ code: '0A000' });
      expect((await statement.run(single, {})).rows).toEqual([{ id: 1 }]);
      expect((await backendPid.run(single, {})).rows[0].pid).not.toBe(pid);
    } finally {
      await single.destroy();
      await db.raw('DROP TABLE reshaped');
    }
  });
});

describe('prepared statements and broken connections', () => {
  const backendPid = definePreparedStatement<Record<string, never>, { pid: number }>(unique('pid'), 'SELECT pg_backend_pid() AS pid');

  afterAll(() => dropDatabase(NAME));

  it('a statement timeout rejects with 57014 and the connection goes back to the pool, still usable', async () => {
    await ensureDatabase(URL);
    const db = createDatabase({ url: URL, poolMax: 1, statementTimeoutMs: 100 });
    try {
      const sleep = definePreparedStatement<{ seconds: number }>(unique('sleep'), 'SELECT pg_sleep(:seconds)');
      const before = (await backendPid.run(db, {})).rows[0].pid;
      await expect(sleep.run(db, { seconds: 2 })).rejects.toMatchObject({ code: '57014' });
      expect(pool(db).numUsed()).toBe(0);
      await expect(sleep.run(db, { seconds: 0 })).resolves.toMatchObject({ rowCount: 1 });
      expect((await backendPid.run(db, {})).rows[0].pid).toBe(before);
    } finally {
      await db.destroy();
    }
  });

  it('a connection lost in the middle of a statement rejects it and is replaced by the pool', async () => {
    await ensureDatabase(URL);
    const db = createDatabase({ url: URL, poolMax: 1 });
    const admin = new Client({ connectionString: URL });
    await admin.connect();
    try {
      const sleep = definePreparedStatement<{ seconds: number }>(unique('lost'), 'SELECT pg_sleep(:seconds)');
      const before = (await backendPid.run(db, {})).rows[0].pid;
      const running = sleep.run(db, { seconds: 5 }).catch((error: unknown) => error);
      await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = $2', [before, 'active'])).rowCount === 1);
      await admin.query('SELECT pg_terminate_backend($1)', [before]);
      expect(await running).toMatchObject({ code: '57P01' });
      expect(pool(db).numUsed()).toBe(0);
      const after = (await backendPid.run(db, {})).rows[0].pid;
      expect(after).not.toBe(before);
    } finally {
      await admin.end();
      await db.destroy();
    }
  });

  it('a client-side failure (a value pg cannot send) does not leave a connection with a broken statement in the pool', async () => {
    await ensureDatabase(URL);
    const db = createDatabase({ url: URL, poolMax: 1 });
    try {
      const echo = definePreparedStatement<{ value: unknown }>(unique('echo'), 'SELECT :value::jsonb AS value');
      expect((await echo.run(db, { value: { a: 1 } })).rows).toEqual([{ value: { a: 1 } }]);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      // node-postgres closes the statement on the server when binding fails, yet still believes it prepared.
      await expect(echo.run(db, { value: circular })).rejects.toThrow(/circular/i);
      expect(pool(db).numUsed()).toBe(0);
      expect((await echo.run(db, { value: { a: 2 } })).rows).toEqual([{ value: { a: 2 } }]);
    } finally {
      await db.destroy();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
