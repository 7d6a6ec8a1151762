/**
 * HubSpot's API versions and where each puts its paths. v3 is the legacy line
 * (https://developers.hubspot.com/docs/api-reference/legacy/migration-guide); the date-based versions
 * (https://developers.hubspot.com/docs/developer-tooling/platform/versioning) put the version after the
 * API name and take the object type as a path parameter, e.g. `/crm/objects/2026-03/{objectType}/batch/upsert`
 * (HubSpot/HubSpot-public-api-spec-collection, PublicApiSpecs/CRM/Contacts/Rollouts/424/<version>/contacts.json).
 */
export const API_VERSIONS = ['v3', '2025-09', '2026-03', '2026-09'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** Versions from 2026-09 on enforce admin-configured validation rules on CRM writes (https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement). */
export function enforcesWriteRules(v: ApiVersion): boolean {
  return v === '2026-09';
}

/**
 * Contact object types the objects paths accept: the name and the object type id `0-1`. The router keeps
 * them as static paths so the hot batch routes stay exact Map lookups.
 */
export const CONTACT_OBJECT_TYPES = ['contacts', '0-1'] as const;

export function objectsBase(v: ApiVersion, objectType: string): string {
  return v === 'v3' ? `/crm/v3/objects/${objectType}` : `/crm/objects/${v}/${objectType}`;
}

/** `/crm/v3/properties` or `/crm/properties/<version>`; the object type follows as a parameter (PublicApiSpecs/CRM/Properties/Rollouts/145899/<version>/properties.json). */
export function propertiesBase(v: ApiVersion): string {
  return v === 'v3' ? '/crm/v3/properties' : `/crm/properties/${v}`;
}

/** `/account-info/<version>` (PublicApiSpecs/Account/Account Info/Rollouts/144923/{v3,2025-09,2026-03}/accountInfo.json, …/318954/2026-09/accountInfo.json). */
export function accountInfoBase(v: ApiVersion): string {
  return `/account-info/${v}`;
}
