/** Request and response schemas of the streaming routes (profile updates, stream control and stats). */
import { z } from 'zod';

export const MAX_PROFILES_PER_REQUEST = 1000;

export const XdmProfileSchema = z
  .record(z.string(), z.unknown())
  .describe(
    'An XDM profile: identityMap.Email[], segmentMembership.<namespace>.<audienceId>.{status,lastQualificationTime}, timestamp, mapped attributes',
  )
  .meta({ id: 'XdmProfile' });

/** One profile or an array (the count is checked in the handler, so more than 1,000 answers 413, not 400). */
export const ProfilesBody = z.union([XdmProfileSchema, z.array(XdmProfileSchema)]);

export const ProfilesAccepted = z.object({
  destinationId: z.string(),
  accepted: z.number().describe('Updates now durably in the stream (Temporal accepted them)'),
  workflowId: z.string(),
});

export const StreamOptionsSchema = z.object({
  maxLatencyMs: z.number(),
  batchSize: z.number(),
  maxConcurrentFlushes: z.number(),
  maxHistoryEvents: z.number(),
  heartbeatTimeoutMs: z.number(),
  drainTimeoutMs: z.number(),
  lagAlertMs: z.number(),
});

export const StreamSettingsBody = z.strictObject({
  maxLatencyMs: z.number().int().min(10).max(3_600_000).optional().describe('Flush when the oldest buffered update is this old'),
  batchSize: z.number().int().min(1).max(100).optional(),
  maxConcurrentFlushes: z.number().int().min(1).max(32).optional(),
  lagAlertMs: z
    .number()
    .int()
    .min(1000)
    .max(86_400_000)
    .optional()
    .describe('Alert (stream.lag_above_threshold) when an update has waited this long'),
});

const reasons = z.record(z.string(), z.number());

export const StreamStatsView = z
  .object({
    destinationId: z.string(),
    workflowId: z.string(),
    state: z.enum(['not_started', 'running', 'paused', 'draining']),
    pausedReason: z.string().optional(),
    received: z.number(),
    sent: z.number(),
    created: z.number(),
    updated: z.number(),
    rejected: z.number(),
    rejectedByReason: reasons,
    ignored: z.number().describe('Updates naming no audience activated on the destination'),
    ignoredByReason: reasons,
    ignoredStatuses: z.number().describe('Audience statuses dropped because their audience is not activated here'),
    merged: z.number().describe('Updates folded into a newer buffered update of the same email'),
    stale: z.number().describe('Updates dropped because a newer one of the same email was already buffered or written'),
    unchanged: z.number().describe('Updates not sent because HubSpot already holds exactly these values (confirmed-state memory)'),
    buffered: z.number(),
    bufferedBytes: z.number(),
    inFlight: z.number(),
    flushesInFlight: z.number(),
    flushes: z.number(),
    lastFlushAt: z.string().optional(),
    oldestBufferedAt: z.string().optional(),
    lagMs: z.number().describe('Age of the oldest update not yet sent (0 when none)'),
    options: StreamOptionsSchema.optional(),
    runs: z.number(),
    historyLength: z.number(),
    startedAt: z.string().optional(),
    webUiUrl: z.string().optional(),
  })
  .meta({ id: 'StreamStats' });

export const StreamControlAccepted = z.object({
  destinationId: z.string(),
  workflowId: z.string(),
  state: z.enum(['pausing', 'resuming', 'configuring']),
});
