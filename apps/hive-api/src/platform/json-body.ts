import { BadRequestException, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { UNSUPPORTED_MEDIA_TYPE } from '../errors/framework-errors.js';

/** A JSON body must be an object or an array (as body-parser's strict mode had it): the DTOs are objects. */
const STARTS_AS_OBJECT_OR_ARRAY = /^[\t\n\r ]*[[{]/;

/** What JSON.parse says is wrong with a text (where, and what it found), for the 400. */
function syntaxError(text: string): string {
  try {
    JSON.parse(text);
    return 'The body is not valid JSON';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const unsupported = (message: string) => new HttpException(message, HttpStatus.UNSUPPORTED_MEDIA_TYPE);

/**
 * The one body type Hive reads: JSON, uncompressed. A body of any other type (or of none) gets 415, so does a
 * compressed one. An empty body reads as no body whatever its type, so a route without one (cancel) still runs and
 * a route with one names the missing fields, as under Express. `__proto__` and `constructor.prototype` keys are
 * dropped while parsing rather than refused: they never reached a DTO before either (the whitelist strips them),
 * and those requests keep their answers.
 */
export function acceptJsonBodiesOnly(instance: FastifyInstance): void {
  const parse = instance.getDefaultJsonParser('remove', 'remove');
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      return done(unsupported(`Content-Encoding ${encoding} is not supported: send the body uncompressed`), undefined);
    }
    if (text === '') return done(null, undefined);
    if (!STARTS_AS_OBJECT_OR_ARRAY.test(text)) {
      return done(new BadRequestException('The body must be a JSON object or array'), undefined);
    }
    void parse(request, text, (error, value) =>
      error === null ? done(null, value) : done(new BadRequestException(syntaxError(text)), undefined),
    );
  });
  instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
    (body as Buffer).length === 0 ? done(null, undefined) : done(unsupported(UNSUPPORTED_MEDIA_TYPE), undefined),
  );
}
