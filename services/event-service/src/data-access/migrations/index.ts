import type { Migration } from '@ticketing/platform';
import { catalogAndSeatInventory } from './001-catalog-and-seat-inventory';
import { messageBookkeeping } from './002-message-bookkeeping';
import { organizerOwnership } from './003-organizer-ownership';
import { lapsedHoldIndex } from './004-lapsed-hold-index';

/** Every migration of the event_service database, oldest first. */
export const eventMigrations: Migration[] = [catalogAndSeatInventory, messageBookkeeping, organizerOwnership, lapsedHoldIndex];
