import type { Knex } from '@ticketing/platform';
import type { TicketRow } from '../domain/records';
import type { CheckInScan, SessionTicketState } from '../domain/store';

export function ticketRepository(db: Knex | Knex.Transaction) {
  return {
    async findById(id: string): Promise<TicketRow | undefined> {
      return db<TicketRow>('tickets').where({ id }).first();
    },
    async listByUser(userId: string, page: { limit: number; offset: number }): Promise<TicketRow[]> {
      return db<TicketRow>('tickets')
        .where({ user_id: userId })
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(page.limit)
        .offset(page.offset);
    },
    async listByReservation(reservationId: string): Promise<TicketRow[]> {
      return db('tickets')
        .join('reservation_items', 'reservation_items.id', 'tickets.reservation_item_id')
        .where('tickets.reservation_id', reservationId)
        .orderBy('reservation_items.position')
        .select<TicketRow[]>('tickets.*');
    },
    async refundIfActive(id: string): Promise<TicketRow | undefined> {
      const [row] = await db<TicketRow>('tickets')
        .where({ id, status: 'active' })
        .update({ status: 'refunded', refunded_at: db.fn.now(), updated_at: db.fn.now() } as never)
        .returning('*');
      return row;
    },
    /**
     * active → used, only if still active: one conditional UPDATE, so of any number of concurrent scans exactly
     * one finds the row active (the others wait on its row lock, then see it used) — one admission per ticket.
     * `at` is the scan's own time (offline scans) or undefined for the database's now().
     */
    async admitIfActive(id: string, admission: { gate: string | null; by: string | null; at?: Date }): Promise<TicketRow | undefined> {
      const [row] = await db<TicketRow>('tickets')
        .where({ id, status: 'active' })
        .update({
          status: 'used',
          used_at: admission.at ?? db.fn.now(),
          checked_in_gate: admission.gate,
          checked_in_by: admission.by,
          updated_at: db.fn.now(),
        } as never)
        .returning('*');
      return row;
    },
    /** Every ticket of a session, for the offline scanners' list (a few columns; no QR images). */
    async statesOfSession(sessionId: string): Promise<SessionTicketState[]> {
      return db<TicketRow>('tickets')
        .where({ session_id: sessionId })
        .orderBy('id')
        .select('id', 'status', 'used_at', 'checked_in_gate', 'updated_at');
    },
    async recordScans(scans: CheckInScan[]): Promise<void> {
      if (scans.length) await db('check_in_scans').insert(scans);
    },
    async countNotRefunded(reservationId: string): Promise<number> {
      const row = await db('tickets')
        .where({ reservation_id: reservationId })
        .whereNot({ status: 'refunded' })
        .count<{ count: number | string }[]>({ count: '*' })
        .first();
      return Number(row?.count ?? 0);
    },
  };
}

