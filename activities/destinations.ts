/**
 * Activities of a destination's HubSpot connection: check and save a destination, check its token at the
 * start of a run, ensure an audience's status property, list the account's properties. Each leaves the
 * account's property list in the shared cache, so the page and flush activities need not fetch it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { assertAllowedBaseUrl } from '../src/destinations/base-url';
import { checkConnection, checkToken } from '../src/destinations/check';
import { propertyCacheKey, type PropertyCache } from '../src/destinations/property-cache';
import { summarizeProperty, type PropertySummary } from '../src/destinations/property-summary';
import { tokenContext } from '../src/destinations/token-context';
import { HubSpotClient } from '../src/hubspot/client';
import { HubSpotApiError } from '../src/hubspot/errors';
import type { HubSpotProperty } from '../src/hubspot/types';
import {
  AUDIENCE_PROPERTY_GROUP,
  audiencePropertyDefinition,
  audiencePropertyName,
  classifyExistingAudienceProperty,
} from '../src/mapping/audience-property';
import { checkMapping } from '../src/mapping/check-mapping';
import type { AudienceRef, ConfigureDestinationInput, ConfigureDestinationResult } from '../workflows/types';
import { apiVersionOf, classified, clientFor, loadDestination, type HubSpotAccessDeps } from './hubspot-access';

export interface DestinationActivityDeps extends HubSpotAccessDeps {
  /** HubSpot API base URLs a destination may use besides HubSpot's own (config: hubspot.allowedBaseUrls). */
  allowedBaseUrls: string[];
  propertyCache: PropertyCache;
}

export function createDestinationActivities(deps: DestinationActivityDeps) {
  return {
    /** Checks a new or changed destination against its HubSpot account, and saves it when it passes. */
    async configureDestination(input: ConfigureDestinationInput): Promise<ConfigureDestinationResult> {
      return classified(async () => {
        const existing = input.mode === 'update' ? await loadDestination(deps, input.destinationId) : undefined;
        const baseUrl = input.baseUrl ?? existing?.baseUrl;
        const sealedToken = input.sealedToken ?? existing?.sealedToken;
        const mapping = input.mapping ?? existing?.mapping;
        const name = input.name ?? existing?.name;
        const apiVersion = input.apiVersion === null ? undefined : (input.apiVersion ?? existing?.apiVersion);
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
        const connect = (portalId: number) => clientFor(deps, { id: input.destinationId, baseUrl, sealedToken, portalId, apiVersion });
        const tokenClient = existing
          ? connect(existing.portalId)
          : new HubSpotClient({
              baseUrl,
              token: deps.sealer.open(sealedToken, tokenContext(input.destinationId)),
              timeoutMs: deps.requestTimeoutMs,
              apiVersion: apiVersionOf(deps, { apiVersion }),
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
          ...(apiVersion ? { apiVersion } : {}),
          alerts: existing?.alerts ?? [],
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        };
        if (existing) await deps.destinations.update(record);
        else await deps.destinations.insert(record);
        deps.propertyCache.set(propertyCacheKey(record), check.properties ?? []);
        return { ok: true, destinationId: record.id, portalId: record.portalId };
      });
    },

    /** First step of every activation: the token still works and still has its scopes. */
    async validateConnection(input: { destinationId: string; lists?: boolean }): Promise<{ portalId: number }> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const check = await checkToken(clientFor(deps, d), { lists: input.lists === true });
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
    async ensureAudienceProperty(input: {
      destinationId: string;
      audience: AudienceRef;
      /** Dry run: check only, write nothing; `wouldCreate` says whether a real run would create the property. */
      dryRun?: boolean;
    }): Promise<{ propertyName: string; wouldCreate?: boolean }> {
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
        if (input.dryRun) {
          const action = classifyExistingAudienceProperty(existing, input.audience);
          if (action.action === 'conflict')
            throw ApplicationFailure.create({ type: 'HubSpotPropertyConflict', nonRetryable: true, message: action.message });
          deps.propertyCache.set(propertyCacheKey(d), properties);
          return { propertyName: name, wouldCreate: action.action === 'create' };
        }
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
        deps.propertyCache.set(propertyCacheKey(d), [...properties.filter((p) => p.name !== name), ...(existing ? [existing] : [])]);
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

    /** The account's contact properties (default and custom), offered as mapping targets. */
    async listProperties(input: { destinationId: string }): Promise<PropertySummary[]> {
      return classified(async () => {
        const d = await loadDestination(deps, input.destinationId);
        const properties = await clientFor(deps, d).listContactProperties();
        deps.propertyCache.set(propertyCacheKey(d), properties);
        return properties.map(summarizeProperty);
      });
    },
  };
}
