/**
 * Email identity: normalisation and a practical validity check.
 *
 * HubSpot does not publish its rule; it stores emails lowercased and rejects malformed ones with
 * `INVALID_EMAIL`. We reject before sending what it would clearly refuse, so one bad email never costs
 * a batch call. The rule (after trim + lowercase):
 *  - at most 254 characters in total, exactly one `@`;
 *  - local part: 1–64 printable ASCII characters, none of whitespace `"(),:;<>[\]`, no leading,
 *    trailing or doubled dot;
 *  - domain: at least two dot-separated labels of `a-z 0-9 -` (1–63 chars, no leading/trailing
 *    hyphen; internationalised domains must be punycode), the last one (TLD) ≥ 2 letters or `xn--…`.
 * Anything this accepts but HubSpot still refuses is isolated per record at send time.
 */

export const MAX_EMAIL_LENGTH = 254;

export function normalizeEmail(s: string): string {
  return s.trim().toLowerCase();
}

const LOCAL_RE = /^[!#-'*+\-./0-9=?A-Z^-~]{1,64}$/; // printable ASCII minus space " ( ) , : ; < > @ [ \ ]
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLD_RE = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Validates an email as the destination sends it (pass the normalised form). */
export function isValidEmail(s: string): boolean {
  if (s.length === 0 || s.length > MAX_EMAIL_LENGTH) return false;
  const at = s.indexOf('@');
  if (at <= 0 || at !== s.lastIndexOf('@')) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase();
  if (!LOCAL_RE.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const l of labels) if (!LABEL_RE.test(l)) return false;
  return TLD_RE.test(labels[labels.length - 1]);
}
