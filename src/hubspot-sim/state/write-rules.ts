/**
 * Admin-configured write rules, enforced on API writes from version 2026-09 ("conditional required
 * properties, required fields on the Create Record form", answered with a 400 VALIDATION_ERROR:
 * https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement). Problems use the
 * "Property values were not valid" body that account validation rules already get
 * (https://developers.hubspot.com/changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-and-integrations);
 * the error code and message are the simulator's own.
 */
import type { PropertyProblem } from '../hubspot-errors';
import type { WriteRule } from '../types';

/** Problems of a write of `values` onto a record holding `before` (undefined: the record is being created). */
export function writeRuleProblems(
  rules: readonly WriteRule[],
  before: Readonly<Record<string, string>> | undefined,
  values: Readonly<Record<string, string>>,
): PropertyProblem[] {
  if (rules.length === 0) return [];
  const after = (name: string) => (name in values ? values[name] : before?.[name]) || undefined;
  const problems: PropertyProblem[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (rule.onCreateOnly && before) continue;
    if (rule.when && after(rule.when.property) !== rule.when.equals) continue;
    for (const name of rule.require) {
      if (after(name) !== undefined || seen.has(name)) continue;
      seen.add(name);
      const why = rule.when ? ` when ${rule.when.property} is ${rule.when.equals}` : rule.onCreateOnly ? ' to create a record' : '';
      problems.push({ name, code: 'REQUIRED_PROPERTY', message: `Property "${name}" is required${why}` });
    }
  }
  return problems;
}
