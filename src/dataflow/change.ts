/**
 * Whether a contact must be sent, given its desired state and what HubSpot last confirmed. The attribute
 * fingerprint and the per-audience statuses are compared separately: a run lists only some of a
 * destination's audiences, and statuses of audiences it does not list must not make a contact differ.
 */
import type { MemberStatus } from '../members/types';
import type { MemoryRow } from '../store/contact-memory';

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
