// One way to page a list: `page` (from 1) and `size` (1–100, default 10) in the query, the rows as
// the body and the total in X-Total-Count (seed 002's convention, used by every list). A client may
// ask for a cheaper total with PostgREST's `Prefer: count=…` where a list supports it.
import { count, sql, type SQLWrapper, type Subquery } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { rowsOf, type Db } from './db.ts';

/** The query properties of a paged list; defaults are filled in by validation. */
export const PageProps = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'page number, from 1' }),
  size: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'items per page, 1 to 100' }),
};

export interface PageQuery {
  page: number;
  size: number;
}

/** The rows to skip before a page. */
export const offsetOf = (q: PageQuery): number => (q.page - 1) * q.size;

/** What X-Total-Count holds (PostgREST's Prefer: count=…): exact, the planner's estimate, exact below ESTIMATE_ABOVE and planned above, or no count. */
export const COUNT_KINDS = ['exact', 'planned', 'estimated', 'none'] as const;
export type CountKind = (typeof COUNT_KINDS)[number];
/** count=estimated counts exactly up to this many rows (by the planner's estimate), and estimates above. */
export const ESTIMATE_ABOVE = 10_000;

/** The count kind a `Prefer: count=…` header asks for; unknown preferences are ignored (RFC 7240). */
export function preferredCount(prefer: string | string[] | undefined): CountKind | undefined {
  const text = Array.isArray(prefer) ? prefer.join(',') : prefer;
  const m = text ? /(?:^|[,;\s])count=(\w+)/i.exec(text) : null;
  const kind = m?.[1].toLowerCase();
  return (COUNT_KINDS as readonly string[]).includes(kind ?? '') ? (kind as CountKind) : undefined;
}

export interface Counted {
  total: number | null;
  counted: CountKind;
}

/** The total of a list's rows (`rows`: the list's select, without order or limit) of the kind asked. */
export async function countRows(db: Db, rows: SQLWrapper & { as(alias: string): Subquery }, kind: CountKind): Promise<Counted> {
  const exact = async () => (await db.select({ n: count() }).from(rows.as('counted')))[0].n;
  // The planner's row estimate: no scan, however large the table.
  const planned = async (): Promise<number> => {
    const found = rowsOf(await db.execute(sql`explain (format json) ${rows}`));
    const raw = Object.values(found[0])[0];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: { 'Plan Rows': number } }];
    return Math.round(plan[0].Plan['Plan Rows']);
  };
  switch (kind) {
    case 'exact':
      return { total: await exact(), counted: 'exact' };
    case 'planned':
      return { total: await planned(), counted: 'planned' };
    case 'estimated': {
      const estimate = await planned();
      return estimate > ESTIMATE_ABOVE ? { total: estimate, counted: 'planned' } : { total: await exact(), counted: 'exact' };
    }
    case 'none':
      return { total: null, counted: 'none' };
    default:
      throw new Error(`unknown count kind ${kind satisfies never}`);
  }
}

/**
 * Answers one page: the rows as the body, the total in X-Total-Count (none when not counted), and,
 * when the client asked for a kind of count, the kind given in Preference-Applied.
 */
export function sendPage<T>(reply: FastifyReply, page: { rows: T[]; total: number | null; counted?: CountKind }, asked?: CountKind): T[] {
  if (page.total !== null) reply.header('x-total-count', String(page.total));
  if (asked && page.counted) reply.header('preference-applied', `count=${page.counted}`);
  return page.rows;
}

/** The request headers of a list that takes `Prefer: count=…` (for the OpenAPI document; unknown preferences are ignored). */
export const PreferCountHeaders = Type.Object({
  prefer: Type.Optional(
    Type.String({
      maxLength: 1024,
      description:
        'count=exact (the default), count=planned (the planner\'s estimate, no scan), count=estimated (exact up to 10,000 rows, planned above) or count=none; the answer says which it gave in Preference-Applied',
    }),
  ),
});
