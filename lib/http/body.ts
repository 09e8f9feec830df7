/**
 * Request bodies: the accepted content types, a size limit, and parser failures turned into
 * clear 4xx errors (415 for other types, 413 above the limit, 400 for a body that does not parse).
 */
import bodyParser from 'koa-bodyparser';
import type Koa from 'koa';
import { HttpError } from '../errors.js';

type BodyType = 'json' | 'form' | 'text';

const MEDIA_TYPES: Record<BodyType, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  text: 'text/plain',
};

/** A middleware that parses `types` up to `limitBytes` into `ctx.request.body`. */
export function parseBody(types: BodyType[], limitBytes: number): Koa.Middleware {
  const accepted = types.map((t) => MEDIA_TYPES[t]);
  const limit = String(limitBytes);
  const parser = bodyParser({ enableTypes: types, jsonLimit: limit, formLimit: limit, textLimit: limit, strict: false });
  return async (ctx, next) => {
    if (ctx.request.length !== 0 && ctx.request.type !== '' && !ctx.request.is(accepted)) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send one of: ${accepted.join(', ')}`);
    }
    try {
      await parser(ctx, async () => undefined);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 413) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`, { cause: err });
      if (status === 415) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send one of: ${accepted.join(', ')}`, { cause: err });
      if (status !== undefined && status >= 400 && status < 500) {
        const what = ctx.request.is('application/json') ? 'valid JSON' : 'well-formed';
        throw new HttpError(400, 'INVALID_BODY', `request body is not ${what}`, { cause: err });
      }
      throw err;
    }
    await next();
  };
}
