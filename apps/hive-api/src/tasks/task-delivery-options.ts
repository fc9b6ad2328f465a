import { createHash } from 'node:crypto';
import { BadRequestException, Injectable } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import type { IdempotencyKey } from '@hive/database';
import type { Principal } from '../auth/roles.js';
import { canonicalJson } from '../openapi/canonical-json.js';
import type { WaitQuery } from './dto/wait.query.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
/** Printable ASCII, as HTTP header values are, 1–255 characters. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** How a request asks for its answer: `?wait=`, and the Idempotency-Key of a submission, checked against the config. */
@Injectable()
export class TaskDeliveryOptions {
  constructor(private readonly config: HiveConfig) {}

  /** The wait asked for in ms; undefined for none. 400 beyond TASK_WAIT_MAX_S. */
  waitMs({ wait }: WaitQuery): number | undefined {
    if (wait === undefined) return undefined;
    const max = this.config.delivery.waitMaxS;
    if (wait > max) throw new BadRequestException([`wait must not be greater than ${max} (TASK_WAIT_MAX_S)`]);
    return wait * 1000;
  }

  /**
   * The request's Idempotency-Key, scoped to the API key that sent it, with a hash of what it asks (`route` and
   * `body`, whatever the order of its keys); undefined when it has none. 400 for a malformed key.
   */
  idempotencyKey(
    header: string | string[] | undefined,
    principal: Principal | undefined,
    route: string,
    body: unknown,
  ): IdempotencyKey | undefined {
    if (header === undefined) return undefined;
    const key = Array.isArray(header) ? undefined : header.trim();
    if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
      throw new BadRequestException(['Idempotency-Key must be 1–255 printable ASCII characters, given once']);
    }
    if (principal === undefined) throw new Error('an idempotent submission reached the handler without a principal');
    const requestHash = createHash('sha256')
      .update(`${route}\n${canonicalJson(body)}`)
      .digest();
    return { owner: principal.keyId, key, requestHash, ttlHours: this.config.delivery.idempotencyTtlHours };
  }
}
