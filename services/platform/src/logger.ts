import pino, { type Logger } from 'pino';
import { trace } from '@opentelemetry/api';
import { currentRequestId } from './context';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Every line carries the request id of the request or message being handled and,
 * when tracing is on, the trace and span ids, so one buyer's story can be pulled out of the logs.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const fields: Record<string, string> = {};
      const requestId = currentRequestId();
      if (requestId) fields.request_id = requestId;
      const spanContext = trace.getActiveSpan()?.spanContext();
      if (spanContext) {
        fields.trace_id = spanContext.traceId;
        fields.span_id = spanContext.spanId;
      }
      return fields;
    },
  });
}
