/**
 * A tiny method + path router: static paths in a Map (the hot batch routes), `:param` patterns in a
 * short list checked segment by segment.
 */
export interface Routable {
  method: string;
  pattern: string;
}

export interface Match<R> {
  route: R;
  params: Record<string, string>;
}

export class Router<R extends Routable> {
  private readonly exact = new Map<string, R>();
  private readonly dynamic: { route: R; segments: string[] }[] = [];

  add(route: R): this {
    if (route.pattern.includes('/:')) this.dynamic.push({ route, segments: route.pattern.split('/') });
    else this.exact.set(`${route.method} ${route.pattern}`, route);
    return this;
  }

  match(method: string, path: string): Match<R> | undefined {
    const hit = this.exact.get(`${method} ${path}`);
    if (hit) return { route: hit, params: {} };
    const parts = path.split('/');
    for (const { route, segments } of this.dynamic) {
      if (route.method !== method || segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const s = segments[i];
        if (s.startsWith(':')) {
          if (parts[i] === '') {
            ok = false;
            break;
          }
          params[s.slice(1)] = safeDecode(parts[i]);
        } else if (s !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (ok) return { route, params };
    }
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `/a/b/` → `/a/b`; the root stays `/`. */
export function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
