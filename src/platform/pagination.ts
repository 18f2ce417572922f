// One way to page a list: `page` (from 1) and `size` (1–100, default 10) in the query, the rows as
// the body and the total in X-Total-Count (seed 002's convention, used by every list).
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';

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

/** Answers one page: the rows as the body, the total in X-Total-Count (none when not counted). */
export function sendPage<T>(reply: FastifyReply, page: { rows: T[]; total: number | null }): T[] {
  if (page.total !== null) reply.header('x-total-count', String(page.total));
  return page.rows;
}
