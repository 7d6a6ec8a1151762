/**
 * The HubSpot API versions a deployment (`HUBSPOT_API_VERSION`) or a destination (`hubspot.apiVersion`)
 * may choose. Outside src/hubspot so that the config and the API schemas can name them without loading
 * the HubSpot client; src/hubspot/paths.ts turns a version into paths. HubSpot's specs publish every
 * endpoint the connector calls under each, with the same bodies (docs/hubspot-simulator.md, "Connector").
 */
export const SUPPORTED_API_VERSIONS = ['2026-03', '2026-09', 'v3'] as const;
export type SupportedApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

/** The version a deployment uses unless configured otherwise: HubSpot's first GA date version. */
export const DEFAULT_API_VERSION: SupportedApiVersion = '2026-03';
