// The console's one API of its own: replaying a draft alert rule over stored events before saving it.
import type { Database } from '../../platform/db.ts';
import { validateRule } from '../events/rules.ts';
import { replayRule, type ReplayResult, type StoredEvent } from './replay.ts';

export const REPLAY_MAX_EVENTS = 5000;

export interface ConsoleServiceDeps {
  database: Pick<Database, 'query'>;
}

export function createConsoleService({ database }: ConsoleServiceDeps) {
  return {
    /** The draft is validated as POST /api/rules would (422 naming the field); then replayed over the latest `events` stored events. */
    async replay(input: { rule: Record<string, unknown>; events?: number }): Promise<ReplayResult & { truncated: boolean }> {
      const rule = validateRule(input.rule);
      const limit = input.events ?? REPLAY_MAX_EVENTS;
      const rows = await database.query<StoredEvent>(
        `select e.seq::float8 as seq, u.user_id as user_id, e.type, e.amount::text as amount, e.time::float8 as time
           from alert_events e join users u on u.id = e.user_id order by e.seq desc limit $1`,
        [limit + 1],
      );
      const truncated = rows.length > limit;
      const events = rows.slice(0, limit).map((r) => ({ ...r, seq: Number(r.seq), time: Number(r.time) })).reverse();
      return { ...replayRule(rule, events), truncated };
    },
  };
}
export type ConsoleService = ReturnType<typeof createConsoleService>;
