/** Destinations: create and update (checked against HubSpot through Temporal), read, list, properties. */
import { z } from 'zod';
import { HUBSPOT_API_BASE_URL } from '../../config';
import { assertAllowedBaseUrl } from '../../destinations/base-url';
import { tokenContext } from '../../destinations/token-context';
import { AppError } from '../../errors';
import { Failure, type KnownFailure } from '../../failures';
import { toView } from '../../store/destinations';
import { newDestinationId, newId } from '../../util/ids';
import type { ConfigureDestinationInput, ConfigureDestinationResult } from '../../../workflows/types';
import { configureDestination } from '../../../workflows/configure-destination';
import { listDestinationProperties } from '../../../workflows/list-properties';
import { CreateDestinationBody, DestinationView, ErrorBody, IdParams, PropertyView, UpdateDestinationBody } from '../schemas';
import type { ApiDeps, TypedApp } from '../app-types';
import { runShortWorkflow } from '../temporal-calls';

const tags = ['destinations'];

/** Problems the API reports as themselves; any other (mapping issues, odd HubSpot answers) is a mapping problem. */
const REPORTED_AS_IS: readonly KnownFailure[] = [Failure.HubSpotAuthFailed, Failure.HubSpotMissingScopes, Failure.HubSpotBaseUrlNotAllowed];

function problemsError(result: Extract<ConfigureDestinationResult, { ok: false }>): AppError {
  const first = result.problems[0];
  // A token of another portal: the destination stays where it is (409), the message says what to do.
  if (first.code === Failure.DestinationPortalChanged.code)
    return new AppError(Failure.DestinationPortalChanged, first.message, { details: { problems: result.problems } });
  const failure = REPORTED_AS_IS.find((f) => f.code === first.code) ?? Failure.HubSpotMappingInvalid;
  const message =
    result.problems.length === 1 ? first.message : `${result.problems.length} problems: ${result.problems.map((p) => p.message).join(' ')}`;
  return new AppError(failure, message, { details: { problems: result.problems } });
}

export function registerDestinationRoutes(app: TypedApp, deps: ApiDeps): void {
  const { config, client, services } = deps;

  async function configure(input: ConfigureDestinationInput): Promise<void> {
    const result = await runShortWorkflow(client, config, configureDestination, newId(`configure-${input.destinationId}`), [input]);
    if (!result.ok) throw problemsError(result);
  }

  async function view(id: string) {
    const d = await services.destinations.get(id);
    if (!d) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
    const audiences = (await services.destinations.audiences(id)).map(({ destinationId: _d, ...a }) => a);
    const runDefaults = await services.runDefaults.get(id);
    return { ...toView(d), audiences, ...(runDefaults ? { runDefaults } : {}) };
  }

  app.post(
    '/v1/destinations',
    {
      schema: {
        tags,
        summary: 'Connect a HubSpot account with a field mapping (checked before it is saved)',
        body: CreateDestinationBody,
        response: { 201: z.object({ id: z.string() }), 400: ErrorBody, 422: ErrorBody },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const baseUrl = body.hubspot.baseUrl ?? HUBSPOT_API_BASE_URL;
      assertAllowedBaseUrl(baseUrl, config.hubspot.allowedBaseUrls);
      const id = newDestinationId();
      await configure({
        destinationId: id,
        mode: 'create',
        name: body.name,
        description: body.description,
        baseUrl,
        apiVersion: body.hubspot.apiVersion,
        sealedToken: services.sealer.seal(body.hubspot.token, tokenContext(id)),
        mapping: body.mapping,
      });
      deps.streamTargets?.forget(id);
      if (body.runDefaults) await services.runDefaults.set(id, body.runDefaults);
      return reply.status(201).send({ id });
    },
  );

  app.patch(
    '/v1/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Change name, description, token or mapping (checked the same way)',
        params: IdParams,
        body: UpdateDestinationBody,
        response: { 200: DestinationView, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await services.destinations.get(id))) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
      const body = req.body;
      if (body.hubspot?.baseUrl) assertAllowedBaseUrl(body.hubspot.baseUrl, config.hubspot.allowedBaseUrls);
      await configure({
        destinationId: id,
        mode: 'update',
        name: body.name,
        description: body.description,
        baseUrl: body.hubspot?.baseUrl,
        apiVersion: body.hubspot?.apiVersion,
        sealedToken: body.hubspot?.token ? services.sealer.seal(body.hubspot.token, tokenContext(id)) : undefined,
        mapping: body.mapping,
      });
      deps.streamTargets?.forget(id);
      if (body.runDefaults !== undefined) await services.runDefaults.set(id, body.runDefaults);
      return view(id);
    },
  );

  app.get(
    '/v1/destinations/:id',
    {
      schema: {
        tags,
        summary: 'A destination (never its token) and the audiences activated on it',
        params: IdParams,
        response: { 200: DestinationView, 404: ErrorBody },
      },
    },
    async (req) => view(req.params.id),
  );

  app.get(
    '/v1/destinations',
    {
      schema: { tags, summary: 'All destinations', response: { 200: z.object({ items: z.array(DestinationView) }) } },
    },
    async () => ({ items: (await services.destinations.list()).map(toView) }),
  );

  app.get(
    '/v1/destinations/:id/properties',
    {
      schema: {
        tags,
        summary: "The HubSpot account's contact properties (default and custom), offered as mapping targets",
        params: IdParams,
        response: { 200: z.object({ items: z.array(PropertyView) }), 404: ErrorBody },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await services.destinations.get(id))) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
      const items = await runShortWorkflow(client, config, listDestinationProperties, newId(`properties-${id}`), [id]);
      return { items };
    },
  );
}
