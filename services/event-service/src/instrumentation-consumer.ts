import { startTracing } from '@ticketing/platform/tracing';

// The consumer is a process of its own on traces (the chart sets the same name through OTEL_SERVICE_NAME).
startTracing('event-service-consumer');
