/**
 * The documentation of the chart's values: the comments of values.yaml (read with the `yaml`
 * package) and the descriptions of values.schema.json, which must say the same.
 */
import { isMap, isScalar, parseDocument, visit, type Pair, type YAMLMap } from 'yaml';

/** One key of values.yaml and the comment that documents it. */
export interface ValueDoc {
  /** Keys from the top, e.g. ['facade', 'autoscaling', 'enabled']. */
  path: string[];
  /** The comment above the key, without its "--" marker and with whitespace normalised; undefined when there is none. */
  comment: string | undefined;
}

const normalise = (text: string) => text.replace(/^\s*--/, '').replace(/\s+/g, ' ').trim();

/**
 * Every documented key of values.yaml, outermost first. A key's comment is the paragraph just above
 * it (the file's header, above the first key, is not part of it). A comment that starts with "--"
 * documents the whole value beneath it (resources, selectors, lists), so the keys inside that value
 * are not listed.
 */
export function valueDocs(text: string): ValueDoc[] {
  const docs: ValueDoc[] = [];
  const pathOf = new Map<unknown, string[]>();
  visit(parseDocument(text), {
    Pair(_key, pair, path) {
      const p = pair as Pair;
      const parent = path[path.length - 1] as YAMLMap;
      // yaml attaches the comment above a map's first key to the map itself.
      const first = isMap(parent) && parent.items[0] === p;
      const raw = (isScalar(p.key) ? p.key.commentBefore : undefined) ?? (first ? parent.commentBefore : undefined)
        ?? (p.value as { comment?: string } | null)?.comment;
      const paragraph = raw?.split(/\n\s*\n/).pop();
      const keyPath = [...(pathOf.get(parent) ?? []), String(isScalar(p.key) ? p.key.value : p.key)];
      if (isMap(p.value)) pathOf.set(p.value, keyPath);
      docs.push({ path: keyPath, comment: paragraph === undefined ? undefined : normalise(paragraph) });
      return paragraph?.trimStart().startsWith('--') && isMap(p.value) ? visit.SKIP : undefined;
    },
  });
  return docs;
}

type Schema = { [keyword: string]: any };

const resolve = (root: Schema, ref: string): Schema =>
  ref.replace(/^#\//, '').split('/').reduce((node: Schema, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);

/** The schema of a property of `node`, looked for in its own properties, then through its $ref and allOf. */
function propertyOf(root: Schema, node: Schema, key: string): Schema | undefined {
  if (node.properties?.[key]) return node.properties[key];
  if (node.$ref) return propertyOf(root, resolve(root, node.$ref), key);
  for (const sub of node.allOf ?? []) {
    const found = propertyOf(root, sub, key);
    if (found) return found;
  }
  return undefined;
}

/**
 * The schema node that describes the value at `path`: the property's own node when it has a
 * description (written beside a $ref, it describes this use), else the definition it refers to.
 */
export function describingNode(root: Schema, path: string[]): Schema | undefined {
  let node: Schema | undefined = root;
  for (const key of path) {
    node = node && propertyOf(root, node, key);
  }
  while (node && node.description === undefined && node.$ref) node = resolve(root, node.$ref);
  return node;
}

/** Every property schema with a description of its own, wherever it is (definitions included), with where it is. */
export function describedProperties(root: Schema): { at: string; node: Schema }[] {
  const found: { at: string; node: Schema }[] = [];
  const walk = (node: unknown, at: string) => {
    if (!node || typeof node !== 'object') return;
    const props = (node as Schema).properties;
    if (props && typeof props === 'object') {
      for (const [key, child] of Object.entries(props as Schema)) {
        if (typeof child?.description === 'string') found.push({ at: `${at}/properties/${key}`, node: child });
      }
    }
    for (const [key, child] of Object.entries(node)) walk(child, `${at}/${key}`);
  };
  walk(root, '#');
  return found;
}
