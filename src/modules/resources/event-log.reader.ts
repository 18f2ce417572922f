// A read-only view of seed 002's event log for other modules (decisions count a user's events after a
// decision as its reward), so they never read the resources module's tables themselves.
import type { Database } from '../../platform/db.ts';

export interface EventLogReader {
  /** For each (user_id, from): the user's events of `eventType` with from < ts <= from + windowMinutes. */
  countAfter(eventType: string, items: { userId: string; from: Date }[], windowMinutes: number): Promise<number[]>;
}

export function createEventLogReader(database: Database): EventLogReader {
  return {
    async countAfter(eventType, items, windowMinutes) {
      if (!items.length) return [];
      const rows = await database.query<{ i: number; n: number }>(
        `select d.i::int as i,
                (select count(*)::int from event_log e
                  where e.user_id = d.u and e.event_type = $3 and e.ts > d.t and e.ts <= d.t + make_interval(mins => $4::int)) as n
           from unnest($1::text[], $2::text[]::timestamptz[]) with ordinality as d(u, t, i)`,
        [items.map((x) => x.userId), items.map((x) => x.from.toISOString()), eventType, windowMinutes],
      );
      const out = new Array<number>(items.length).fill(0);
      for (const r of rows) out[Number(r.i) - 1] = Number(r.n);
      return out;
    },
  };
}
