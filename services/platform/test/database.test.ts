import { createDatabase, ensureDatabase, migrateDatabase, migrateToLatest, pingDatabase, type Migration } from '../src/db/database';
import { POSTGRES_URL } from '../../../test/support/infra';
import { dropDatabase } from '../../../test/support/databases';

const NAME = `platform_db_test_${process.pid}`;
const RACE = `platform_db_race_${process.pid}`;

describe('database helpers', () => {
  beforeAll(() => Promise.all([dropDatabase(NAME), dropDatabase(RACE)]));
  afterAll(() => Promise.all([dropDatabase(NAME), dropDatabase(RACE)]));

  it('creates a missing database, tolerates it existing, and concurrent callers', async () => {
    await Promise.all([ensureDatabase(`${POSTGRES_URL}/${NAME}`), ensureDatabase(`${POSTGRES_URL}/${NAME}`)]);
    await ensureDatabase(`${POSTGRES_URL}/${NAME}`);
    const db = createDatabase({ url: `${POSTGRES_URL}/${NAME}` });
    await expect(pingDatabase(db)).resolves.toBeUndefined();
    await db.destroy();
  });

  it('refuses database names that would need quoting tricks', async () => {
    await expect(ensureDatabase(`${POSTGRES_URL}/bad";drop`)).rejects.toThrow(/unusual name/);
  });

  it('applies migrations given as modules once, in order', async () => {
    const migrations: Migration[] = [
      { name: '001_widgets', up: (db) => db.schema.createTable('widgets', (t) => t.increments('id')), down: (db) => db.schema.dropTable('widgets') },
      { name: '002_widget_name', up: (db) => db.schema.alterTable('widgets', (t) => t.text('name')), down: async () => undefined },
    ];
    const db = createDatabase({ url: `${POSTGRES_URL}/${NAME}` });
    expect(await migrateToLatest(db, migrations)).toEqual(['001_widgets', '002_widget_name']);
    expect(await migrateToLatest(db, migrations)).toEqual([]);
    await db('widgets').insert({ name: 'x' });
    expect(await db('widgets').count({ n: '*' })).toEqual([{ n: 1 }]);
    await db.destroy();
  });

  it('when several processes migrate a missing database at once, then each succeeds and every migration applies once', async () => {
    const slow: Migration[] = [
      {
        name: '001_gadgets',
        up: async (db) => {
          await db.schema.createTable('gadgets', (t) => t.increments('id'));
          await db.raw('SELECT pg_sleep(0.3)');
        },
        down: (db) => db.schema.dropTable('gadgets'),
      },
    ];
    const url = `${POSTGRES_URL}/${RACE}`;

    const runs = await Promise.all([migrateDatabase(url, slow), migrateDatabase(url, slow), migrateDatabase(url, slow)]);

    expect(runs.flat()).toEqual(['001_gadgets']);
    const db = createDatabase({ url });
    expect(await db('knex_migrations').count({ n: '*' })).toEqual([{ n: 1 }]);
    await db.destroy();
  });
});
