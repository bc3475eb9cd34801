/**
 * Postgres error codes (SQLSTATE) the services act on, and the checks built from them, in one place.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const PG = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  invalidTextRepresentation: '22P02',
  numericValueOutOfRange: '22003',
  invalidDatetimeFormat: '22007',
  datetimeFieldOverflow: '22008',
  duplicateTable: '42P07',
  duplicateDatabase: '42P04',
  featureNotSupported: '0A000',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  tooManyConnections: '53300',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  cannotConnectNow: '57P03',
} as const;

/** The SQLSTATE (or Node socket error code) of an error, if it has one. */
export const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

const TRANSIENT_CODES = new Set<string>([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  PG.adminShutdown,
  PG.crashShutdown,
  PG.cannotConnectNow,
  PG.tooManyConnections,
  PG.serializationFailure,
  PG.deadlockDetected,
]);

/** The database restarting, unreachable or briefly overloaded: worth waiting out and trying again. */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  // Class 08: connection exceptions.
  return TRANSIENT_CODES.has(code) || code.startsWith('08') || (error as { name?: string } | undefined)?.name === 'KnexTimeoutError';
}

/** Another process migrating at the same time: it holds knex's migration lock, or created a table first. */
export function isConcurrentMigrationError(error: unknown): boolean {
  const err = error as { name?: string; message?: string } | undefined;
  const code = errorCode(error);
  return (
    err?.name === 'MigrationLocked' ||
    /already locked/i.test(err?.message ?? '') ||
    code === PG.uniqueViolation ||
    code === PG.duplicateTable
  );
}
