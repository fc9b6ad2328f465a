import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from './gateway-error.js';

export const PRIORITY_HEADER = 'x-hive-priority';
export const QUEUE_TIMEOUT_HEADER = 'x-hive-queue-timeout-ms';
const DEFAULT_PRIORITY = 3;
const MAX_QUEUE_TIMEOUT_MS = 3_600_000;

interface CallHeaders {
  priority: number;
  queueTimeoutMs: number;
}

/** A whole number from a header, within [min, max]; undefined when absent; a 400 naming the header otherwise. */
function wholeNumber(headers: IncomingHttpHeaders, name: string, min: number, max: number): number | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw badRequest(`${name} must be a whole number from ${min} to ${max}`, name);
  }
  return value;
}

/** What Hive's own request headers ask of a gateway call: its priority (1–5) and its queue timeout. */
export function callHeaders(headers: IncomingHttpHeaders, defaultQueueTimeoutMs: number): CallHeaders {
  return {
    priority: wholeNumber(headers, PRIORITY_HEADER, 1, 5) ?? DEFAULT_PRIORITY,
    queueTimeoutMs: wholeNumber(headers, QUEUE_TIMEOUT_HEADER, 0, MAX_QUEUE_TIMEOUT_MS) ?? defaultQueueTimeoutMs,
  };
}
