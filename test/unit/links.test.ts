/**
 * No link is broken, as GitHub would follow it: every relative link and `#anchor` of every Markdown
 * page in the repository (README.md, docs/, the chart's README, any other), and every page of docs/
 * that any file names: code, chart templates, values, the Dockerfile, CI, package.json, and
 * Markdown outside its links. The files are the ones git lists; nothing goes over the network.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { repoFiles } from '../support/repo-files.js';
import { checkLinks, folderReferences, headingAnchors, markdownLinks } from '../support/markdown.js';

/** The docs folder's name, kept out of this file's own text so that its examples name no real page. */
const DOCS = 'docs';

/** checkLinks over an in-memory repository. */
const check = (files: Record<string, string>) => checkLinks(Object.keys(files), (path) => files[path]!);

describe('links', () => {
  const files = repoFiles();
  const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

  it('are looked for in every file git lists: the Markdown pages, code, chart, values, Dockerfile, CI and package.json', () => {
    const wanted = [
      'README.md', 'docs/testing.md', 'charts/lab/README.md', 'lib/hazelcast.ts', 'charts/lab/values.yaml',
      'charts/lab/templates/_helpers.tpl', 'charts/lab/templates/prometheusrule.yaml', 'Dockerfile', '.ci/run', 'package.json',
    ];
    expect(files).to.include.members(wanted);
    expect(files.filter((f) => /^(dist|node_modules|\.run|\.kube)\//.test(f)), 'git-ignored files').to.deep.equal([]);
  });

  it('all resolve: relative links and anchors of every Markdown page, and every docs/ page any file names', () => {
    const { broken, links, anchors, references } = checkLinks(files, read);
    expect(links, 'Markdown links checked').to.be.greaterThan(30);
    expect(anchors, 'anchors checked').to.be.greaterThan(3);
    expect(references, 'docs/ pages named outside links checked').to.be.greaterThan(15);
    expect(broken).to.deep.equal([]);
  });
});

describe('the link check', () => {
  const repo = {
    'README.md': `# Lab\n\nSee [the API](${DOCS}/api.md#errors), [the chart](charts/lab/), [top](#lab) and [me](README.md).\n`,
    [`${DOCS}/api.md`]: '# API\n\n## Errors\n\n[back](../README.md#lab), [errors](#errors) and [a file](../lib/a.ts#L3).\n',
    'charts/lab/values.yaml': `# sized as in ${DOCS}/api.md#errors\n`,
    'lib/a.ts': `// ${DOCS}/api.md\n`,
  };

  it('passes links to files, folders, headings and the page itself', () => {
    const result = check(repo);
    expect(result.broken).to.deep.equal([]);
    expect(result).to.include({ links: 7, anchors: 5, references: 2 });
  });

  it('reports a missing file, a missing heading, a link out of the repository and a missing docs/ page', () => {
    const { broken } = check({
      ...repo,
      'README.md': `# Lab\n\n[gone](${DOCS}/gone.md), [no heading](${DOCS}/api.md#warnings), [out](../other/x.md), [bad](a%zz.md)\n`,
      'charts/lab/templates/_helpers.tpl': `{{/* ${DOCS}/gone.md and ${DOCS}/api.md#nothing */}}\n`,
    });
    expect(broken).to.deep.equal([
      `README.md: (${DOCS}/gone.md): no such file`,
      `README.md: (${DOCS}/api.md#warnings): no such heading`,
      'README.md: (../other/x.md): outside the repository',
      'README.md: (a%zz.md): malformed %-escape',
      `charts/lab/templates/_helpers.tpl: ${DOCS}/gone.md: no such file`,
      `charts/lab/templates/_helpers.tpl: ${DOCS}/api.md#nothing: no such heading`,
    ]);
  });

  it('counts a link to a file that is not in the list as broken, though a folder holding listed files resolves', () => {
    const { broken } = check({ 'README.md': '[run](.run/logs/facade.log) [charts](charts) [lab](charts/lab/)', 'charts/lab/Chart.yaml': '' });
    expect(broken).to.deep.equal(['README.md: (.run/logs/facade.log): no such file']);
  });

  it('checks the docs/ pages a Markdown page names outside its links, a link once', () => {
    const { broken, references } = check({ 'README.md': `[x](${DOCS}/gone.md) and \`${DOCS}/chart.svg\`` });
    expect(references).to.equal(1);
    expect(broken).to.deep.equal([`README.md: (${DOCS}/gone.md): no such file`, `README.md: ${DOCS}/chart.svg: no such file`]);
  });
});

describe('Markdown as GitHub reads it', () => {
  it('gives headings the anchors GitHub gives them', () => {
    const page = [
      '# `skaffold dev` on the node',
      '## Open-loop latency at a fixed offered rate (issue 14)',
      '### Three nodes: NetworkPolicies enforced (`up --nodes 3`)',
      '## What the [API](api.md) answers, *exactly* ##',
      '## snake_case and C#',
      '```',
      '# not a heading',
      '```',
      'Setext too',
      '----------',
    ].join('\n');
    expect([...headingAnchors(page)]).to.deep.equal([
      'skaffold-dev-on-the-node', 'open-loop-latency-at-a-fixed-offered-rate-issue-14', 'three-nodes-networkpolicies-enforced-up---nodes-3',
      'what-the-api-answers-exactly', 'snake_case-and-c', 'setext-too',
    ]);
  });

  it('numbers repeated headings as GitHub does: the second -1, the third -2', () => {
    expect([...headingAnchors('## Step\n## Step\ntext\n## Step\n## Step 1\n')]).to.deep.equal(['step', 'step-1', 'step-2', 'step-1-1']);
  });

  it('finds relative links, images and reference definitions, and leaves out web links and code', () => {
    const md = [
      'See [the API](guide/api.md#errors "title"), ![shot](guide/a%20b.png) and [web](https://example.com/x.md).',
      '[here](#settings) `[not](a-link.md)` [mail](mailto:a@b.c) [angle](<guide/c d.md>)',
      '[ref]: guide/ref.md',
      '[^1]: a footnote, not a link',
      '```sh',
      'echo [x](in-code.md)',
      '```',
      '- a list',
      '  ```json',
      '  {"a": "[y](indented-code.md)"}',
      '  ```',
    ].join('\n');
    expect(markdownLinks(md)).to.deep.equal(['guide/api.md#errors', 'guide/a%20b.png', '#settings', 'guide/c d.md', 'guide/ref.md']);
  });

  it('finds the pages of a folder a text names, with their anchors, and not those of another folder', () => {
    const text = 'guide/api.md, (guide/api.md#error-codes); guide/open-loop.svg. charts/guide/x.md ../guide/y.md guide/${page}.md guide/';
    expect(folderReferences(text, 'guide')).to.deep.equal([
      { page: 'api.md' }, { page: 'api.md', anchor: 'error-codes' }, { page: 'open-loop.svg' },
    ]);
  });
});
