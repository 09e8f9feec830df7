/**
 * The files around the chart: skaffold.yaml (valid against the skaffold v4beta14 JSON schema, and
 * consistent with the chart), the kind cluster config, and k8s/lab.yaml kept identical to
 * `helm template`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../../local/repo.js';
import { parseDockerfile } from './support/dockerfile.js';
import { get, memberConfigOf, podOf } from './support/manifests.js';
import { helmTemplate, parseManifests, requireHelm, type SetValues } from './support/helm.js';
import { SCHEMA_KUBERNETES_VERSION } from './support/kube-schema.js';
import { KUBE_CONTEXT } from '../../local/kube/control-plane.js';
import { REGISTRY } from '../../local/kube/node.js';
import { skaffoldSchema } from './support/skaffold-schema.js';

const run = promisify(execFile);

const readYaml = (path: string) => parseYaml(readFileSync(join(REPO_ROOT, path), 'utf8'));

/** Applies a profile's JSON patches (add and replace, the operations skaffold.yaml uses). */
function applyPatches(config: any, patches: { op?: string; path: string; value?: unknown }[]): any {
  const copy = structuredClone(config);
  for (const { op = 'replace', path, value } of patches) {
    const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const leaf = keys.pop()!;
    const parent = keys.reduce((node, k) => {
      if (node[k] === undefined) throw new Error(`patch path ${path} does not exist`);
      return node[k];
    }, copy);
    if (op === 'replace' && !(leaf in parent)) throw new Error(`patch replaces ${path}, which does not exist`);
    if (op !== 'add' && op !== 'replace') throw new Error(`patch op ${op} is not handled here`);
    parent[leaf] = value;
  }
  return copy;
}

describe('skaffold.yaml', () => {
  const skaffold = readYaml('skaffold.yaml');

  it('is valid against the skaffold/v4beta14 JSON schema (ajv), with every profile applied too', function () {
    this.timeout(360_000); // the first run downloads the skaffold module (about 45 MB)
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(skaffoldSchema(this));
    expect(skaffold.apiVersion).to.equal('skaffold/v4beta14');
    const check = (config: unknown, what: string) => expect(validate(config) ? [] : validate.errors, what).to.deep.equal([]);
    check(skaffold, 'skaffold.yaml');
    for (const profile of skaffold.profiles ?? []) check(applyPatches(skaffold, profile.patches ?? []), `profile ${profile.name}`);
    // The validator is not vacuous: an unknown field is rejected.
    expect(validate({ ...skaffold, deploys: {} })).to.equal(false);
  });

  it('builds the one image from the Dockerfile and deploys charts/lab as release `lab` with that image injected', () => {
    const [artifact] = skaffold.build.artifacts;
    expect(skaffold.build.artifacts).to.have.length(1);
    expect(artifact.docker.dockerfile).to.equal('Dockerfile');
    expect(existsSync(join(REPO_ROOT, artifact.context ?? '.', artifact.docker.dockerfile))).to.equal(true);
    const [release] = skaffold.deploy.helm.releases;
    expect(release.name).to.equal('lab');
    expect(existsSync(join(REPO_ROOT, release.chartPath, 'Chart.yaml'))).to.equal(true);
    expect(release.setValueTemplates).to.deep.equal({
      'image.repository': `{{.IMAGE_REPO_${artifact.image}}}`,
      'image.tag': `{{.IMAGE_TAG_${artifact.image}}}`,
    });
  });

  it('on the local node, builds with buildah into the node\'s registry and pins the image by digest (profile local-node, on for its kube context)', () => {
    const profile = skaffold.profiles.find((p: any) => p.name === 'local-node');
    expect(profile.activation).to.deep.equal([{ kubeContext: KUBE_CONTEXT }]);
    const config = applyPatches(skaffold, profile.patches);
    const [artifact] = config.build.artifacts;
    expect(artifact.image).to.equal(`${REGISTRY}/lab`);
    expect(artifact.custom.buildCommand).to.equal('node dist/local/kube/main.js image');
    // What it watches: the Dockerfile, its .dockerignore and every source its COPY lines take from the context.
    const copied = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).stages
      .flatMap((stage) => stage.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.flags.from)
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const sources = copied.map((c) => (statSync(join(REPO_ROOT, c)).isDirectory() ? `${c}/**` : c));
    expect([...artifact.custom.dependencies.paths].sort()).to.deep.equal(['Dockerfile', '.dockerignore', ...sources].sort());
    expect(config.build.local.push, 'skaffold reads the digest from the registry').to.equal(true);
    // The names skaffold gives an image's values: every character outside [A-Za-z0-9_] an underscore.
    const key = artifact.image.replace(/[./:-]/g, '_');
    expect(config.deploy.helm.releases[0].setValueTemplates).to.deep.equal({
      'image.repository': `{{.IMAGE_REPO_${key}}}`, 'image.tag': `{{.IMAGE_TAG_${key}}}`, 'image.digest': `{{.IMAGE_DIGEST_${key}}}`,
    });
  });

  describe('against the chart (real helm)', function () {
    let helm: string;
    before(function () {
      helm = requireHelm(this);
    });

    it('forwards localhost:8080 to the facade Service the chart renders', async () => {
      const { objects } = await helmTemplate(helm);
      const [forward] = skaffold.portForward;
      expect(forward).to.include({ resourceType: 'service', localPort: 8080 });
      const service = get(objects, 'Service', forward.resourceName);
      expect(service.spec.ports.map((p: any) => p.port)).to.include(forward.port);
      expect(service.spec.selector['app.kubernetes.io/component']).to.equal('facade');
    });

    it('renders the chart with the values every profile sets (the fast profile: one member, one logging pod)', async () => {
      const renderWith = async (config: any) => {
        const [release] = config.deploy.helm.releases;
        // setValueTemplates stand in with what skaffold would inject.
        const injected: SetValues = { 'image.repository': 'lab', 'image.tag': 'a1b2c3d4' };
        if (release.setValueTemplates['image.digest']) injected['image.digest'] = `sha256:${'b'.repeat(64)}`;
        return (await helmTemplate(helm, { set: { ...injected, ...(release.setValues ?? {}) } })).objects;
      };
      const fast = skaffold.profiles.find((p: any) => p.name === 'fast');
      expect(fast, 'a profile for fast local iteration').to.not.equal(undefined);
      const objects = await renderWith(applyPatches(skaffold, fast.patches));
      expect(podOf(objects, 'hazelcast').owner.spec.replicas).to.equal(1);
      expect(podOf(objects, 'logging').owner.spec.replicas).to.equal(1);
      // One member cannot be the smaller side of anything: with split-brain protection asking for 2,
      // it would refuse every write.
      expect(memberConfigOf(objects).config['split-brain-protection']).to.equal(undefined);
      for (const profile of skaffold.profiles) await renderWith(applyPatches(skaffold, profile.patches ?? []));
      const plain = await renderWith(skaffold);
      expect(podOf(plain, 'facade').spec.containers[0].image).to.equal('lab:a1b2c3d4');
      // The loop's rollouts: readiness every second; every profile keeps the base's values.
      expect(podOf(plain, 'logging').spec.containers[0].readinessProbe.periodSeconds).to.equal(1);
      expect(podOf(objects, 'logging').spec.containers[0].readinessProbe.periodSeconds).to.equal(1);
    });
  });
});

describe('k8s/', function () {
  let helm: string;
  before(function () {
    helm = requireHelm(this);
  });

  it('has a kind cluster with a control plane and three workers, on the Kubernetes minor the chart is validated against, pinned by digest', () => {
    const kind = readYaml('k8s/kind.yaml');
    expect(kind).to.include({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
    const roles = kind.nodes.map((n: any) => n.role);
    expect(roles.filter((r: string) => r === 'worker')).to.have.length(3);
    expect(roles.filter((r: string) => r === 'control-plane')).to.have.length(1);
    const minor = SCHEMA_KUBERNETES_VERSION.split('.').slice(0, 2).join('.');
    for (const node of kind.nodes) expect(node.image).to.match(new RegExp(`^kindest/node:v${minor.replace('.', '\\.')}\\.\\d+@sha256:[0-9a-f]{64}$`));
    expect(new Set(kind.nodes.map((n: any) => n.image)).size, 'one node image').to.equal(1);
  });

  it('keeps k8s/lab.yaml identical to `helm template` of the chart (npm run render:k8s -- --check)', async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'render-k8s.js'), '--check'], { env: { ...process.env, HELM: helm } }).catch((err) => {
      throw new Error(`${err.stderr || err.message}`);
    });
    expect(stdout).to.include('up to date');
    const objects = parseManifests(readFileSync(join(REPO_ROOT, 'k8s', 'lab.yaml'), 'utf8'));
    expect(objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'])).to.deep.equal([]);
    expect(get(objects, 'StatefulSet', 'lab-hazelcast').spec.replicas).to.equal(3);
  });
});
