/**
 * Validation of rendered objects against the Kubernetes OpenAPI schema, with kubernetes-models
 * (4.5: the Kubernetes 1.33.0 schema, compiled to validators). Its schema accepts unknown fields;
 * the API server with `kubectl apply --validate=strict` (the default) does not, so every field
 * the validator never looked at is reported as unknown too.
 */
import type { K8sObject } from './helm.js';

/** The Kubernetes version whose schema kubernetes-models 4.5.x carries. */
export const SCHEMA_KUBERNETES_VERSION = '1.33.0';

type Validatable = { prototype: { validate(this: unknown): void } };

/** kubernetes-models' module for an apiVersion and kind: core types live under v1/, others under <group>/<version>/. */
async function modelFor(apiVersion: string, kind: string): Promise<Validatable> {
  const specifier = `kubernetes-models/${apiVersion}/${kind}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    throw new Error(`kubernetes-models has no schema for ${apiVersion} ${kind}`);
  }
  const model = mod[kind] as Validatable | undefined;
  if (!model) throw new Error(`kubernetes-models/${apiVersion}/${kind} exports no ${kind}`);
  return model;
}

/** Wraps `value` so that every own property the validator reads is recorded (as a JSON pointer). */
function tracked(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value as object, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof prop === 'string' && Object.prototype.hasOwnProperty.call(target, prop)) {
        const p = `${path}/${prop}`;
        read.add(p);
        return tracked(v, p, read);
      }
      return v;
    },
  });
}

/** Every field path of a plain value, outermost first. */
function fieldPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as object).flatMap(([k, v]) => [`${path}/${k}`, ...fieldPaths(v, `${path}/${k}`)]);
}

/**
 * Validates one object; resolves with its problems (empty when it is valid): schema violations
 * and unknown fields, each as `<kind>/<name> <path>: <problem>`.
 */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const id = `${o.kind}/${o.metadata?.name}`;
  let model: Validatable;
  try {
    model = await modelFor(o.apiVersion, o.kind);
  } catch (err) {
    return [`${id}: ${(err as Error).message}`];
  }
  const read = new Set<string>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(o, '', read));
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  // Report only the outermost unknown field of a subtree.
  const unknown = fieldPaths(o).filter((p) => !read.has(p));
  for (const p of unknown) {
    if (!unknown.some((q) => q !== p && p.startsWith(`${q}/`))) problems.push(`${id} ${p}: unknown field`);
  }
  return problems;
}

export async function validateAll(objects: K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(validateObject))).flat();
}
