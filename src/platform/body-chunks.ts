// A request body kept as the chunks it arrived in. Fastify's `parseAs: 'buffer'` joins them into one
// Buffer on the event loop: for a multi-MB upload that one allocation and copy held the loop for
// 25–33 ms on this project's VMs (fresh memory is slow to touch there). A route that hands its body to
// a worker thread moves the chunks instead (each owns its memory: Node copies every body chunk out of
// the socket's buffer) and joins them there.
import type { FastifyInstance } from 'fastify';
import { errorCodes } from 'fastify';
import type { Readable } from 'node:stream';

/** Parses `types` in `app` as `Uint8Array[]`, refusing more than the route's `bodyLimit` as Fastify does (413). */
export function addChunkedBodyParser(app: FastifyInstance, types: string[]): void {
  for (const type of types) {
    app.addContentTypeParser(type, (req, payload, done) => {
      readChunks(payload, req.routeOptions.bodyLimit, Number(req.headers['content-length'])).then(
        (chunks) => done(null, chunks),
        (err: Error) => done(err, undefined),
      );
    });
  }
}

function readChunks(payload: Readable, limit: number, declared: number): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    if (declared > limit) return reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    const chunks: Uint8Array[] = [];
    let received = 0;
    const stop = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit) {
        stop();
        return reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      chunks.push(chunk);
    };
    // Node's parser ends the body at its declared length, so what arrived is what was declared.
    const onEnd = () => {
      stop();
      resolve(chunks);
    };
    const onError = (err: Error & { statusCode?: number }) => {
      stop();
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      reject(err);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}
