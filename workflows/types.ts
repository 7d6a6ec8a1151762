/**
 * Messages between the API, workflows and activities. Everything here travels through Temporal history:
 * ids, cursors, counts and reason codes only — never tokens, emails or other contact data.
 */
import { Failure } from '../src/failures';
import type { DeliveryCounts } from '../src/delivery/counts';
import type { SyncMode } from '../src/delivery/sync-modes';
import type { SourceCursor, SourceRef } from '../src/members/types';
import type { SupportedApiVersion } from '../src/hubspot-versions';

export type { DeliveryCounts, SourceCursor, SourceRef };

/** How an audience is encoded in HubSpot: its status property (default), a MANUAL contact list, or both. */
export type AudienceEncoding = 'property' | 'list' | 'both';

export interface AudienceRef {
  id: string;
  name: string;
  /** Default `property`. */
  encoding?: AudienceEncoding;
}

/** Whether the audience keeps a HubSpot list. */
export const usesList = (a: Pick<AudienceRef, 'encoding'>): boolean => a.encoding === 'list' || a.encoding === 'both';
/** Whether the audience's status property is written. */
export const usesProperty = (a: Pick<AudienceRef, 'encoding'>): boolean => a.encoding !== 'list';

/** Per list-encoded audience: its HubSpot list and what the run wrote to it (members written = ids accepted). */
export interface AudienceListSummary {
  listId: string;
  listName: string;
  added: number;
  removed: number;
  /** Members whose remembered record id HubSpot no longer had, found again by email or merged id. */
  reResolved: number;
  /** Members that could not be written (no HubSpot record found): stored rejections with the reason. */
  rejected: number;
  /** Leavers HubSpot no longer has at all (archived or deleted): nothing left to remove. */
  gone: number;
}

/**
 * Fallbacks when a run's options do not say (the worker's config defaults are these same numbers; the
 * workflow cannot read the environment, so they live here).
 */
export const DEFAULT_ACTIVATION_OPTIONS = { maxHistoryEvents: 2000, heartbeatTimeoutMs: 30_000 } as const;

/** Tuning knobs; tests lower them to exercise continue-as-new and fast failure detection. */
export interface ActivationOptions {
  pageSize?: number;
  upsertConcurrency?: number;
  /** Pages one activity delivers before reporting back (progress), and its time budget. */
  pagesPerActivity?: number;
  activityMaxMillis?: number;
  /** Continue-as-new once a run's history has this many events (Temporal suggests ≤ 4,096; hard limit 51,200). */
  maxHistoryEvents?: number;
  /** How soon a dead worker's page is retried elsewhere. */
  heartbeatTimeoutMs?: number;
  /** Ignore the confirmed-state memory: send every member (the memory is still refreshed). */
  fullResync?: boolean;
  /** The source is a complete snapshot of the listed audiences: write `exited` for remembered members it lacks. */
  exitMissing?: boolean;
  /** Read HubSpot and report what a run would do (`summary.plan`, GET …/plan), writing nothing. */
  dryRun?: boolean;
  /** `upsert` (default) creates or updates; `update` never creates (NOT_IN_HUBSPOT); `create` never changes (ALREADY_IN_HUBSPOT). */
  mode?: SyncMode;
  /** Rejection guard: stop the run (REJECTION_LIMIT) once the rejected share of members read passes this percentage. */
  maxRejectedPercent?: number;
  /** Members read before the guard judges (default 100). */
  guardMinRecords?: number;
}

export type { SyncMode };

/** Members read before the rejection guard judges, when a run does not say. */
export const DEFAULT_GUARD_MIN_RECORDS = 100;

/** Most audiences one activation may list. */
export const MAX_AUDIENCES = 50;

export type ActivationPhase =
  'starting' | 'validating' | 'ensuring-property' | 'sending' | 'waiting-daily-limit' | 'finishing' | 'completed' | 'failed' | 'cancelled';

/** State carried across continue-as-new. */
export interface ActivationCarry {
  cursor: SourceCursor;
  counts: DeliveryCounts;
  pagesDone: number;
  runsSoFar: number;
  startedAt: string;
  propertyName: string;
  /** Several-audience runs: the status property of each listed audience, in the order of `audiences`. */
  propertyNames?: string[];
  totalRecords?: number;
  /** The HubSpot portal the run started on: every page must still write there (absent in runs recorded before). */
  portalId?: number;
  /** Dry runs: the audience status properties a real run would create. */
  propertiesToCreate?: string[];
}

export interface ActivationInput {
  activationId: string;
  destinationId: string;
  /** The first listed audience (the only one in runs recorded before several-audience runs). */
  audience: AudienceRef;
  /** Every listed audience, `audience` first; absent in one-audience runs recorded before. */
  audiences?: AudienceRef[];
  source: SourceRef;
  rerunOf?: string;
  /**
   * A run of a sync (src/api/routes/syncs.ts). A run its Temporal Schedule starts has `activationId: ''`:
   * its id is its workflow id (the schedule's id + the scheduled time), and its first step records it.
   */
  syncId?: string;
  options?: ActivationOptions;
  carry?: ActivationCarry;
}

export interface ActivationSummary extends DeliveryCounts {
  activationId: string;
  destinationId: string;
  audience: AudienceRef;
  audiences?: AudienceRef[];
  /** `exitMissing` runs: exits written (contact × audience). */
  exitsWritten?: number;
  /** List-encoded audiences: the list and its membership writes, per audience id. */
  lists?: Record<string, AudienceListSummary>;
  /** A dry run: nothing was written; `plan` says what a real run would do. */
  dryRun?: boolean;
  plan?: NonNullable<DeliveryCounts['plan']> & { propertiesToCreate?: string[] };
  status: 'completed' | 'completed_with_rejections';
  pages: number;
  runs: number;
  startedAt: string;
  finishedAt: string;
}

export interface ActivationProgress {
  activationId: string;
  destinationId: string;
  audience: AudienceRef;
  audiences?: AudienceRef[];
  phase: ActivationPhase;
  pagesDone: number;
  totalRecords?: number;
  counts: DeliveryCounts;
  startedAt: string;
  waitingUntil?: string;
  waitReason?: string;
  runs: number;
  /** Where the page activity under way started: its live checkpoint in the store is keyed by it. */
  activityCursor?: SourceCursor;
}

/** The audiences a run lists (one for runs started before several-audience runs). */
export function audiencesOf(input: Pick<ActivationInput, 'audience' | 'audiences'>): AudienceRef[] {
  return input.audiences && input.audiences.length > 0 ? input.audiences : [input.audience];
}

/** Outcome of checking a destination's configuration against its HubSpot account. */
export interface ConfigProblem {
  code: string;
  message: string;
  field?: string;
}

export interface ConfigureDestinationInput {
  destinationId: string;
  /** Create a new destination, or update an existing one (only given fields change). */
  mode: 'create' | 'update';
  name?: string;
  description?: string;
  baseUrl?: string;
  /** Sealed for `destination:<id>`; absent on update = keep the current token. */
  sealedToken?: string;
  mapping?: { attributes: Array<{ source: string; target: string }>; matchKey?: string };
  /** HubSpot API version override; `null` on update = back to the deployment's HUBSPOT_API_VERSION. */
  apiVersion?: SupportedApiVersion | null;
}

export type ConfigureDestinationResult = { ok: true; destinationId: string; portalId: number } | { ok: false; problems: ConfigProblem[] };

/** Failure types the workflows treat as final (no retry); also the `code` users see. */
export const NON_RETRYABLE_TYPES = [
  Failure.HubSpotAuthFailed.type,
  Failure.HubSpotMissingScopes.type,
  Failure.HubSpotMappingInvalid.type,
  Failure.HubSpotPropertyConflict.type,
  Failure.HubSpotListConflict.type,
  Failure.HubSpotRequestInvalid.type,
  Failure.DestinationNotFound.type,
  Failure.DestinationPortalChanged.type,
  Failure.BadRequest.type,
  Failure.AccountingError.type,
  Failure.SqlQueryInvalid.type,
  Failure.SqlWriteRefused.type,
  Failure.SqlQueryTimeout.type,
  Failure.SourceConnectionFailed.type,
  Failure.SourceConnectionNotFound.type,
  Failure.SyncRunSkipped.type,
] as const;

/** Activity failure telling the workflow to wait for HubSpot's daily reset, then resume the page. */
export const DAILY_LIMIT_FAILURE = Failure.DailyLimitReached.type;
export interface DailyLimitDetails {
  resetsAt: string;
  cursor: SourceCursor;
}
