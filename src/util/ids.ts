/** Readable, sortable ids: a prefix, the time in base36 and randomness (no personal data). */
import crypto from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(5).toString('hex')}`;
}

export const newDestinationId = () => newId('dst');
export const newActivationId = () => newId('act');
export const newConnectionId = () => newId('con');
export const newSyncId = () => newId('syn');
