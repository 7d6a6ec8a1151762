/** Field mapping from profile source paths to HubSpot contact properties, and the outcomes of mapping a record. */
import type { MemberStatus } from '../members/types';

/** `person.name.firstName` → `firstname`. Email is the identity and is implicit (see `IDENTITY_SOURCE`). */
export interface AttributeMapping {
  source: string;
  target: string;
}

export interface Mapping {
  attributes: AttributeMapping[];
  /**
   * The contact property contacts are matched by: `email` (default) or a custom property HubSpot marks
   * `hasUniqueValue`, which must be the target of one of `attributes` (docs/safe-runs.md).
   */
  matchKey?: string;
}

/** Source path of the identity: XDM `identityMap.Email[]` (primary first), or the CSV `email` column. */
export const IDENTITY_SOURCE = 'identityMap.Email';
export const IDENTITY_TARGET = 'email';

/** Why a member was not sent. `code` is stable (grouped in summaries); `message` never contains the value. */
export interface RejectionReason {
  code: string;
  message: string;
  /** Target property (or source path) concerned, if any. */
  field?: string;
  /** `validation`: our pre-send checks; `hubspot`: HubSpot refused it; `source`: unreadable record. */
  origin: 'source' | 'validation' | 'hubspot';
}

/** A record parsed out of its source, not yet checked against HubSpot's types. Personal data. */
export interface ParsedMember {
  /** Discriminant against the rejected/skipped outcomes of `parseRecord` (optional for hand-built members). */
  kind?: 'member';
  line: number;
  /** Primary email as found (not yet normalised); undefined when the record has none. */
  email?: string;
  /** Raw status for the audience; undefined → default (`realized` for CSV). */
  status?: string;
  /**
   * Several-audience runs: raw status per listed audience the record is a member of (an audience absent
   * here is not a membership); undefined value → default. `status` is then the first member audience's.
   */
  statuses?: Record<string, string | undefined>;
  /** Profile time (ISO 8601) used to order streaming updates; undefined when the record has none. */
  timestamp?: string;
  /** Value per mapped source path (undefined = absent in the record). */
  values: Record<string, unknown>;
}

/** A member ready to upsert: normalised email and HubSpot property values (all strings). */
export interface PreparedContact {
  line: number;
  email: string;
  status: MemberStatus;
  /** Status per listed audience the contact is a member of (several-audience runs; absent otherwise). */
  statuses?: Record<string, MemberStatus>;
  properties: Record<string, string>;
  /** Profile time (ISO 8601) carried over from the parsed member, for ordering streaming updates. */
  timestamp?: string;
}

export type PrepareOutcome =
  | { kind: 'ready'; contact: PreparedContact }
  | { kind: 'rejected'; line: number; email?: string; reason: RejectionReason }
  | { kind: 'skipped'; line: number; reason: { code: string; message: string } };
