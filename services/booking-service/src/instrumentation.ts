import { startTracing } from '@ticketing/platform/tracing';

startTracing('booking-service');
