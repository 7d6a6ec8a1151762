/**
 * Request and response schemas of the client API. The API validates with them and the OpenAPI document
 * is generated from them. Request objects are strict: unknown fields are refused, not ignored.
 */
import { z } from 'zod';
import { SUPPORTED_API_VERSIONS } from '../hubspot-versions';

const id = z.string().min(1).max(200);

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });

export const AttributeMapping = z.strictObject({
  source: z.string().min(1).max(500).describe('Profile field path, e.g. person.name.firstName (a CSV column name for uploads)'),
  target: z.string().min(1).max(100).describe('HubSpot contact property internal name, e.g. firstname'),
});

export const MappingSchema = z.strictObject({
  attributes: z.array(AttributeMapping).max(500),
  matchKey: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Contact property to match contacts by: email (default) or a mapped custom property HubSpot marks hasUniqueValue'),
});

const ApiVersionField = z
  .enum(SUPPORTED_API_VERSIONS)
  .describe(
    "HubSpot API version of this destination's calls (2026-03, 2026-09 or the legacy v3); defaults to the deployment's HUBSPOT_API_VERSION",
  );

/** Defaults of activation options for runs of a destination that do not set them. */
export const RunDefaultsSchema = z.strictObject({
  maxRejectedPercent: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe("Rejection guard bound for this destination's runs (a run's options.maxRejectedPercent overrides it)"),
});

export const CreateDestinationBody = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  hubspot: z.strictObject({
    token: z.string().min(8).max(1000).describe('Private-app access token or service key; never returned'),
    baseUrl: z.string().url().max(500).optional().describe('Defaults to https://api.hubapi.com'),
    apiVersion: ApiVersionField.optional(),
  }),
  mapping: MappingSchema,
  runDefaults: RunDefaultsSchema.optional(),
});

export const UpdateDestinationBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  hubspot: z
    .strictObject({
      token: z.string().min(8).max(1000).optional(),
      baseUrl: z.string().url().max(500).optional(),
      apiVersion: ApiVersionField.nullable().optional().describe('null = back to the deployment default'),
    })
    .optional(),
  mapping: MappingSchema.optional(),
  runDefaults: RunDefaultsSchema.nullable().optional().describe('null clears them'),
});

export const DestinationView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().optional(),
    baseUrl: z.string(),
    apiVersion: z.enum(SUPPORTED_API_VERSIONS).optional(),
    portalId: z.number(),
    timeZone: z.string(),
    mapping: z.object({ attributes: z.array(z.object({ source: z.string(), target: z.string() })), matchKey: z.string().optional() }),
    runDefaults: z.object({ maxRejectedPercent: z.number().optional() }).optional(),
    audiences: z
      .array(z.object({ audienceId: z.string(), audienceName: z.string(), propertyName: z.string(), activatedAt: z.string() }))
      .optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Destination' });

export const PropertyView = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  fieldType: z.string(),
  groupName: z.string(),
  hubspotDefined: z.boolean(),
  writable: z.boolean(),
  options: z.array(z.object({ label: z.string(), value: z.string() })),
});

/** A PostgreSQL query through a source connection (docs/syncs.md). */
export const SqlSourceSchema = z.strictObject({
  sql: z.strictObject({
    connectionId: id.describe('A source connection (POST /v1/connections or SOURCE_CONNECTIONS)'),
    query: z
      .string()
      .min(1)
      .max(100_000)
      .describe('One SELECT; column names are source paths (SELECT email, first_name AS "person.name.firstName" …)'),
    key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('A unique, non-NULL column the rows are paged by (keyset); default email. Index it for large tables'),
  }),
});

export const SourceSchema = z.union([
  z.strictObject({ uploadId: id }),
  z.strictObject({ path: z.string().min(1).max(1000).describe("A file under one of the worker's allowed source directories") }),
  SqlSourceSchema,
]);

/**
 * A plain audience id: letters, digits and `_ . : -`, starting with a letter or digit (AEP's segment
 * UUIDs and the usual slugs), so no id can name a JavaScript built-in such as `__proto__`.
 */
export const AudienceId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'An audience id is letters, digits and _ . : - (starting with a letter or digit)');

export const AudienceSchema = z.strictObject({
  id: AudienceId.describe('Audience (segment) id, as in segmentMembership.ups.<id>'),
  name: z.string().min(1).max(200).describe('Label of the HubSpot status property (and name of its HubSpot list)'),
  encoding: z
    .enum(['property', 'list', 'both'])
    .optional()
    .describe('How the audience is kept in HubSpot: its status property (default), a MANUAL contact list, or both'),
});

/** Most audiences one activation may list (workflows/types.ts MAX_AUDIENCES). */
const MAX_AUDIENCES = 50;

export const ActivationOptionsSchema = z.strictObject({
  fullResync: z.boolean().optional().describe('Ignore the confirmed-state memory: send every member (docs/dataflows.md)'),
  exitMissing: z
    .boolean()
    .optional()
    .describe('The source is a complete snapshot: write `exited` for remembered members it no longer holds'),
  dryRun: z.boolean().optional().describe('Read HubSpot and report what the run would do (summary.plan, GET …/plan); write nothing'),
  mode: z
    .enum(['upsert', 'update', 'create'])
    .optional()
    .describe('upsert (default); update: never create (NOT_IN_HUBSPOT); create: never change existing contacts (ALREADY_IN_HUBSPOT)'),
  maxRejectedPercent: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe('Rejection guard: stop the run (REJECTION_LIMIT) once the rejected share of members read passes this percentage'),
  guardMinRecords: z.number().int().min(1).max(10_000_000).optional().describe('Members read before the guard judges (default 100)'),
});

/**
 * `audiences` (1 to 50, unique ids) or, as before, one `audience`; the route normalises to a list. One
 * pass over the source carries every listed audience's status.
 */
export const StartActivationBody = z
  .strictObject({
    audience: AudienceSchema.optional(),
    audiences: z
      .array(AudienceSchema)
      .min(1, 'List at least one audience')
      .max(MAX_AUDIENCES, `At most ${MAX_AUDIENCES} audiences per activation`)
      .optional(),
    source: SourceSchema,
    options: ActivationOptionsSchema.optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.audience === undefined) === (b.audiences === undefined))
      ctx.addIssue({ code: 'custom', message: 'Give either `audiences` (a list) or `audience`, not both', path: ['audiences'] });
    const seen = new Set<string>();
    for (const [i, a] of (b.audiences ?? []).entries()) {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', message: `Audience id '${a.id}' is listed twice`, path: ['audiences', i, 'id'] });
      seen.add(a.id);
    }
  });

export const ActivationStarted = z.object({
  activationId: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  webUiUrl: z.string(),
});

export const RerunBody = z.strictObject({
  mode: z.enum(['all', 'rejected']).default('all'),
  dryRun: z.boolean().optional().describe("Plan the re-run without writing (overrides the original run's dryRun)"),
});

export const PlanQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const PlanLineView = z.object({
  seq: z.number(),
  line: z.number(),
  email: z.string().optional(),
  action: z.enum(['create', 'update', 'unchanged', 'reject', 'skip']),
  recordId: z.string().optional(),
  changes: z.array(z.object({ property: z.string(), old: z.string().nullable(), new: z.string() })).optional(),
  reason: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const CountsSchema = z.object({
  received: z.number(),
  upserted: z.number(),
  created: z.number(),
  updated: z.number(),
  rejected: z.number(),
  skipped: z.number(),
  rejectedByReason: z.record(z.string(), z.number()),
  skippedByReason: z.record(z.string(), z.number()),
  byAudience: z.record(z.string(), z.object({ members: z.number(), byStatus: z.record(z.string(), z.number()) })).optional(),
});

export const ActivationStatus = z.enum([
  'running',
  'waiting',
  'completed',
  'completed_with_rejections',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'unknown',
]);

export const ActivationView = z
  .object({
    activationId: z.string(),
    destinationId: z.string(),
    audience: z.object({ id: z.string(), name: z.string() }),
    audiences: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
    status: ActivationStatus,
    phase: z.string().optional(),
    progress: z
      .object({
        pagesDone: z.number(),
        totalRecords: z.number().optional(),
        counts: CountsSchema,
        waitingUntil: z.string().optional(),
        waitReason: z.string().optional(),
      })
      .optional(),
    summary: z.unknown().optional(),
    failure: z.object({ type: z.string().optional(), message: z.string() }).optional(),
    rerunOf: z.string().optional(),
    /** A run of a sync (scheduled or triggered). */
    syncId: z.string().optional(),
    startedAt: z.string().optional(),
    closedAt: z.string().optional(),
    webUiUrl: z.string(),
  })
  .meta({ id: 'Activation' });

export const ActivationListQuery = z.strictObject({
  destinationId: z.string().max(200).optional(),
  audienceId: AudienceId.optional(),
  status: z.enum(['Running', 'WaitingDailyLimit', 'Completed', 'CompletedWithRejections', 'Failed', 'Cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const ActivationListItem = z.object({
  activationId: z.string(),
  destinationId: z.string().optional(),
  audienceId: z.string().optional(),
  status: z.string().optional(),
  executionStatus: z.string(),
  startedAt: z.string().optional(),
  closedAt: z.string().optional(),
});

export const RejectionsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const RejectionView = z.object({
  seq: z.number(),
  line: z.number(),
  email: z.string().optional(),
  reason: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), origin: z.string() }),
  createdAt: z.string(),
});

export const UploadResult = z.object({ uploadId: z.string(), format: z.string(), bytes: z.number(), rows: z.number() });

export const IdParams = z.strictObject({ id: id });
