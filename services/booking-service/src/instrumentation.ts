import { Pipeline, Redis } from 'ioredis';
import { startTracing, traceRedisCommands } from '@ticketing/platform/tracing';

if (startTracing('booking-service')) traceRedisCommands(Redis, Pipeline);
