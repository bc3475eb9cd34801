import { createDatabase } from '@ticketing/platform';
import { BOOKING_TEST_DATABASE_URL } from '../../../test/support/infra';
import { DEMO_SESSION_ID, DEMO_STANDARD_PRICE_TIER_ID, DEMO_STUDENT_PRICE_TIER_ID } from '../src/data-access/demo-data';
import { migrateBookingDatabase, seedBookingDemoData } from '../src/entry-points/migrate-main';

describe('the booking demo data', () => {
  it('creates the seed’s Standard tier and a global Student tier, and can run any number of times', async () => {
    await migrateBookingDatabase(BOOKING_TEST_DATABASE_URL);
    const db = createDatabase({ url: BOOKING_TEST_DATABASE_URL, poolMax: 2 });
    try {
      await Promise.all([seedBookingDemoData(db), seedBookingDemoData(db)]);
      await seedBookingDemoData(db);
      const tiers = await db('price_tiers')
        .whereIn('id', [DEMO_STANDARD_PRICE_TIER_ID, DEMO_STUDENT_PRICE_TIER_ID])
        .orderBy('name')
        .select('id', 'session_id', 'name', 'multiplier');
      expect(tiers).toEqual([
        { id: DEMO_STANDARD_PRICE_TIER_ID, session_id: DEMO_SESSION_ID, name: 'Standard', multiplier: '1.0000' },
        { id: DEMO_STUDENT_PRICE_TIER_ID, session_id: null, name: 'Student', multiplier: '0.8000' },
      ]);
    } finally {
      await db.destroy();
    }
  });
});
