/** Request and response schemas, declared once: they validate input and generate the OpenAPI document. */
import { z } from 'zod';

export const uuid = z.guid();
/** A UUID from the caller, in any letter case, normalised to lower case (Postgres' spelling) so ids compare exactly. */
export const uuidInput = z.guid().transform((value) => value.toLowerCase());
export const timestamp = z.iso.datetime({ offset: true });
export const money = z.number().meta({ description: 'Amount with at most 2 decimals', example: 100.0 });
export const seatLabel = z.union([z.string().trim().min(1).max(20), z.number().int().min(0).max(1_000_000)]);

export const idParams = z.object({ id: uuidInput });
export const userIdParams = z.object({ user_id: uuidInput });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const ticketPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
