/**
 * Whether a contact must be sent, given its desired state and what HubSpot last confirmed. The attribute
 * fingerprint and the per-audience statuses are compared separately: a run lists only some of a
 * destination's audiences, and statuses of audiences it does not list must not make a contact differ.
 */
import type { MemberStatus } from '../members/types';
import type { ContactMemory, MemoryRow, ResolveOptions } from '../store/contact-memory';

export interface DesiredState {
  /** fingerprint() of the attribute properties (without the audience status properties). */
  fingerprint: string;
  /** Status to write per audience of the run. */
  statuses: Readonly<Record<string, MemberStatus>>;
}

export type Change = 'new' | 'changed' | 'unchanged';

export function changeOf(remembered: MemoryRow | undefined, desired: DesiredState): Change {
  if (!remembered) return 'new';
  if (remembered.fingerprint === null || remembered.fingerprint !== desired.fingerprint) return 'changed';
  for (const [audienceId, status] of Object.entries(desired.statuses)) {
    if (remembered.statuses[audienceId] !== status) return 'changed';
  }
  return 'unchanged';
}

/** A status property of an audience, as the contact's outgoing properties carry it. */
export interface AudienceProperty {
  id: string;
  propertyName: string;
}

/** Status property name → audience id. */
function statusPropertyMap(audiences: readonly AudienceProperty[]): ReadonlyMap<string, string> {
  return new Map(audiences.map((a) => [a.propertyName, a.id]));
}

/** A contact's outgoing properties split into attributes (fingerprinted) and per-audience statuses. */
function splitProperties(properties: Readonly<Record<string, string>>, statusOf: ReadonlyMap<string, string>) {
  const attributes: Record<string, string> = {};
  const statuses: Record<string, MemberStatus> = {};
  for (const name in properties) {
    const audienceId = statusOf.get(name);
    if (audienceId === undefined) attributes[name] = properties[name];
    else statuses[audienceId] = properties[name] as MemberStatus;
  }
  return { attributes, statuses };
}

export interface ResolvedState {
  desired: DesiredState & { keyHash: string };
  /** With `rows`. */
  remembered?: MemoryRow;
  /** With `lookup`: the contact against what is remembered. */
  change?: Change;
}

/**
 * The desired states of contacts (in order) with what the memory holds for each, in one memory call:
 * keys and fingerprints are computed where the memory runs (its own thread by default), not here.
 * Batch runs and stream flushes both use it, so the two paths remember and compare alike.
 */
export async function resolveDesired(
  store: Pick<ContactMemory, 'resolve'>,
  destinationId: string,
  contacts: ReadonlyArray<{ email: string; properties: Readonly<Record<string, string>> }>,
  audiences: readonly AudienceProperty[],
  options: ResolveOptions,
): Promise<ResolvedState[]> {
  if (contacts.length === 0) return [];
  const statusOf = statusPropertyMap(audiences);
  const split = contacts.map((c) => splitProperties(c.properties, statusOf));
  const resolved = await store.resolve(
    destinationId,
    contacts.map((c, i) => ({ email: c.email, attributes: split[i].attributes, statuses: split[i].statuses })),
    options,
  );
  return resolved.map((r, i) => ({
    desired: { fingerprint: r.fingerprint, statuses: split[i].statuses, keyHash: r.keyHash },
    ...(r.remembered ? { remembered: r.remembered } : {}),
    ...(r.change ? { change: r.change } : {}),
  }));
}

/** `exitMissing` finds leavers in the memory: with CONTACT_MEMORY=off it is refused, never guessed. */
/** Lists are written by the record ids the memory holds (docs/dataflows.md, "Audiences as lists"). */
export const LISTS_NEED_MEMORY =
  'Audiences encoded as HubSpot lists (encoding "list" or "both") need the confirmed-state memory, which this service runs without (CONTACT_MEMORY=off). Turn it on, or use encoding "property".';

export const EXIT_MISSING_NEEDS_MEMORY =
  'options.exitMissing needs the confirmed-state memory, which this service runs without (CONTACT_MEMORY=off). Turn it on, or run without exitMissing.';
