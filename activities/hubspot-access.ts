/**
 * Opens a destination's HubSpot connection inside a worker: loads the destination, unseals its token
 * (the only place the plaintext exists), and builds a paced client. Also turns HubSpot errors into
 * Temporal failures — the one place activities classify errors for retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RateGovernor } from '../src/governor/governor';
import type { WaitInfo } from '../src/governor/governor';
import { HubSpotClient, type HubSpotCallEvent } from '../src/hubspot/client';
import { HubSpotApiError } from '../src/hubspot/errors';
import type { Sealer } from '../src/secrets/sealer';
import type { DestinationRecord, DestinationStore } from '../src/store/destinations';
import { AppError } from '../src/errors';

export interface HubSpotAccessDeps {
  destinations: DestinationStore;
  sealer: Sealer;
  governor: RateGovernor;
  requestTimeoutMs: number;
  onCall?: (e: HubSpotCallEvent) => void;
  /** Every wait for the account's rate budget (metrics). */
  onRateWait?: (w: WaitInfo) => void;
}

export const accountKeyOf = (portalId: number): string => `portal:${portalId}`;
export const tokenContext = (destinationId: string): string => `destination:${destinationId}`;

export async function loadDestination(deps: HubSpotAccessDeps, destinationId: string): Promise<DestinationRecord> {
  const d = await deps.destinations.get(destinationId);
  if (!d)
    throw ApplicationFailure.create({
      type: 'DestinationNotFound',
      message: `Destination ${destinationId} does not exist.`,
      nonRetryable: true,
    });
  return d;
}

export function clientFor(
  deps: HubSpotAccessDeps,
  d: Pick<DestinationRecord, 'id' | 'baseUrl' | 'sealedToken' | 'portalId'>,
  extra: { signal?: AbortSignal; onRateWait?: () => void; paced?: boolean } = {},
): HubSpotClient {
  return new HubSpotClient({
    baseUrl: d.baseUrl,
    token: deps.sealer.open(d.sealedToken, tokenContext(d.id)),
    timeoutMs: deps.requestTimeoutMs,
    governor: extra.paced === false ? undefined : deps.governor,
    accountKey: accountKeyOf(d.portalId),
    signal: extra.signal,
    onCall: deps.onCall,
    onRateWait: extra.onRateWait ?? deps.onRateWait,
  });
}

/**
 * HubSpot errors → Temporal failures. Auth, scope and bad-request errors are final (retrying cannot
 * help); rate limits and transient faults retry, after `Retry-After` when HubSpot gives one.
 */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof HubSpotApiError) {
    switch (err.kind) {
      case 'auth':
        return ApplicationFailure.create({ type: 'HubSpotAuthFailed', message: err.message, nonRetryable: true });
      case 'scope':
        return ApplicationFailure.create({
          type: 'HubSpotMissingScopes',
          message: err.message,
          nonRetryable: true,
          details: [{ requiredScopes: err.info.requiredScopes ?? [] }],
        });
      case 'rate_limit':
      case 'transient':
        return ApplicationFailure.create({
          type: err.kind === 'rate_limit' ? 'HubSpotRateLimited' : 'HubSpotUnavailable',
          message: err.message,
          ...(err.info.retryAfterMs ? { nextRetryDelay: err.info.retryAfterMs } : {}),
        });
      default:
        return ApplicationFailure.create({ type: 'HubSpotRequestInvalid', message: err.message, nonRetryable: true });
    }
  }
  if (err instanceof AppError && !err.retryable) {
    return ApplicationFailure.create({
      type: err.code === 'BAD_REQUEST' ? 'SourceInvalid' : err.code,
      message: err.message,
      nonRetryable: true,
    });
  }
  return err;
}

/** Runs an activity body and converts its errors once. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(err);
  }
}
