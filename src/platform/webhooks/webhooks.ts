// Outbound webhooks as a job type (`webhooks.deliver`): callback URLs and subscribers. Each delivery
// is one job: an HTTP POST of JSON with an HMAC-SHA256 signature made with the target's own secret,
// an idempotency key the receiver deduplicates on, a timeout, retries with exponential backoff, and
// one delivery-log row per attempt. Secrets never enter the job's data: the module that owns a target
// registers a signer that looks its secret up when the delivery runs.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WebhooksConfig } from '../../config.ts';
import type { Db } from '../db.ts';
import { AppError } from '../errors.ts';
import { PermanentJobError, type JobContext, type JobSystem, type Tx } from '../jobs/jobs.ts';
import { guardedLookup, matchHost, refuseUrl } from './host-policy.ts';
import { webhookDeliveries } from './webhooks.tables.ts';

export const WEBHOOK_QUEUE = 'webhooks.deliver';
export const SIGNATURE_HEADER = 'x-arbiter-signature';

export interface WebhookRequest {
  url: string;
  /** What happened, e.g. `alert.raised`; sent as X-Arbiter-Event. */
  event: string;
  body: object;
  /** Stable across retries and duplicates of the same delivery: receivers deduplicate on it. */
  idempotencyKey: string;
  /** `<kind>:<id>` of the receiver; its kind's signer supplies the secret. */
  target: string;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type Webhooks = ReturnType<typeof createWebhooks>;

export function createWebhooks(deps: { jobs: JobSystem; db: Db; config: WebhooksConfig }) {
  const { jobs, db, config } = deps;
  const signers = new Map<string, (id: string) => Promise<string | null>>();

  async function record(job: JobContext<WebhookRequest>, row: { ok: boolean; status: number | null; error: string | null; started: number }) {
    await db.insert(webhookDeliveries).values({
      job_id: job.id,
      target: job.data.target,
      url: job.data.url,
      event: job.data.event,
      idempotency_key: job.data.idempotencyKey,
      attempt: job.attempt + 1,
      ok: row.ok,
      status: row.status,
      error: row.error?.slice(0, 500) ?? null,
      duration_ms: Math.round(performance.now() - row.started),
    });
  }

  function post(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
    const match = matchHost(url.hostname, config.allowedHosts);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal, lookup: guardedLookup(match) as never }, (res) => {
        res.resume(); // the answer's body is not kept
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function deliver(job: JobContext<WebhookRequest>) {
    const req = job.data;
    const started = performance.now();
    const url = new URL(req.url);
    const refused = refuseUrl(url, config.allowedHosts);
    if (refused) {
      await record(job, { ok: false, status: null, error: `refused: ${refused}`, started });
      throw new PermanentJobError(refused);
    }
    const [kind, id] = splitTarget(req.target);
    const secret = await signers.get(kind)?.(id);
    if (!secret) {
      await record(job, { ok: false, status: null, error: 'refused: the target no longer exists', started });
      throw new PermanentJobError(`webhook target ${req.target} no longer exists`);
    }
    const body = JSON.stringify(req.body);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Arbiter-Webhooks/1',
      'x-arbiter-event': req.event,
      'x-arbiter-delivery': job.id,
      'idempotency-key': req.idempotencyKey,
      [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
    };
    let status: number;
    try {
      status = await post(url, body, headers, AbortSignal.any([job.signal, AbortSignal.timeout(config.timeoutMs)]));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const message = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${config.timeoutMs} ms` : e.message;
      await record(job, { ok: false, status: null, error: message, started });
      if (e.code === 'EWEBHOOKHOST') throw new PermanentJobError(e.message);
      throw new Error(`delivery failed: ${message}`);
    }
    const ok = status >= 200 && status < 300;
    await record(job, { ok, status, error: ok ? null : `HTTP ${status}`, started });
    if (!ok) throw new Error(`receiver answered HTTP ${status}`);
    return { status };
  }

  jobs.define<WebhookRequest, { status: number }>({
    name: WEBHOOK_QUEUE,
    handler: deliver,
    concurrency: 10,
    retryLimit: config.retryLimit,
    retryDelaySeconds: config.retryDelaySeconds,
    backoff: true,
    retryDelayMaxSeconds: 3600,
    timeoutSeconds: Math.ceil(config.timeoutMs / 1000) + 5,
  });

  return {
    /** How a target kind's secret is found at delivery time (`alert-webhook` → its subscription's secret). */
    registerSigner(kind: string, secretOf: (id: string) => Promise<string | null>): void {
      signers.set(kind, secretOf);
    },

    /** Throws UNPROCESSABLE when `url` may not receive webhooks under WEBHOOK_ALLOWED_HOSTS. */
    checkUrl(raw: string): URL {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new AppError('UNPROCESSABLE', `url is not a valid absolute URL: ${JSON.stringify(raw)}`);
      }
      const refused = refuseUrl(url, config.allowedHosts);
      if (refused) throw new AppError('UNPROCESSABLE', refused);
      return url;
    },

    async sendMany(requests: WebhookRequest[], opts: { tx?: Tx } = {}): Promise<void> {
      await jobs.enqueueMany(WEBHOOK_QUEUE, requests.map((data) => ({ data })), opts);
    },

    async listDeliveries(target: string, page: number, size: number) {
      const where = eq(webhookDeliveries.target, target);
      const [rows, total] = await Promise.all([
        db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.id)).limit(size).offset((page - 1) * size),
        db.select({ n: sql<number>`count(*)::int`.mapWith(Number) }).from(webhookDeliveries).where(where),
      ]);
      return { rows: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })), total: total[0].n };
    },

    /** Deletes delivery-log rows older than `days`. */
    async prune(days: number): Promise<void> {
      await db.delete(webhookDeliveries).where(and(lt(webhookDeliveries.created_at, new Date(Date.now() - days * 86_400_000))));
    },
  };
}

function splitTarget(target: string): [string, string] {
  const i = target.indexOf(':');
  return i < 0 ? [target, ''] : [target.slice(0, i), target.slice(i + 1)];
}
