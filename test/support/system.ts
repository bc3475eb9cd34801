/**
 * Starts the whole product in-process on free ports against dedicated databases: event API, event consumer
 * and booking API (with its outbox relay and expiry sweep), sharing one RabbitMQ namespace.
 */
import { startEventApi } from '../../services/event-service/src/entry-points/api';
import { startEventConsumer } from '../../services/event-service/src/entry-points/consumer';
import { migrateEventDatabase, openEventDatabase } from '../../services/event-service/src/data-access/database';
import { seedEventDemoData } from '../../services/event-service/src/data-access/demo-data';
import { startBookingApi } from '../../services/booking-service/src/entry-points/api';
import { migrateBookingDatabase } from '../../services/booking-service/src/data-access/database';
import { seedBookingDemoData } from '../../services/booking-service/src/data-access/demo-data';
import { createDatabase } from '@ticketing/platform';
import { dropDatabase } from './databases';
import { POSTGRES_URL, RABBITMQ_URL, REDIS_URL, silentLogLevel, testDatabaseName, uniqueBrokerNamespace } from './infra';

export interface RunningSystem {
  eventUrl: string;
  bookingUrl: string;
  consumerUrl: string;
  stop(): Promise<void>;
}

/** The database startSystem(label) gives a service. */
export const systemDatabaseName = (service: 'event' | 'booking', label: string) => testDatabaseName(`${service}_${label}`);

/** Fresh databases named after `label`, migrated and seeded with the demo data of docs/user-flow.md. */
export async function startSystem(label: string, options: { internalToken?: string; ttlSeconds?: number } = {}): Promise<RunningSystem> {
  const eventDatabase = systemDatabaseName('event', label);
  const bookingDatabase = systemDatabaseName('booking', label);
  const eventDatabaseUrl = `${POSTGRES_URL}/${eventDatabase}`;
  const bookingDatabaseUrl = `${POSTGRES_URL}/${bookingDatabase}`;
  await Promise.all([dropDatabase(eventDatabase), dropDatabase(bookingDatabase)]);
  await Promise.all([migrateEventDatabase(eventDatabaseUrl), migrateBookingDatabase(bookingDatabaseUrl)]);
  const eventDb = openEventDatabase(eventDatabaseUrl, 2);
  const bookingDb = createDatabase({ url: bookingDatabaseUrl, poolMax: 2 });
  await seedEventDemoData(eventDb);
  await seedBookingDemoData(bookingDb);
  await Promise.all([eventDb.destroy(), bookingDb.destroy()]);

  const brokerNamespace = uniqueBrokerNamespace(label);
  const common = { LOG_LEVEL: silentLogLevel, RABBITMQ_URL, HOST: '127.0.0.1', PORT: 0, brokerNamespace } as const;
  // The live seat map's Redis Streams of this system only (the demo session's id is the same everywhere).
  const liveSeatMap = { REDIS_URL, SEAT_MAP_STREAM_KEY_PREFIX: `test:${brokerNamespace}:seat-map-changes:` };
  const token = options.internalToken ? { INTERNAL_API_TOKEN: options.internalToken } : {};
  const eventApi = await startEventApi({ ...common, ...token, ...liveSeatMap, DATABASE_URL: eventDatabaseUrl });
  const consumer = await startEventConsumer({ ...common, ...liveSeatMap, DATABASE_URL: eventDatabaseUrl, METRICS_PORT: 0 });
  const bookingApi = await startBookingApi({
    ...common,
    ...token,
    DATABASE_URL: bookingDatabaseUrl,
    REDIS_URL,
    EVENT_SERVICE_URL: eventApi.url,
    EXPIRY_SWEEP_INTERVAL_SECONDS: 1,
    ...(options.ttlSeconds ? { RESERVATION_TTL_SECONDS: options.ttlSeconds } : {}),
  });
  return {
    eventUrl: eventApi.url,
    bookingUrl: bookingApi.url,
    consumerUrl: consumer.url,
    stop: async () => {
      await bookingApi.stop();
      await consumer.stop();
      await eventApi.stop();
    },
  };
}
