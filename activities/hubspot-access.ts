/**
 * Opens a destination's HubSpot connection inside a worker: loads the destination, unseals its token
 * (the only place the plaintext exists), and builds a paced client. Also turns errors into Temporal
 * failures — the one place activities classify errors for retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RateGovernor } from '../src/governor/governor';
import type { WaitInfo } from '../src/governor/governor';
import { HubSpotClient, type HubSpotCallEvent } from '../src/hubspot/client';
import { HubSpotApiError } from '../src/hubspot/errors';
import type { ApiVersion } from '../src/hubspot/paths';
import type { Sealer } from '../src/secrets/sealer';
import type { DestinationRecord, Destinations } from '../src/store/destinations';
import { AppError } from '../src/errors';
import { applicationFailure, Failure } from '../src/failures';
import { tokenContext } from '../src/destinations/token-context';

export interface HubSpotAccessDeps {
  destinations: Destinations;
  sealer: Sealer;
  governor: RateGovernor;
  requestTimeoutMs: number;
  /** The deployment's HubSpot API version (HUBSPOT_API_VERSION); a destination's own `apiVersion` wins. */
  apiVersion?: ApiVersion;
  onCall?: (e: HubSpotCallEvent) => void;
  /** Every wait for the account's rate budget (metrics). */
  onRateWait?: (w: WaitInfo) => void;
}

/** The version a destination's calls use: its own override, else the deployment's. */
export const apiVersionOf = (
  deps: Pick<HubSpotAccessDeps, 'apiVersion'>,
  d: Pick<DestinationRecord, 'apiVersion'>,
): ApiVersion | undefined => d.apiVersion ?? deps.apiVersion;

export const accountKeyOf = (portalId: number): string => `portal:${portalId}`;

export async function loadDestination(deps: HubSpotAccessDeps, destinationId: string): Promise<DestinationRecord> {
  const d = await deps.destinations.get(destinationId);
  if (!d) throw applicationFailure(Failure.DestinationNotFound, `Destination ${destinationId} does not exist.`);
  return d;
}

export function clientFor(
  deps: HubSpotAccessDeps,
  d: Pick<DestinationRecord, 'id' | 'baseUrl' | 'sealedToken' | 'portalId' | 'apiVersion'>,
  extra: { signal?: AbortSignal; onRateWait?: () => void; paced?: boolean } = {},
): HubSpotClient {
  return new HubSpotClient({
    baseUrl: d.baseUrl,
    token: deps.sealer.open(d.sealedToken, tokenContext(d.id)),
    timeoutMs: deps.requestTimeoutMs,
    apiVersion: apiVersionOf(deps, d),
    governor: extra.paced === false ? undefined : deps.governor,
    accountKey: accountKeyOf(d.portalId),
    signal: extra.signal,
    onCall: deps.onCall,
    onRateWait: extra.onRateWait ?? deps.onRateWait,
  });
}

/**
 * Errors → Temporal failures, each as the failure it is (src/failures.ts). Auth, scope and bad-request
 * errors are final; rate limits and transient faults retry, after `Retry-After` when HubSpot gives one.
 * Retryable app errors and unknown errors pass through (Temporal retries them).
 */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof HubSpotApiError) {
    return applicationFailure(err.failure, err.message, {
      ...(err.kind === 'scope' ? { details: [{ requiredScopes: err.info.requiredScopes ?? [] }] } : {}),
      ...(err.retryable ? { nextRetryDelay: err.info.retryAfterMs } : {}),
    });
  }
  if (err instanceof AppError && !err.retryable) return applicationFailure(err.failure, err.message, { nonRetryable: true });
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
