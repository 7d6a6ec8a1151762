/**
 * What the API shows of a HubSpot contact property when offering mapping targets. Built in the worker
 * (which reads HubSpot), returned through a workflow to the API; the shape is shared by both.
 */
import type { HubSpotProperty } from '../hubspot/types';

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

export function summarizeProperty(p: HubSpotProperty): PropertySummary {
  return {
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    groupName: p.groupName,
    hubspotDefined: p.hubspotDefined === true,
    writable: !p.modificationMetadata?.readOnlyValue && !p.calculated,
    options: (p.options ?? []).map((o) => ({ label: o.label, value: o.value })),
  };
}
