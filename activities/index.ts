/**
 * Activities: every side effect of the destination (HubSpot calls, reading sources, the stores).
 * Built by a factory from injected dependencies so tests and benchmarks wire real or simulated parts.
 * Inputs and results carry ids, cursors and counts only; contact data stays inside the activity.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { DeliveryCounts } from '../src/delivery/counts';
import { checkConnection, checkToken } from '../src/destinations/check';
import { PropertyCache } from '../src/destinations/property-cache';
import { assertAllowedBaseUrl } from '../src/destinations/base-url';
import { HubSpotApiError } from '../src/hubspot/errors';
import { HubSpotClient } from '../src/hubspot/client';
import type { HubSpotProperty } from '../src/hubspot/types';
import {
  AUDIENCE_PROPERTY_GROUP,
  audiencePropertyDefinition,
  audiencePropertyName,
  classifyExistingAudienceProperty,
} from '../src/mapping/audience-property';
import { checkMapping } from '../src/mapping/check-mapping';
import type { SourceCursor, SourcePage, SourceRef } from '../src/members/types';
import type { Logger } from '../src/logger';
import type { CheckpointStore } from '../src/store/checkpoints';
import type { SqlRejectionStore } from '../src/store/rejections';
import { type AudienceRef, type ConfigureDestinationInput, type ConfigureDestinationResult } from '../workflows/types';
import { classified, clientFor, loadDestination, tokenContext, type HubSpotAccessDeps } from './hubspot-access';
import { createProcessPages } from './process-pages';
import { createStreamActivities } from './streaming';
import { createAlertActivities, type AlertActivityDeps } from './alerts';
import type { ServiceMetrics } from '../src/metrics/service-metrics';
import type { StreamMemory } from '../src/streaming/memory';
import type { StreamHolds } from '../src/streaming/holds';

export interface SourceReader {
  readPage(ref: SourceRef, cursor: SourceCursor, pageSize: number): Promise<SourcePage>;
  describe(ref: SourceRef): Promise<{ format: string; totalRecords?: number }>;
}

export interface ActivityDeps extends HubSpotAccessDeps {
  rejections: SqlRejectionStore;
  checkpoints: CheckpointStore;
  sourceReader: SourceReader;
  allowedBaseUrls: string[];
  defaultPageSize: number;
  defaultConcurrency: number;
  logger: Logger;
  propertyCache?: PropertyCache;
  /** Ordering memory of streamed updates (needed by the stream's flush activity). */
  streamMemory?: StreamMemory;
  /** Signal holds around a stream's continue-as-new. */
  streamHolds?: StreamHolds;
  /** The service's Prometheus metrics (src/metrics); contacts are counted when a page succeeds. */
  metrics?: ServiceMetrics;
  /** Alerts: Web UI link base, webhook host allow-list, timeout (activities/alerts.ts). */
  webUi?: AlertActivityDeps['webUi'];
  alertAllowedHosts?: string[];
  alertTimeoutMs?: number;
}

export interface PropertySummary {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  hubspotDefined: boolean;
  writable: boolean;
  options: Array<{ label: string; value: string }>;
}

export function createActivities(deps: ActivityDeps) {
  const cache = deps.propertyCache ?? new PropertyCache();
  const cacheKey = (d: { id: string; portalId: number }) => `${d.id}:${d.portalId}`;

  const activities = {
    /** Checks a new or changed destination against its HubSpot account, and saves it when it passes. */
    async configureDestination(input: ConfigureDestinationInput): Promise<ConfigureDestinationResult> {
      return classified(async () => {
        const existing = input.mode === 'update' ? await loadDestination(deps, input.destinationId) : undefined;
        const baseUrl = input.baseUrl ?? existing?.baseUrl;
        const sealedToken = input.sealedToken ?? existing?.sealedToken;
        const mapping = input.mapping ?? existing?.mapping;
        const name = input.name ?? existing?.name;
        if (!baseUrl || !sealedToken || !mapping || !name) {
          return { ok: false, problems: [{ code: 'INCOMPLETE', message: 'A destination needs a name, a HubSpot token and a mapping.' }] };
        }
        try {
          assertAllowedBaseUrl(baseUrl, deps.allowedBaseUrls);
        } catch (err) {
          return {
            ok: false,
            problems: [{ code: 'HUBSPOT_BASE_URL_NOT_ALLOWED', message: (err as Error).message, field: 'hubspot.baseUrl' }],
          };
        }
        // Every call is paced by the governor under the destination's portal; a new destination's portal is
        // only known once its token is checked, so that one call (token introspection) goes unpaced.
        const connect = (portalId: number) => clientFor(deps, { id: input.destinationId, baseUrl, sealedToken, portalId });
        const tokenClient = existing
          ? connect(existing.portalId)
          : new HubSpotClient({
              baseUrl,
              token: deps.sealer.open(sealedToken, tokenContext(input.destinationId)),
              timeoutMs: deps.requestTimeoutMs,
              onCall: deps.onCall,
            });
        const check = await checkConnection(tokenClient, mapping, { portalId: existing?.portalId, paced: connect });
        if (check.problems.length) return { ok: false, problems: check.problems };
        const now = new Date().toISOString();
        const record = {
          id: input.destinationId,
          name,
          description: input.description ?? existing?.description,
          baseUrl,
          sealedToken,
          portalId: check.portalId!,
          timeZone: check.timeZone ?? 'UTC',
          mapping,
          alerts: existing?.alerts ?? [],
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        };
        if (existing) await deps.destinations.update(record);
        else await deps.destinations.insert(record);
        cache.set(cacheKey(record), check.properties ?? []);
        return { ok: true, destinationId: record.id, portalId: record.portalId };
      });
    },

    /** First step of every activation: the token still works and still has its scopes. */
    async validateConnection(input: { destinationId: string }): Promise<{ portalId: number }> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const check = await checkToken(clientFor(deps, d));
        const p = check.problems[0];
        if (p) {
          throw ApplicationFailure.create({
            type: p.code === 'HUBSPOT_MISSING_SCOPES' ? 'HubSpotMissingScopes' : 'HubSpotAuthFailed',
            message: p.message,
            nonRetryable: true,
          });
        }
        if (check.portalId !== d.portalId) {
          throw ApplicationFailure.create({
            type: 'HubSpotAuthFailed',
            nonRetryable: true,
            message: `The destination's token now belongs to HubSpot portal ${check.portalId}, not ${d.portalId}; a destination stays on the portal it was created on. Set a token of portal ${d.portalId} (PATCH), or create a new destination for portal ${check.portalId}.`,
          });
        }
        return { portalId: d.portalId };
      });
    },

    /**
     * Ensures the audience's status property (enumeration realized/existing/exited, in the audience group)
     * and re-checks the mapping targets against the live property list.
     */
    async ensureAudienceProperty(input: { destinationId: string; audience: AudienceRef }): Promise<{ propertyName: string }> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const client = clientFor(deps, d);
        const properties = await client.listContactProperties();
        const problems = checkMapping(d.mapping, properties);
        if (problems.length) {
          throw ApplicationFailure.create({
            type: 'HubSpotMappingInvalid',
            nonRetryable: true,
            message: problems.map((p) => p.message).join(' '),
            details: [problems],
          });
        }
        const name = audiencePropertyName(input.audience.id);
        let existing: HubSpotProperty | undefined = properties.find((p) => p.name === name);
        const groups = await client.listPropertyGroups();
        if (!groups.some((g) => g.name === AUDIENCE_PROPERTY_GROUP.name)) {
          await client.createPropertyGroup(AUDIENCE_PROPERTY_GROUP).catch((err) => {
            if (!(err instanceof HubSpotApiError && err.kind === 'conflict')) throw err;
          });
        }
        for (let attempt = 0; attempt < 2; attempt++) {
          const action = classifyExistingAudienceProperty(existing, input.audience);
          if (action.action === 'conflict') {
            throw ApplicationFailure.create({ type: 'HubSpotPropertyConflict', nonRetryable: true, message: action.message });
          }
          if (action.action === 'update') existing = await client.updateContactProperty(name, action.patch);
          if (action.action === 'create') {
            try {
              existing = await client.createContactProperty(audiencePropertyDefinition(input.audience));
            } catch (err) {
              // Created meanwhile by another run, or archived (HubSpot keeps archived names): look again.
              if (!(err instanceof HubSpotApiError && err.kind === 'conflict')) throw err;
              existing = await client.getContactProperty(name);
              continue;
            }
          }
          break;
        }
        cache.set(cacheKey(d), [...properties.filter((p) => p.name !== name), ...(existing ? [existing] : [])]);
        await deps.destinations.recordAudience({
          destinationId: d.id,
          audienceId: input.audience.id,
          audienceName: input.audience.name,
          propertyName: name,
          activatedAt: new Date().toISOString(),
        });
        return { propertyName: name };
      });
    },

    async describeSource(input: { source: SourceRef }): Promise<{ totalRecords?: number }> {
      return classified(async () => {
        const info = await deps.sourceReader.describe(input.source);
        return { totalRecords: info.totalRecords };
      });
    },

    processPages: createProcessPages(deps, cache, cacheKey),

    /** The account's contact properties (default and custom), offered as mapping targets. */
    async listProperties(input: { destinationId: string }): Promise<PropertySummary[]> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const properties = await clientFor(deps, d).listContactProperties();
        cache.set(cacheKey(d), properties);
        return properties.map((p) => ({
          name: p.name,
          label: p.label,
          type: p.type,
          fieldType: p.fieldType,
          groupName: p.groupName,
          hubspotDefined: p.hubspotDefined === true,
          writable: !p.modificationMetadata?.readOnlyValue && !p.calculated,
          options: (p.options ?? []).map((o) => ({ label: o.label, value: o.value })),
        }));
      });
    },

    /** Last step: cross-checks the run's counts with the rejection store. */
    async summarizeActivation(input: { activationId: string; counts: DeliveryCounts }): Promise<{ storedRejections: number }> {
      await deps.checkpoints.deleteAll(input.activationId);
      const stored = await deps.rejections.count(input.activationId);
      if (stored !== input.counts.rejected) {
        deps.logger.warn(
          { activationId: input.activationId, stored, counted: input.counts.rejected },
          'stored rejections differ from counted rejections',
        );
      }
      return { storedRejections: stored };
    },
  };
  return {
    ...activities,
    ...createStreamActivities(deps, { cache, cacheKey, ensureAudienceProperty: activities.ensureAudienceProperty }),
    ...createAlertActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
