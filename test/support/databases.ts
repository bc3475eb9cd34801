import { Client } from 'pg';
import { POSTGRES_URL } from './infra';

/** Drops a scratch database, disconnecting whoever still uses it. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
