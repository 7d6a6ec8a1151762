/**
 * Every HubSpot endpoint the destination calls: method, path template (the `route` label of metrics and
 * error messages) and concrete path. The one place paths are written, so moving to HubSpot's date-based
 * versions (`/crm/objects/2026-03/contacts…` instead of `/crm/v3/objects/contacts…`,
 * https://developers.hubspot.com/docs/api-reference/latest/overview) is a change of `version` here.
 */

/** `v3` (semantic) or a date version like `2026-03`. */
export type ApiVersion = 'v3' | `${number}-${number}`;

/** The default of these path functions (and of a client built without `apiVersion`): the legacy line. */
export const API_VERSION: ApiVersion = 'v3';

export { DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS, type SupportedApiVersion } from '../hubspot-versions';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Endpoint {
  method: Method;
  /** Path template, e.g. `/crm/v3/properties/contacts/{propertyName}` (no ids: safe as a metrics label). */
  route: string;
  /** The path to request. */
  path: string;
}

const isDateVersion = (v: ApiVersion): boolean => v !== 'v3';

/** CRM paths put a date version after the API family: `/crm/v3/objects/…` but `/crm/objects/2026-03/…`. */
function crm(family: 'objects' | 'properties', version: ApiVersion, rest: string): string {
  return isDateVersion(version) ? `/crm/${family}/${version}${rest}` : `/crm/${version}/${family}${rest}`;
}

/**
 * Lists API paths: `/crm/v3/lists…`, or `/crm/lists/<version>…` for a date version (HubSpot's specs publish
 * the Lists API under v3, 2025-09, 2026-03 and 2026-09: PublicApiSpecs/CRM/Lists/Rollouts/144891/<version>/lists.json).
 */
function lists(version: ApiVersion, rest: string): string {
  return isDateVersion(version) ? `/crm/lists/${version}${rest}` : `/crm/v3/lists${rest}`;
}

const fixed = (method: Method, path: string): Endpoint => ({ method, route: path, path });

/** An endpoint with one path parameter: the template names it, the path carries it URL-encoded. */
function withParam(method: Method, template: string, name: string, value: string): Endpoint {
  return { method, route: template, path: template.replace(`{${name}}`, encodeURIComponent(value)) };
}

export const hubspotPaths = {
  // Private-app token introspection has no dated form: it stays on its documented OAuth v2 path for every
  // version (https://developers.hubspot.com/docs/api/private-apps).
  accessTokenInfo: (): Endpoint => fixed('POST', '/oauth/v2/private-apps/get/access-token-info'),

  accountDetails: (v: ApiVersion = API_VERSION): Endpoint => fixed('GET', `/account-info/${v}/details`),
  dailyUsage: (v: ApiVersion = API_VERSION): Endpoint => fixed('GET', `/account-info/${v}/api-usage/daily/private-apps`),

  listContactProperties: (v: ApiVersion = API_VERSION): Endpoint => fixed('GET', crm('properties', v, '/contacts')),
  createContactProperty: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('properties', v, '/contacts')),
  getContactProperty: (name: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('GET', crm('properties', v, '/contacts/{propertyName}'), 'propertyName', name),
  updateContactProperty: (name: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('PATCH', crm('properties', v, '/contacts/{propertyName}'), 'propertyName', name),
  listPropertyGroups: (v: ApiVersion = API_VERSION): Endpoint => fixed('GET', crm('properties', v, '/contacts/groups')),
  createPropertyGroup: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('properties', v, '/contacts/groups')),

  batchUpsertContacts: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('objects', v, '/contacts/batch/upsert')),
  batchReadContacts: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('objects', v, '/contacts/batch/read')),
  batchUpdateContacts: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('objects', v, '/contacts/batch/update')),
  batchCreateContacts: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('objects', v, '/contacts/batch/create')),
  searchContacts: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', crm('objects', v, '/contacts/search')),

  // Lists (MANUAL contact lists of list-encoded audiences; https://developers.hubspot.com/docs/api-reference/latest/crm/lists/guide).
  createList: (v: ApiVersion = API_VERSION): Endpoint => fixed('POST', lists(v, '')),
  getListByName: (objectTypeId: string, listName: string, v: ApiVersion = API_VERSION): Endpoint => {
    const route = lists(v, '/object-type-id/{objectTypeId}/name/{listName}');
    return {
      method: 'GET',
      route,
      path: route.replace('{objectTypeId}', encodeURIComponent(objectTypeId)).replace('{listName}', encodeURIComponent(listName)),
    };
  },
  getList: (listId: string, v: ApiVersion = API_VERSION): Endpoint => withParam('GET', lists(v, '/{listId}'), 'listId', listId),
  addListMembers: (listId: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('PUT', lists(v, '/{listId}/memberships/add'), 'listId', listId),
  removeListMembers: (listId: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('PUT', lists(v, '/{listId}/memberships/remove'), 'listId', listId),
  addAndRemoveListMembers: (listId: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('PUT', lists(v, '/{listId}/memberships/add-and-remove'), 'listId', listId),
  listMemberships: (listId: string, v: ApiVersion = API_VERSION): Endpoint =>
    withParam('GET', lists(v, '/{listId}/memberships'), 'listId', listId),
};
