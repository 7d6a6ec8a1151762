/** HubSpot CRM v3 shapes the destination uses (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide, https://developers.hubspot.com/docs/api/crm/properties). */

export type HubSpotPropertyType = 'bool' | 'date' | 'datetime' | 'enumeration' | 'number' | 'phone_number' | 'string';

export interface HubSpotPropertyOption {
  label: string;
  value: string;
  hidden?: boolean;
  displayOrder?: number;
  description?: string;
}

/** A contact property as `GET /crm/v3/properties/contacts` returns it (fields we use). */
export interface HubSpotProperty {
  name: string;
  label: string;
  type: HubSpotPropertyType;
  fieldType: string;
  groupName: string;
  description?: string;
  options: HubSpotPropertyOption[];
  hasUniqueValue?: boolean;
  hidden?: boolean;
  calculated?: boolean;
  externalOptions?: boolean;
  hubspotDefined?: boolean;
  archived?: boolean;
  modificationMetadata?: { archivable?: boolean; readOnlyDefinition?: boolean; readOnlyValue?: boolean; readOnlyOptions?: boolean };
}

export interface HubSpotPropertyCreate {
  name: string;
  label: string;
  type: HubSpotPropertyType;
  fieldType: string;
  groupName: string;
  description?: string;
  options?: HubSpotPropertyOption[];
  displayOrder?: number;
  formField?: boolean;
}

/** One input of `POST /crm/v3/objects/contacts/batch/upsert`. */
export interface ContactUpsertInput {
  /** Lowercased, trimmed email (the id when `idProperty` is email), or the value of a unique custom property. */
  id: string;
  /** `email`, or a custom contact property HubSpot marks `hasUniqueValue`. */
  idProperty: string;
  properties: Record<string, string>;
  objectWriteTraceId?: string;
}
