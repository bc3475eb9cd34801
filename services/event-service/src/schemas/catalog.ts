import { z } from 'zod';
import { MAX_AMOUNT } from '../domain/money';
import {
  money,
  moneyInput,
  optionalText,
  paginationQuery,
  seatStatus,
  text,
  timestamp,
  timestampOutput,
  uuid,
  uuidOutput,
} from './common';

/** Largest bulk seat call, and most seats one hall may have (the largest stadiums seat ~130,000). */
export const MAX_SEATS_PER_CALL = 100_000;
export const MAX_SEATS_PER_HALL = 200_000;
/** Bad or duplicate seats listed in a 422 answer to a bulk call. */
export const MAX_REPORTED_SEAT_ERRORS = 20;

const meta = {
  id: uuidOutput,
  created_at: timestampOutput,
  updated_at: timestampOutput,
};

const timezone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Kyiv or UTC');

// ---- organizers -------------------------------------------------------------------------------------

export const createOrganizerBody = z
  .object({
    name: text(200),
    description: optionalText(2000),
    contact_email: z
      .preprocess((value) => (value === '' ? null : value), z.email().max(254).nullable())
      .optional()
      .transform((value) => value ?? null),
    contact_phone: z
      .preprocess(
        (value) => (value === '' ? null : value),
        z
          .string()
          .trim()
          .regex(/^\+?[0-9][0-9 ().-]{2,31}$/, 'must be a phone number such as +1 555 0100')
          .nullable(),
      )
      .optional()
      .transform((value) => value ?? null),
  })
  .strict();
export const organizer = z.object({
  id: uuidOutput,
  name: z.string(),
  description: z.string().nullable(),
  contact_email: z.string().nullable(),
  contact_phone: z.string().nullable(),
  created_at: timestampOutput,
  updated_at: timestampOutput,
});

export const organizerMemberParams = z.object({ id: uuid });
export const addOrganizerMemberBody = z.object({ user_id: uuid }).strict();
export const organizerMember = z.object({
  organizer_id: uuidOutput,
  user_id: uuidOutput,
  added_by: uuidOutput.nullable(),
  created_at: timestampOutput,
});

// ---- locations and halls ----------------------------------------------------------------------------

export const createLocationBody = z
  .object({
    name: text(200),
    address: optionalText(500),
    city: optionalText(200),
    country: optionalText(100),
    timezone: timezone.optional().default('UTC'),
    organizer_id: uuid.optional().meta({ description: 'The organizer that owns the venue, its halls and seats' }),
  })
  .strict();
export const location = z.object({
  ...meta,
  name: z.string(),
  address: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable(),
  timezone: z.string(),
  organizer_id: uuidOutput.nullable(),
});

const hallFields = {
  name: text(200),
  capacity: z
    .number()
    .int()
    .min(0)
    .max(MAX_SEATS_PER_HALL)
    .nullable()
    .optional()
    .transform((value) => value ?? null)
    .meta({ description: 'Informational; the seats added to the hall are what can be sold' }),
};
export const createHallBody = z.object({ location_id: uuid, ...hallFields }).strict();
export const createLocationHallBody = z.object(hallFields).strict();
export const hall = z.object({ ...meta, location_id: uuidOutput, name: z.string(), capacity: z.number().int().nullable() });
export const locationHallParams = z.object({ location_id: uuid });
export const listHallsQuery = paginationQuery.extend({ location_id: uuid.optional() });

// ---- seats ------------------------------------------------------------------------------------------

const SEAT_LABEL = /^[\p{L}\p{N}][\p{L}\p{N} ._/-]*$/u;
const SEAT_TYPE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Row and seat labels: "1", "12", "A", "AA", "Balcony 3"; numbers are accepted and become strings. */
const seatLabel = z
  .union([z.string(), z.number().int().min(0).max(999_999_999)])
  .transform((value) => String(value))
  .pipe(text(16).regex(SEAT_LABEL, 'must start with a letter or digit and contain only letters, digits, spaces and . _ / -'));

const seatType = z
  .string()
  .trim()
  .toLowerCase()
  .regex(SEAT_TYPE, 'must be 1-32 letters, digits, _ or - (e.g. standard, vip, wheelchair)');

export const seatInput = z
  .object({
    row_number: seatLabel,
    seat_number: seatLabel,
    seat_type: seatType.optional().default('standard'),
  })
  .strict();
export type SeatInput = z.output<typeof seatInput>;

const SEAT_KEYS = new Set(['row_number', 'seat_number', 'seat_type']);

function fastLabel(value: unknown): string | undefined {
  const label =
    typeof value === 'string' ? value.trim() : Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 999_999_999 ? String(value) : undefined;
  return label !== undefined && label.length >= 1 && label.length <= 16 && SEAT_LABEL.test(label) ? label : undefined;
}

/**
 * The same rules as `seatInput` for the common, valid case, without zod's per-object overhead (which is
 * most of the time of a 100,000-seat call). Undefined means "let seatInput say what is wrong".
 */
function parseSeatFast(item: unknown): SeatInput | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const record = item as Record<string, unknown>;
  for (const key in record) if (!SEAT_KEYS.has(key)) return undefined;
  const row = fastLabel(record.row_number);
  const seat = fastLabel(record.seat_number);
  const type = record.seat_type === undefined ? 'standard' : typeof record.seat_type === 'string' ? record.seat_type.trim().toLowerCase() : undefined;
  if (row === undefined || seat === undefined || type === undefined || !SEAT_TYPE.test(type)) return undefined;
  return { row_number: row, seat_number: seat, seat_type: type };
}

export const hallParams = z.object({ hall_id: uuid });

/**
 * Up to 100,000 seats. Every seat is validated; a 422 lists the first bad (or repeated) seats by index
 * instead of one issue per seat, so a broken 100,000-seat upload gets a short, useful answer.
 */
export const bulkSeatsBody = z
  .object({
    seats: z
      .array(z.unknown())
      .min(1)
      .max(MAX_SEATS_PER_CALL)
      .transform((items, ctx) => {
        const seats: SeatInput[] = [];
        const seen = new Map<string, number>();
        let problems = 0;
        const report = (index: number, path: PropertyKey[], message: string) => {
          if (problems++ < MAX_REPORTED_SEAT_ERRORS) ctx.addIssue({ code: 'custom', path: [index, ...path], message });
        };
        items.forEach((item, index) => {
          let seat = parseSeatFast(item);
          if (!seat) {
            const parsed = seatInput.safeParse(item);
            if (!parsed.success) {
              const issue = parsed.error.issues[0];
              report(index, issue.path, issue.message);
              return;
            }
            seat = parsed.data;
          }
          const key = `${seat.row_number}\u0000${seat.seat_number}`;
          const first = seen.get(key);
          if (first !== undefined) report(index, [], `duplicates the seat at index ${first} (same row and seat number)`);
          else seen.set(key, index);
          seats.push(seat);
        });
        if (problems > 0) {
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: `${problems} of ${items.length} seats are invalid or repeated; the first ${Math.min(problems, MAX_REPORTED_SEAT_ERRORS)} are listed`,
          });
          return z.NEVER;
        }
        return seats;
      })
      .meta({ items: stripSchemaKeyword(z.toJSONSchema(seatInput, { io: 'input' })) }),
  })
  .strict();

function stripSchemaKeyword(schema: Record<string, unknown>) {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

export const seat = z.object({
  id: uuidOutput,
  hall_id: uuidOutput,
  row_number: z.string(),
  seat_number: z.string(),
  seat_type: z.string(),
  created_at: timestampOutput,
});
export const bulkSeatsResponse = z.object({ hall_id: uuidOutput, created: z.number().int() });

// ---- events and sessions ----------------------------------------------------------------------------

export const createEventBody = z
  .object({
    title: text(300),
    description: optionalText(5000),
    event_type: text(50).meta({ description: 'e.g. concert, theatre, sport, cinema, conference' }),
    organizer_id: uuid,
  })
  .strict();
export const event = z.object({
  ...meta,
  organizer_id: uuidOutput,
  title: z.string(),
  description: z.string().nullable(),
  event_type: z.string(),
});
export const listEventsQuery = paginationQuery.extend({ organizer_id: uuid.optional() });

export const createSessionBody = z
  .object({
    event_id: uuid,
    hall_id: uuid,
    start_time: timestamp,
    end_time: timestamp,
    base_price: moneyInput,
    seat_type_multipliers: z
      .record(seatType, z.number().min(0.01).max(100).refine((value) => Math.abs(value * 10_000 - Math.round(value * 10_000)) < 1e-6, 'at most 4 decimals'))
      .optional()
      .meta({
        description: 'Optional price multiplier per seat type, e.g. {"vip": 1.5}; other seats cost base_price',
      }),
  })
  .strict()
  .refine((body) => Date.parse(body.end_time) > Date.parse(body.start_time), {
    path: ['end_time'],
    message: 'must be after start_time',
  })
  .refine(
    (body) => Object.values(body.seat_type_multipliers ?? {}).every((factor) => Number(body.base_price) * factor <= MAX_AMOUNT),
    { path: ['seat_type_multipliers'], message: `a seat price (base_price × multiplier) may not exceed ${MAX_AMOUNT}` },
  );
export const session = z.object({
  ...meta,
  event_id: uuidOutput,
  hall_id: uuidOutput,
  start_time: timestampOutput,
  end_time: timestampOutput,
  base_price: money,
  seats_count: z.number().int(),
});
export const listSessionsQuery = paginationQuery.extend({ event_id: uuid.optional(), hall_id: uuid.optional() });

export const sessionSeat = z.object({
  id: uuidOutput,
  /** The same value as `id`, under the name the seat map and the original system's clients use. */
  session_seat_id: uuidOutput,
  session_id: uuidOutput,
  seat_id: uuidOutput,
  row_number: z.string(),
  seat_number: z.string(),
  seat_type: z.string(),
  price: money,
  status: seatStatus,
  reserved_until: timestampOutput.nullable(),
  updated_at: timestampOutput,
});

export const seatMap = z.object({
  session_id: uuidOutput,
  hall_id: uuidOutput,
  seats: z.array(
    z.object({
      session_seat_id: uuidOutput,
      seat_id: uuidOutput,
      row_number: z.string(),
      seat_number: z.string(),
      price: money,
      status: seatStatus,
      reserved_until: timestampOutput.nullable(),
    }),
  ),
});
