/**
 * HubSpot's default contact properties and groups, seeded into every portal. Types and field types follow
 * the default-property list in docs/hubspot-simulator.md; `readOnly` marks values HubSpot computes itself (modificationMetadata.readOnlyValue).
 */
import type { PropertyGroupJson, PropertyOption } from '../types';

export interface SeedProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  readOnly?: boolean;
  options?: [value: string, label: string][];
  externalOptions?: boolean;
  referencedObjectType?: string;
  textDisplayHint?: string;
  numberDisplayHint?: string;
  calculated?: boolean;
  hidden?: boolean;
}

export const DEFAULT_GROUPS: PropertyGroupJson[] = [
  { name: 'contactinformation', label: 'Contact information', displayOrder: 0, archived: false },
  { name: 'emailinformation', label: 'Email information', displayOrder: 1, archived: false },
  { name: 'sales_properties', label: 'Sales properties', displayOrder: 2, archived: false },
  { name: 'conversioninformation', label: 'Conversion information', displayOrder: 3, archived: false },
  { name: 'analyticsinformation', label: 'Web analytics history', displayOrder: 4, archived: false },
  { name: 'socialmediainformation', label: 'Social media information', displayOrder: 5, archived: false },
  { name: 'contact_activity', label: 'Contact activity', displayOrder: 6, archived: false },
];

const BOOL_OPTIONS: [string, string][] = [
  ['true', 'Yes'],
  ['false', 'No'],
];

export const LIFECYCLE_STAGES: [string, string][] = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
];

const text = (name: string, label: string, groupName = 'contactinformation', extra: Partial<SeedProperty> = {}): SeedProperty => ({
  name,
  label,
  type: 'string',
  fieldType: 'text',
  groupName,
  ...extra,
});

export const DEFAULT_PROPERTIES: SeedProperty[] = [
  text('email', 'Email', 'contactinformation', { textDisplayHint: 'email' }),
  text('firstname', 'First Name'),
  text('lastname', 'Last Name'),
  text('salutation', 'Salutation'),
  { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', groupName: 'contactinformation' },
  { name: 'mobilephone', label: 'Mobile Phone Number', type: 'string', fieldType: 'phonenumber', groupName: 'contactinformation' },
  { name: 'fax', label: 'Fax Number', type: 'string', fieldType: 'phonenumber', groupName: 'contactinformation' },
  text('company', 'Company Name'),
  text('jobtitle', 'Job Title'),
  text('website', 'Website URL', 'contactinformation', { textDisplayHint: 'domain_name' }),
  text('address', 'Street Address'),
  text('city', 'City'),
  text('state', 'State/Region'),
  text('zip', 'Postal Code'),
  text('country', 'Country/Region'),
  text('industry', 'Industry'),
  text('annualrevenue', 'Annual Revenue'),
  { name: 'message', label: 'Message', type: 'string', fieldType: 'textarea', groupName: 'contactinformation' },
  text('twitterhandle', 'Twitter Username', 'socialmediainformation'),
  { name: 'date_of_birth', label: 'Date of birth', type: 'date', fieldType: 'date', groupName: 'contactinformation' },
  {
    name: 'numemployees',
    label: 'Number of Employees',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'contactinformation',
    options: ['1-5', '5-25', '25-50', '50-100', '100-500', '500-1000', '1000+'].map((v) => [v, v] as [string, string]),
  },
  {
    name: 'lifecyclestage',
    label: 'Lifecycle Stage',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'contactinformation',
    options: LIFECYCLE_STAGES,
  },
  {
    name: 'hs_lead_status',
    label: 'Lead Status',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'sales_properties',
    options: [
      ['NEW', 'New'],
      ['OPEN', 'Open'],
      ['IN_PROGRESS', 'In Progress'],
      ['OPEN_DEAL', 'Open Deal'],
      ['UNQUALIFIED', 'Unqualified'],
      ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'],
      ['CONNECTED', 'Connected'],
      ['BAD_TIMING', 'Bad Timing'],
    ],
  },
  {
    name: 'hubspot_owner_id',
    label: 'Contact owner',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'sales_properties',
    externalOptions: true,
    referencedObjectType: 'OWNER',
  },
  {
    name: 'hs_language',
    label: 'Preferred language',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'contactinformation',
    options: [
      ['en', 'English'],
      ['fr', 'French'],
      ['de', 'German'],
      ['es', 'Spanish'],
      ['it', 'Italian'],
      ['nl', 'Dutch'],
      ['pt', 'Portuguese'],
      ['ja', 'Japanese'],
    ],
  },
  {
    name: 'hs_legal_basis',
    label: "Legal basis for processing contact's data",
    type: 'enumeration',
    fieldType: 'checkbox',
    groupName: 'contactinformation',
    options: [
      ['Legitimate interest – prospect/lead', 'Legitimate interest – prospect/lead'],
      ['Legitimate interest - existing customer', 'Legitimate interest - existing customer'],
      ['Legitimate interest - other', 'Legitimate interest - other'],
      ['Performance of a contract', 'Performance of a contract'],
      ['Freely given consent from contact', 'Freely given consent from contact'],
      ['Not applicable', 'Not applicable'],
    ],
  },
  // Additional emails: a `;`-separated list; each value is an alias the upsert resolves to this contact.
  {
    name: 'hs_additional_emails',
    label: 'Additional email addresses',
    type: 'enumeration',
    fieldType: 'checkbox',
    groupName: 'emailinformation',
  },
  { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date', groupName: 'sales_properties' },
  {
    name: 'associatedcompanyid',
    label: 'Primary Associated Company ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'contactinformation',
  },
  // Read-only values HubSpot maintains itself.
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', groupName: 'contactinformation', readOnly: true },
  // Record ids merged into this contact (`;`-separated, chained merges included); set by merges only.
  {
    name: 'hs_merged_object_ids',
    label: 'Merged record IDs',
    type: 'enumeration',
    fieldType: 'checkbox',
    groupName: 'contactinformation',
    readOnly: true,
  },
  { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', groupName: 'contactinformation', readOnly: true },
  {
    name: 'lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnly: true,
  },
  {
    name: 'hs_lastmodifieddate',
    label: 'Object last modified date/time',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnly: true,
    hidden: true,
  },
  text('hs_email_domain', 'Email Domain', 'contactinformation', { readOnly: true, calculated: true }),
  {
    name: 'hs_is_contact',
    label: 'Is a contact',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'contactinformation',
    readOnly: true,
    options: BOOL_OPTIONS,
    hidden: true,
  },
  {
    name: 'hs_email_optout',
    label: 'Unsubscribed from all email',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'emailinformation',
    readOnly: true,
    options: BOOL_OPTIONS,
  },
  {
    name: 'hs_email_quarantined',
    label: 'Email address quarantined',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'emailinformation',
    readOnly: true,
    options: BOOL_OPTIONS,
  },
  {
    name: 'hs_sequences_is_enrolled',
    label: 'Currently in Sequence',
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'sales_properties',
    readOnly: true,
    options: BOOL_OPTIONS,
  },
  {
    name: 'num_notes',
    label: 'Number of Sales Activities',
    type: 'number',
    fieldType: 'number',
    groupName: 'sales_properties',
    readOnly: true,
  },
  { name: 'hubspotscore', label: 'HubSpot Score', type: 'number', fieldType: 'number', groupName: 'contactinformation', readOnly: true },
  {
    name: 'notes_last_updated',
    label: 'Last Activity Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'sales_properties',
    readOnly: true,
  },
  {
    name: 'hs_analytics_source',
    label: 'Original Traffic Source',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'analyticsinformation',
    readOnly: true,
    options: [
      ['ORGANIC_SEARCH', 'Organic Search'],
      ['PAID_SEARCH', 'Paid Search'],
      ['EMAIL_MARKETING', 'Email Marketing'],
      ['SOCIAL_MEDIA', 'Organic Social'],
      ['REFERRALS', 'Referrals'],
      ['OTHER_CAMPAIGNS', 'Other Campaigns'],
      ['DIRECT_TRAFFIC', 'Direct Traffic'],
      ['OFFLINE', 'Offline Sources'],
      ['PAID_SOCIAL', 'Paid Social'],
    ],
  },
  {
    name: 'hs_analytics_revenue',
    label: 'Event Revenue',
    type: 'number',
    fieldType: 'number',
    groupName: 'analyticsinformation',
    readOnly: true,
    numberDisplayHint: 'currency',
  },
  {
    name: 'hs_lifecyclestage_lead_date',
    label: 'Became a Lead Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnly: true,
  },
  {
    name: 'hs_lifecyclestage_customer_date',
    label: 'Became a Customer Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnly: true,
  },
  {
    name: 'hs_searchable_calculated_phone_number',
    label: 'Phone number (searchable)',
    type: 'phone_number',
    fieldType: 'phonenumber',
    groupName: 'contactinformation',
    readOnly: true,
    calculated: true,
    hidden: true,
  },
  text('ip_city', 'IP City', 'analyticsinformation', { readOnly: true }),
];

export function seedOptions(pairs: [string, string][] | undefined): PropertyOption[] {
  return (pairs ?? []).map(([value, label], i) => ({ label, value, displayOrder: i, hidden: false }));
}
