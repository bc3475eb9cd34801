import { z } from 'zod';

/** Thrown when the environment does not satisfy a process's configuration schema. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment with a zod schema. Any problem becomes one line naming every bad variable,
 * so a misconfigured pod says exactly what to fix.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * The environment plus typed overrides (tests, orchestrators), validated together so an override can never
 * bypass the schema.
 */
export function loadConfigWithOverrides<S extends z.ZodType>(
  schema: S,
  overrides: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = String(value);
  return loadConfig(schema, merged);
}

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

/** Integer variable with a default and bounds. */
export const envInt = (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(min).max(max).default(defaultValue),
  );

/** Number variable with a default and bounds. */
export const envNumber = (defaultValue: number, min = -Infinity, max = Infinity) =>
  z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a number' }).min(min).max(max).default(defaultValue));

/** URL variable restricted to the given protocols (without the colon). */
export const envUrl = (defaultValue: string, protocols: string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default(defaultValue)
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      }, `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`),
  );

/** Optional secret or string; an empty value counts as unset. */
export const envOptionalString = () => z.preprocess(emptyToUndefined, z.string().min(1).optional());

export const envBool = (defaultValue: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .default(defaultValue ? 'true' : 'false')
      .transform((value) => ['true', '1', 'yes'].includes(value)),
  );

export const logLevelSchema = z.preprocess(
  emptyToUndefined,
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
);

/** Comma-separated list of browser origins (`https://shop.example.com`); empty means none. */
export const envOriginList = () =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default('')
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
      .refine(
        (origins) =>
          origins.every((origin) => {
            try {
              return new URL(origin).origin === origin;
            } catch {
              return false;
            }
          }),
        'must be a comma-separated list of origins such as https://shop.example.com (scheme, host, optional port; no path)',
      ),
  );

/** Settings of every HTTP API's edge (docs/security.md, "The edge"). */
export const httpEdgeConfigShape = {
  /** Proxies in front of the process whose X-Forwarded-For entries are trusted; 0 ignores the header. */
  TRUST_PROXY_HOPS: envInt(0, 0, 10),
  /** Origins a browser may call the API from (CORS); empty turns CORS off. */
  CORS_ALLOWED_ORIGINS: envOriginList(),
};

/** Settings every process shares. */
export const baseConfigShape = {
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  LOG_LEVEL: logLevelSchema,
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  RABBITMQ_URL: envUrl('amqp://guest:guest@127.0.0.1:5672', ['amqp', 'amqps']),
  SHUTDOWN_TIMEOUT_MS: envInt(10_000, 0, 120_000),
};
