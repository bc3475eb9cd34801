import { startTracing } from '@ticketing/platform/tracing';

startTracing('event-service');
