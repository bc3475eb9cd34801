import type { Redis } from 'ioredis';

/** Change notices for price tiers across the booking API's replicas (the cache in cached-price-tiers.ts). */
export interface PriceTierChanges {
  /** True while this replica is sure to hear every change; while false, readers must not trust a cache. */
  isListening(): boolean;
  /** `listener` runs on every change announced by any replica, and whenever notices may have been missed. */
  onChange(listener: () => void): void;
  /** Tells every replica, this one included, that tiers changed. */
  announce(): Promise<void>;
  close(): Promise<void>;
}

export const PRICE_TIER_CHANGES_CHANNEL = 'booking:price-tiers:changed';

/**
 * Redis pub/sub: `publisher` is the API's command connection, `subscriber` a connection of its own (a
 * subscribed connection takes no other commands). Pub/sub drops what is published while a subscriber is
 * away, so the replica stops listening when its connection closes, and on every (re)subscription tells its
 * listeners that changes may have been missed.
 */
export function redisPriceTierChanges(
  publisher: Redis,
  subscriber: Redis,
  onError: (error: unknown) => void,
  channel = PRICE_TIER_CHANGES_CHANNEL,
): PriceTierChanges {
  const listeners: Array<() => void> = [];
  let listening = false;
  let closed = false;
  const notify = () => listeners.forEach((listener) => listener());

  const subscribe = async () => {
    try {
      await subscriber.subscribe(channel);
      if (closed) return;
      listening = true;
      notify();
    } catch (error) {
      onError(error);
    }
  };
  subscriber.on('message', (from: string) => {
    if (from === channel) notify();
  });
  subscriber.on('close', () => {
    listening = false;
  });
  // ioredis resubscribes by itself on reconnect, but gives no signal when that is done: subscribing again
  // (idempotent) does, and only then is the replica listening again.
  subscriber.on('ready', () => void subscribe());
  subscriber.on('error', onError);
  if (subscriber.status === 'ready') void subscribe();

  return {
    isListening: () => listening,
    onChange: (listener) => {
      listeners.push(listener);
    },
    announce: async () => {
      notify();
      await publisher.publish(channel, '1');
    },
    close: async () => {
      closed = true;
      listening = false;
      await subscriber.quit().catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
