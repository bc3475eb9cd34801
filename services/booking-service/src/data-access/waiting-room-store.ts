import type { Redis } from 'ioredis';
import type {
  AdmitResult,
  JoinResult,
  RawStatus,
  WaitingRoomConfig,
  WaitingRoomState,
  WaitingRoomStore,
} from '../domain/waiting-room-ports';
import { ADMIT, CONFIGURE, JOIN, LEAD, MARK_HELD, OPEN, RESIGN, SELL_OUT, STATUS } from './waiting-room-scripts';

/**
 * The waiting room in Redis, so it survives API restarts and is shared by every replica. Per session S (one hash
 * tag, so a Redis Cluster keeps a session's keys on one shard):
 *   {prefix}:{S}:config   hash   opens_at, rate, hold_seconds, state (pre|open), seq, sold_out, credit, last_tick, opened_at
 *   {prefix}:{S}:early    set    users who joined before the opening (shuffled into the queue at opening)
 *   {prefix}:{S}:queue    zset   waiting users by place (1, 2, … contiguous: the drawn order, then arrival order)
 *   {prefix}:{S}:joined   hash   user → when they joined (ms), for the wait-time histogram
 *   {prefix}:{S}:admitted zset   admitted users by the end of their hold window (ms)
 *   {prefix}:{S}:held     set    admitted users who have held seats (their slot is free again)
 * and {prefix}:sessions (sessions with a waiting room, for the ticker), {prefix}:ticker (the ticker's lease).
 * Every multi-key change is one Lua script (waiting-room-scripts.ts): atomic, one round trip.
 */

type Script = (keys: string[], args: Array<string | number>) => Promise<unknown>;

function script(redis: Redis, name: string, lua: string): Script {
  redis.defineCommand(name, { lua });
  const command = (redis as unknown as Record<string, (count: number, ...rest: Array<string | number>) => Promise<unknown>>)[name];
  return (keys, args) => command.call(redis, keys.length, ...keys, ...args);
}

const toNumber = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));

function parseConfig(flat: string[]): WaitingRoomState | undefined {
  if (flat.length === 0) return undefined;
  const hash: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  if (!hash.rate) return undefined;
  return {
    opensAt: new Date(Number(hash.opens_at)),
    admissionRatePerSecond: Number(hash.rate),
    holdWindowSeconds: Number(hash.hold_seconds),
    state: hash.state === 'open' ? 'open' : 'pre',
    soldOut: hash.sold_out === '1',
    openedAtMs: toNumber(hash.opened_at),
    credit: Number(hash.credit ?? 0),
    lastTickMs: toNumber(hash.last_tick),
  };
}

/** How long a sold-out session's keys stay (so late status reads still say SOLD_OUT). */
const SOLD_OUT_RETENTION_SECONDS = 86_400;

export function createWaitingRoomStore(redis: Redis, prefix: string): WaitingRoomStore {
  const run = {
    join: script(redis, 'waitingRoomJoin', JOIN),
    status: script(redis, 'waitingRoomStatus', STATUS),
    open: script(redis, 'waitingRoomOpen', OPEN),
    admit: script(redis, 'waitingRoomAdmit', ADMIT),
    configure: script(redis, 'waitingRoomConfigure', CONFIGURE),
    markHeld: script(redis, 'waitingRoomMarkHeld', MARK_HELD),
    sellOut: script(redis, 'waitingRoomSellOut', SELL_OUT),
    lead: script(redis, 'waitingRoomLead', LEAD),
    resign: script(redis, 'waitingRoomResign', RESIGN),
  };
  const sessionsKey = `${prefix}:sessions`;
  const tickerKey = `${prefix}:ticker`;
  const keys = (sessionId: string) => {
    const base = `${prefix}:{${sessionId}}`;
    return {
      config: `${base}:config`,
      early: `${base}:early`,
      queue: `${base}:queue`,
      admitted: `${base}:admitted`,
      held: `${base}:held`,
      joined: `${base}:joined`,
    };
  };
  const all = (sessionId: string) => {
    const k = keys(sessionId);
    return [k.config, k.early, k.queue, k.admitted, k.held, k.joined];
  };

  return {
    /** Channel the ticker announces each session's progress on; every API process relays it to its streams. */
    updatesChannel: `${prefix}:updates`,

    async configure(sessionId: string, config: WaitingRoomConfig): Promise<void> {
      await run.configure([keys(sessionId).config, sessionsKey], [
        config.opensAt.getTime(),
        config.admissionRatePerSecond,
        config.holdWindowSeconds,
        sessionId,
      ]);
    },

    async remove(sessionId: string): Promise<boolean> {
      const [deleted] = await Promise.all([redis.del(...all(sessionId)), redis.srem(sessionsKey, sessionId)]);
      return deleted > 0;
    },

    async config(sessionId: string): Promise<WaitingRoomState | undefined> {
      return parseConfig(await redis.hgetall(keys(sessionId).config).then((hash) => Object.entries(hash).flat()));
    },

    /** Whether the session has a waiting room (the reservation guard's one Redis read). */
    async isOn(sessionId: string): Promise<boolean> {
      return (await redis.exists(keys(sessionId).config)) === 1;
    },

    /** Buyers who joined before the opening (not yet placed). */
    async earlyCount(sessionId: string): Promise<number> {
      return redis.scard(keys(sessionId).early);
    },

    async sessions(): Promise<string[]> {
      return redis.smembers(sessionsKey);
    },

    async forget(sessionId: string): Promise<void> {
      await redis.srem(sessionsKey, sessionId);
    },

    async join(sessionId: string, userId: string, nowMs: number): Promise<JoinResult> {
      const k = keys(sessionId);
      const [kind, place] = (await run.join([k.config, k.early, k.queue, k.admitted, k.joined], [userId, nowMs])) as [string, string?];
      if (kind === 'queued') return { kind, place: Number(place) };
      return { kind: kind as 'none' | 'sold_out' | 'admitted' | 'early' };
    },

    async status(sessionId: string, userId: string): Promise<RawStatus> {
      const k = keys(sessionId);
      const [config, early, rank, admitted, waiting, earlyCount, place] = (await run.status(
        [k.config, k.early, k.queue, k.admitted],
        [userId],
      )) as [string[], number, number, string, number, number, string];
      return {
        config: parseConfig(config),
        early: early === 1,
        rank: rank >= 0 ? rank : null,
        admittedUntilMs: admitted === '' ? null : Number(admitted),
        waiting,
        earlyCount,
        place: toNumber(place),
      };
    },

    async earlyJoiners(sessionId: string): Promise<string[]> {
      return redis.smembers(keys(sessionId).early);
    },

    /** Opens the queue with the early joiners in `order`; returns how many are queued, or 0 if it was open already. */
    async open(sessionId: string, order: string[], nowMs: number): Promise<number> {
      const k = keys(sessionId);
      return Number(await run.open([k.config, k.early, k.queue], [nowMs, ...order]));
    },

    async admit(
      sessionId: string,
      input: { nowMs: number; wanted: number; lastTickMs: number | null; credit: number; holdMs: number; slots: number },
    ): Promise<AdmitResult> {
      const k = keys(sessionId);
      const reply = (await run.admit([k.config, k.early, k.queue, k.admitted, k.held, k.joined], [
        input.nowMs,
        input.wanted,
        input.lastTickMs === null ? '' : String(input.lastTickMs),
        input.credit,
        input.holdMs,
        input.slots,
      ])) as Array<string | number>;
      if (Number(reply[0]) !== 1) return { applied: false, admitted: [], abandoned: 0, stillWaiting: 0, headPlace: null };
      const admitted: AdmitResult['admitted'] = [];
      for (let i = 2; i < reply.length - 2; i += 2) {
        admitted.push({ userId: String(reply[i]), joinedAtMs: toNumber(String(reply[i + 1])) });
      }
      return {
        applied: true,
        admitted,
        abandoned: Number(reply[1]),
        headPlace: toNumber(String(reply[reply.length - 2])),
        stillWaiting: Number(reply[reply.length - 1]),
      };
    },

    /** An admitted buyer held seats: their slot is free for the next one. */
    async markHeld(sessionId: string, userId: string): Promise<void> {
      const k = keys(sessionId);
      await run.markHeld([k.admitted, k.held], [userId]);
    },

    /** Flags the session sold out; returns how many were still waiting, or -1 if it was flagged already. */
    async sellOut(sessionId: string): Promise<number> {
      return Number(await run.sellOut(all(sessionId), [SOLD_OUT_RETENTION_SECONDS]));
    },

    /** Admitted buyers whose window is still running and who have not held seats yet. */
    async admittedCount(sessionId: string): Promise<number> {
      const k = keys(sessionId);
      const [admitted, held] = await Promise.all([redis.zcard(k.admitted), redis.scard(k.held)]);
      return admitted - held;
    },

    async publish(message: string): Promise<void> {
      await redis.publish(`${prefix}:updates`, message);
    },

    /** Takes or renews the ticker lease for `instanceId`; true while this instance is the one ticker. */
    async lead(instanceId: string, leaseMs: number): Promise<boolean> {
      return Number(await run.lead([tickerKey], [instanceId, leaseMs])) === 1;
    },

    async resign(instanceId: string): Promise<void> {
      await run.resign([tickerKey], [instanceId]);
    },
  };
}

