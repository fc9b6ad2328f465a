import type { HiveConfig } from '@hive/config';

/** Long enough for Kubernetes to take a terminating pod out of its Services' endpoints everywhere (kube-proxy, ingress). */
const MAX_READINESS_GRACE_MS = 5_000;

/**
 * How long a replica keeps serving after SIGTERM with readiness at 503, so that load balancers stop sending it
 * requests before its HTTP server closes (Terminus' gracefulShutdownTimeoutMs).
 *
 * It is a part of SHUTDOWN_GRACE_MS, not added to it: SHUTDOWN_GRACE_MS is what the whole shutdown may take (it must
 * fit in the pod's terminationGracePeriodSeconds), so the readiness grace takes at most a fifth of it (5 s of the
 * default 25 s) and the coordinator's drain must fit in the rest.
 */
export function readinessGraceMs(config: Pick<HiveConfig, 'shutdownGraceMs'>): number {
  return Math.min(MAX_READINESS_GRACE_MS, Math.floor(config.shutdownGraceMs / 5));
}
