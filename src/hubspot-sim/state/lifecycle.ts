/**
 * `lifecyclestage` only moves forward: "you can only set the value forward in the stage order. To set the
 * lifecycle stage backward, you'll first need to clear the record's existing lifecycle stage value"
 * (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide). The order is the
 * property's option order. Refusing the write (rather than ignoring it) is the simulator's choice.
 */
import type { PropertyProblem } from '../hubspot-errors';
import type { PropertyStore } from './properties';

export function lifecycleProblem(
  store: PropertyStore,
  current: Readonly<Record<string, string>> | undefined,
  values: Readonly<Record<string, string>>,
): PropertyProblem | undefined {
  const next = values.lifecyclestage;
  const now = current?.lifecyclestage;
  if (!next || !now || next === now) return undefined;
  const def = store.get('lifecyclestage');
  if (!def) return undefined;
  const order = (v: string) => def.json.options.find((o) => o.value === v)?.displayOrder ?? -1;
  if (order(next) >= order(now)) return undefined;
  return {
    name: 'lifecyclestage',
    code: 'INVALID_OPTION',
    message: `${next} is an earlier lifecycle stage than ${now}; clear lifecyclestage before moving it backward`,
  };
}
