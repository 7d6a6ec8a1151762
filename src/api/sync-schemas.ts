/** Request and response schemas of source connections and syncs (docs/syncs.md). Requests are strict. */
import { z } from 'zod';
import { ActivationOptionsSchema, AudienceSchema, SqlSourceSchema } from './schemas';

const MAX_AUDIENCES = 50;

export const CreateConnectionBody = z.strictObject({
  name: z.string().min(1).max(200),
  kind: z.literal('postgres').default('postgres'),
  url: z
    .string()
    .min(1)
    .max(2000)
    .describe('postgres://user:password@host:5432/database; checked with a read-only query, stored sealed, never returned'),
});

export const UpdateConnectionBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  url: z.string().min(1).max(2000).optional().describe('A new URL (checked again); absent = keep the current one'),
});

export const ConnectionViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.literal('postgres'),
    url: z.string().describe('The URL without its password'),
    origin: z.enum(['api', 'environment']),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .meta({ id: 'SourceConnection' });

/** `15s`, `30m`, `1h`, `1d`: at least 15 seconds. */
const Every = z
  .string()
  .regex(/^[1-9][0-9]{0,5}(s|m|h|d)$/, 'every is a number and a unit: 15s, 30m, 1h, 1d')
  .refine((v) => durationMs(v) >= 15_000, 'A sync runs at most every 15s');

export function durationMs(v: string): number {
  const n = Number(v.slice(0, -1));
  const unit = v.slice(-1);
  return n * (unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
}

export const ScheduleSchema = z.union([
  z.strictObject({ every: Every }),
  z.strictObject({
    cron: z
      .string()
      .min(9)
      .max(200)
      .regex(/^\S+( \S+){4}$/, 'cron has five fields: minute hour day-of-month month day-of-week, e.g. "0 * * * *"'),
    timeZone: z.string().min(1).max(100).optional().describe('IANA time zone of the cron expression (default UTC)'),
  }),
]);

/** A sync reads a source that changes between runs: a file under the allowed folders, or a query. */
export const SyncSourceSchema = z.union([
  z.strictObject({ path: z.string().min(1).max(1000).describe("A file under one of the worker's allowed source directories") }),
  SqlSourceSchema,
]);

const AudienceList = z
  .array(AudienceSchema)
  .min(1, 'List at least one audience')
  .max(MAX_AUDIENCES, `At most ${MAX_AUDIENCES} audiences per sync`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, a] of list.entries()) {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', message: `Audience id '${a.id}' is listed twice`, path: [i, 'id'] });
      seen.add(a.id);
    }
  });

export const CreateSyncBody = z.strictObject({
  name: z.string().min(1).max(200),
  audiences: AudienceList,
  source: SyncSourceSchema,
  schedule: ScheduleSchema,
  options: ActivationOptionsSchema.optional(),
});

export const UpdateSyncBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  audiences: AudienceList.optional(),
  source: SyncSourceSchema.optional(),
  schedule: ScheduleSchema.optional(),
  options: ActivationOptionsSchema.optional(),
});

export const SyncRunView = z.object({
  activationId: z.string(),
  status: z.string().optional(),
  executionStatus: z.string(),
  startedAt: z.string().optional(),
  closedAt: z.string().optional(),
});

export const SyncViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    destinationId: z.string(),
    audiences: z.array(z.object({ id: z.string(), name: z.string() })),
    source: z.unknown(),
    schedule: z.unknown(),
    options: z.object({ fullResync: z.boolean().optional(), exitMissing: z.boolean().optional() }).optional(),
    paused: z.boolean().optional(),
    nextRunTimes: z.array(z.string()).optional(),
    recentRuns: z.array(SyncRunView).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Sync' });
