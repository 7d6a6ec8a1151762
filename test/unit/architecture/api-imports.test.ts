/**
 * The API talks to Temporal only (docs/architecture.md): nothing under src/api/ may import activities/,
 * the HubSpot client (src/hubspot/) or axios — directly, or at run time through any module it loads.
 * Type-only imports vanish at compile time, so only those are allowed to pass through shared modules.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');
const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');

interface Import {
  spec: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allNamedAreTypes =
        !!clause && !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0
          ? bindings.elements.every((e) => e.isTypeOnly)
          : false;
      out.push({ spec: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || allNamedAreTypes });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** A relative import → the project file it names (packages resolve to undefined). */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [base, `${base}.ts`, path.join(base, 'index.ts')].find((f) => f.endsWith('.ts') && fs.existsSync(f));
}

/** What the API must not reach: a project path prefix or a package name. */
function forbidden(from: string, spec: string): string | undefined {
  if (spec === 'axios' || spec.startsWith('axios/')) return 'axios';
  const target = resolveLocal(from, spec);
  if (!target) return undefined;
  const name = rel(target);
  if (name.startsWith('activities/')) return name;
  if (name.startsWith('src/hubspot/')) return name;
  return undefined;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const apiFiles = filesUnder(path.join(root, 'src/api'));

describe('the API process imports', () => {
  it('finds the API sources', () => {
    expect(apiFiles.map(rel)).toEqual(expect.arrayContaining(['src/api/server.ts', 'src/api/routes/stream.ts']));
  });

  it('nothing under src/api names activities/, src/hubspot/ or axios', () => {
    const hits = apiFiles.flatMap((f) =>
      importsOf(f)
        .map((i) => forbidden(f, i.spec))
        .filter((x): x is string => !!x)
        .map((x) => `${rel(f)} -> ${x}`),
    );
    expect(hits).toEqual([]);
  });

  it('nor loads them at run time through another module', () => {
    const via = new Map<string, string>(apiFiles.map((f) => [f, '']));
    const queue = [...apiFiles];
    const hits: string[] = [];
    const chain = (f: string): string => (via.get(f) ? `${chain(via.get(f)!)} -> ${rel(f)}` : rel(f));
    while (queue.length) {
      const file = queue.shift()!;
      for (const i of importsOf(file)) {
        if (i.typeOnly) continue;
        const bad = forbidden(file, i.spec);
        if (bad) hits.push(`${chain(file)} -> ${bad}`);
        const next = resolveLocal(file, i.spec);
        if (next && !bad && !via.has(next)) {
          via.set(next, file);
          queue.push(next);
        }
      }
    }
    expect(hits).toEqual([]);
  });
});
