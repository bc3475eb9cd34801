import type { Knex } from '@ticketing/platform';
import type { TicketRow } from './rows';

export type NewTicket = Omit<TicketRow, 'refunded_at' | 'used_at' | 'updated_at'>;

export function ticketRepository(db: Knex | Knex.Transaction) {
  return {
    async insertMany(tickets: NewTicket[]): Promise<void> {
      if (tickets.length) await db('tickets').insert(tickets.map((t) => ({ ...t, updated_at: t.created_at })));
    },
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

export type TicketRepository = ReturnType<typeof ticketRepository>;
