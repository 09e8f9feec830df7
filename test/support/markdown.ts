/**
 * Links as GitHub renders them: the relative links of a Markdown page, the anchors its headings
 * get, the `docs/…` pages any file names, and a check that every one of them resolves
 * within a set of files. Pure: the repository comes in as a list of paths and a reader.
 */
import { posix } from 'node:path';

/** Fenced code blocks (``` or ~~~, indented or not), which hold no links and no headings. */
const FENCED = /^[ \t]*(`{3,}|~{3,})[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm;
/** Inline code spans, one or two backticks. */
const CODE_SPAN = /(``?)(?!`)[^\n]*?[^`]\1(?!`)/g;

/** Markdown with its fenced blocks emptied and, unless `spans` is false, its code spans too. */
function prose(markdown: string, spans = true): string {
  const noBlocks = markdown.replace(FENCED, '');
  return spans ? noBlocks.replace(CODE_SPAN, '') : noBlocks;
}

/**
 * Every link target of a Markdown page as written, code left out: inline links and images
 * (`[x](path "title")`, `<path>` too), reference definitions (`[x]: path`) and raw HTML's
 * `href`/`src`. Web links (`https:`, `mailto:`, `//host`) are left out.
 */
export function markdownLinks(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [
    ...[...text.matchAll(/\]\(\s*(?:<([^>\n]*)>|([^)\s]+))(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)].map((m) => m[1] ?? m[2]!),
    ...[...text.matchAll(/^ {0,3}\[(?!\^)[^\]\n]+\]:\s*<?([^>\s]+)>?/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/<[a-z][^>\n]*?\s(?:href|src)\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!),
  ];
  return targets.filter((t) => !/^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(t));
}

/**
 * A heading's anchor as GitHub makes it (its github-slugger): lower case; every character but
 * letters, marks, decimal numbers, `_`, `-` and spaces dropped; each space a `-`. Returns a slugger
 * for one page, which gives a repeated heading `-1`, `-2`… as GitHub does.
 */
export function githubSlugger(): (heading: string) => string {
  const seen = new Map<string, number>();
  return (heading) => {
    const base = heading.toLowerCase().replace(/[^\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc} -]/gu, '').replace(/ /g, '-');
    let slug = base;
    while (seen.has(slug)) {
      const n = seen.get(base)! + 1;
      seen.set(base, n);
      slug = `${base}-${n}`;
    }
    seen.set(slug, 0);
    return slug;
  };
}

/** A heading's text as rendered (what GitHub slugs): code kept verbatim, links as their text, markup and images gone. */
export function headingText(source: string): string {
  const parts = source.split(/(`+)([^`]*?)\1/);
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    if (i % 3 === 2) text += parts[i];
    else if (i % 3 === 0) {
      text += parts[i]!
        .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/<[^>]+>/g, '')
        .replace(/(^|[^\p{L}\p{N}])(\*{1,3}|_{1,3})(?=\S)(.*?\S)\2(?![\p{L}\p{N}])/gu, '$1$3');
    }
  }
  return text.trim();
}

/** A Markdown page's headings, in order: ATX (`## Title`) and setext (a paragraph underlined with `===` or `---`). */
export function headings(markdown: string): string[] {
  const found: string[] = [];
  let paragraph: string[] = [];
  for (const line of prose(markdown, false).split('\n')) {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) {
      found.push(headingText(atx[1] ?? ''));
      paragraph = [];
    } else if (paragraph.length > 0 && /^ {0,3}(?:=+|-+)[ \t]*$/.test(line)) {
      found.push(headingText(paragraph.join(' ')));
      paragraph = [];
    } else if (line.trim() === '' || /^ {0,3}(?:[-*+>|]|\d+[.)])/.test(line)) {
      paragraph = []; // a blank line ends a paragraph; list items, quotes and tables are no setext heading's text
    } else {
      paragraph.push(line.trim());
    }
  }
  return found;
}

/** The anchors a Markdown page offers: its headings' slugs, as GitHub numbers them, and raw HTML's `id`/`name` attributes. */
export function headingAnchors(markdown: string): Set<string> {
  const slug = githubSlugger();
  const html = [...prose(markdown).matchAll(/<a\s[^>]*?\b(?:id|name)\s*=\s*"([^"]+)"/gi)].map((m) => m[1]!);
  return new Set([...headings(markdown).map(slug), ...html]);
}

/**
 * The pages of `folder` (default `docs`) a text names, with their `#anchor` if any: `docs/api.md`,
 * `docs/api.md#error-codes`, `docs/open-loop.svg`; not `charts/docs/x.md` or `../docs/x.md` (another folder).
 */
export function folderReferences(text: string, folder = 'docs'): { page: string; anchor?: string }[] {
  const re = new RegExp(`(?<![\\w/.-])${folder}/([\\w./-]*?[\\w-]\\.(?:md|svg|png))(?![\\w])(?:#([\\p{L}\\p{N}_-]+))?`, 'gu');
  return [...text.matchAll(re)].map((m) => (m[2] ? { page: m[1]!, anchor: m[2] } : { page: m[1]! }));
}

/** A link's path decoded (`%20` a space); undefined when its %-escapes are malformed. */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Where a link in `file` to `path` points, relative to the repository root ('' the root, `../…`
 * above it); a link to '' is `file` itself.
 */
function resolve(file: string, path: string): string {
  if (path === '') return file;
  const joined = posix.normalize(path.startsWith('/') ? path.slice(1) || '.' : posix.join(posix.dirname(file), path)).replace(/\/$/, '');
  return joined === '.' ? '' : joined;
}

export interface LinkCheck {
  /** What was broken, one line each: file, target, why. */
  broken: string[];
  /** How many Markdown links, anchors among them, and `docs/` references were checked. */
  links: number;
  anchors: number;
  references: number;
}

/**
 * Checks every relative link of every `.md` file in `files` (paths relative to the repository, `/`
 * separated) and every `docs/…` page any text file names outside a link: the target must be one of `files`
 * or a folder holding some, inside the repository (a leading `/` is its root, as on GitHub), and
 * an `#anchor` into a Markdown page must be one of its headings' anchors.
 */
export function checkLinks(files: readonly string[], read: (path: string) => string): LinkCheck {
  const known = new Set(files);
  const folders = new Set(files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const anchorsOf = new Map<string, Set<string>>();
  const anchorsIn = (page: string) => anchorsOf.get(page) ?? anchorsOf.set(page, headingAnchors(read(page))).get(page)!;
  const result: LinkCheck = { broken: [], links: 0, anchors: 0, references: 0 };

  /** Why `target#anchor` does not resolve, or undefined when it does. */
  const problem = (target: string, anchor: string | undefined): string | undefined => {
    if (target.startsWith('../') || target === '..') return 'outside the repository';
    if (!known.has(target) && !folders.has(target) && target !== '') return 'no such file';
    if (anchor !== undefined && target.endsWith('.md') && known.has(target)) {
      result.anchors++;
      if (!anchorsIn(target).has(anchor)) return 'no such heading';
    }
    return undefined;
  };

  for (const file of files) {
    const text = read(file);
    if (file.endsWith('.md')) {
      for (const link of markdownLinks(text)) {
        result.links++;
        const hash = link.indexOf('#');
        const rawPath = hash < 0 ? link : link.slice(0, hash);
        const rawAnchor = hash < 0 || hash === link.length - 1 ? undefined : link.slice(hash + 1); // a bare `#`: the top of the page
        const path = decoded(rawPath.replace(/\?.*$/, ''));
        const anchor = rawAnchor === undefined ? undefined : decoded(rawAnchor);
        const malformed = path === undefined || (rawAnchor !== undefined && anchor === undefined);
        const why = malformed ? 'malformed %-escape' : problem(resolve(file, path), anchor);
        if (why) result.broken.push(`${file}: (${link}): ${why}`);
      }
    }
    if (text.includes('\0')) continue; // binary
    // In Markdown, the pages named outside links (in prose or code): a link's own target was checked above.
    const named = file.endsWith('.md') ? text.replace(/\]\([^)\n]*\)/g, ']()') : text;
    for (const { page, anchor } of folderReferences(named)) {
      result.references++;
      const why = problem(`docs/${page}`, anchor);
      if (why) result.broken.push(`${file}: docs/${page}${anchor ? `#${anchor}` : ''}: ${why}`);
    }
  }
  return result;
}
