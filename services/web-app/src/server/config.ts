import { z } from 'zod';
import { envInt, envUrl, loadConfigWithOverrides, logLevelSchema } from '@ticketing/platform';
import path from 'node:path';

export const webConfigSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: envInt(8080, 0, 65_535),
  LOG_LEVEL: logLevelSchema,
  /** Where `/api/v1/...` catalog and seat-map requests go. */
  EVENT_API_URL: envUrl('http://127.0.0.1:8000', ['http', 'https']),
  /** Where `/api/v1/{reservations,tickets,price-tiers,check-ins,ticket-keys}` go. */
  BOOKING_API_URL: envUrl('http://127.0.0.1:8001', ['http', 'https']),
  /** The built front end (`vite build` output). */
  STATIC_DIR: z.string().min(1).default(path.resolve(__dirname, '../public')),
});
export type WebConfig = z.infer<typeof webConfigSchema>;

export function loadWebConfig(overrides: Record<string, unknown> = {}): WebConfig {
  return loadConfigWithOverrides(webConfigSchema, overrides);
}
