// Reading the rest of a refused request body. An HTTP/1.1 client sends the whole body before it
// reads the answer; if the server answers 413 and closes while the body is still arriving, the
// client's writes fail (EPIPE, ECONNRESET, Node's "fetch failed") and it never sees the 413.
import type { IncomingMessage } from 'node:http';

/** At most this much of a refused body is read and discarded (or the body limit, if larger). */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
/** …and for at most this long; then the connection is simply closed. */
export const DRAIN_MAX_MS = 10_000;

/**
 * Reads and discards what is left of a request body, so the answer reaches a client that is still
 * sending. Bodies declared (or found) larger than the budget are not waited for: answering at once
 * and closing is cheaper than reading them.
 */
export function drainRequest(req: IncomingMessage, bodyLimit: number): Promise<void> {
  const budget = Math.max(DRAIN_MAX_BYTES, bodyLimit);
  return new Promise((resolve) => {
    if (req.complete || req.destroyed || req.readableEnded) return resolve();
    const declared = Number(req.headers['content-length']);
    if (declared > budget) return resolve();
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', finish);
      req.off('error', finish);
      req.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > budget) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    req.on('data', onData);
    req.once('end', finish);
    req.once('error', finish);
    req.once('close', finish);
    req.resume();
  });
}
