/** What other packages (the npm start orchestrator, e2e tests) use of the event service. */
export { loadEventConfig, resolveEventConfig, type EventConfig, type EventOverrides } from './config';
export { startEventApi, type EventApi } from './entry-points/api';
export { startEventConsumer, type EventConsumer } from './entry-points/consumer';
export { migrateEventDatabase, openEventDatabase } from './data-access/database';
export { seedEventDemoData } from './data-access/demo-data';
export * from './data-access/demo-ids';
