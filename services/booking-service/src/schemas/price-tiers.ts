import { z } from 'zod';
import { toBasisPoints } from '../domain/money';
import { pageQuery, timestamp, uuid, uuidInput } from './common';

const multiplier = z
  .number()
  .gt(0)
  .lte(1)
  .refine((value) => {
    try {
      toBasisPoints(value);
      return true;
    } catch {
      return false;
    }
  }, 'must have at most 4 decimals');

export const createPriceTierBody = z
  .object({
    session_id: uuidInput.nullable().optional().meta({ description: 'Session the tier applies to; omit for every session' }),
    name: z.string().trim().min(1).max(100),
    multiplier: multiplier.meta({ description: 'Share of the seat price paid: 0 < m <= 1, up to 4 decimals', example: 0.8 }),
    description: z.string().max(1_000).nullable().optional(),
  })
  .strict();

export const priceTierQuery = pageQuery.extend({ session_id: uuidInput.optional() });

export const priceTierSchema = z.object({
  id: uuid,
  session_id: uuid.nullable(),
  name: z.string(),
  multiplier: z.number(),
  description: z.string().nullable(),
  created_at: timestamp,
});
