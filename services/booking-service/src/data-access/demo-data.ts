import type { Knex } from '@ticketing/platform';
import { priceTierRepository } from './price-tier-repository';

/** The demo data's ids (the ids of docs/user-flow.md). */
export const DEMO_SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
export const DEMO_STANDARD_PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
export const DEMO_STUDENT_PRICE_TIER_ID = '7c1f3a52-9d4e-4b8a-a6f2-3e5d8c9b0a14';

/** Demo price tiers; safe to run any number of times. */
export async function seedBookingDemoData(db: Knex): Promise<void> {
  const tiers = priceTierRepository(db);
  await tiers.insertIfMissing({
    id: DEMO_STANDARD_PRICE_TIER_ID,
    session_id: DEMO_SESSION_ID,
    name: 'Standard',
    multiplier: '1.0000',
    description: 'Full price',
  });
  await tiers.insertIfMissing({
    id: DEMO_STUDENT_PRICE_TIER_ID,
    session_id: null,
    name: 'Student',
    multiplier: '0.8000',
    description: '20% off with a valid student card (any session)',
  });
}
