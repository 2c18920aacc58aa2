/**
 * Rendering structured values (dispatch parameters, globals, state values, message objects) one string at a
 * time, and marking rendered strings as data for a worker that renders them again.
 *
 * Never dump a structure to JSON text, render the text and parse it back (as the original does): a value
 * that came from outside (an S3 key, an error message, a global) would be spliced into JSON and could add
 * fields or break the structure. Here each string is its own template and its output stays one string.
 *
 * No engine or SDK imports: the lambdas use it too.
 */

import { setOwn } from "./own-property.ts";

/** What makes text a template for Jinja's default delimiters: `{{`, `{%` or `{#`. */
const TEMPLATE_SYNTAX = /\{[{%#]/;

export function hasTemplateSyntax(text: string): boolean {
  return TEMPLATE_SYNTAX.test(text);
}

/**
 * True when rendering `text` once as a template (default Jinja settings, as both workers use) would not
 * give `text` back: it holds a delimiter, a CR (Jinja turns CR and CRLF into LF) or ends with a newline
 * (Jinja drops one).
 */
export function renderingChanges(text: string): boolean {
  return TEMPLATE_SYNTAX.test(text) || text.includes("\r") || text.endsWith("\n");
}

/**
 * `text` written as a template whose rendering is exactly `text`, for Python's Jinja2 and ours alike; text
 * that a rendering leaves alone is returned unchanged (so ordinary values stay byte-identical to the
 * original's messages).
 *
 * The text goes inside `{% raw %}…{% endraw %}`. Two things cannot: `{%` (it could close the raw block) and
 * CR (normalised even inside raw); each is written as an expression, `{{ '{%' }}` and `{{ '\r' }}`. The form
 * also survives the original's dump-render-parse of dispatch parameters (its `dispatch` job type and action):
 * raw text passes through untouched, and `'\r'` renders to the two characters that JSON reads back as CR.
 */
export function asLiteralTemplate(text: string): string {
  if (!renderingChanges(text)) return text;
  return text
    .split(/(\{%|\r)/)
    .map((piece) => {
      if (piece === "{%") return "{{ '{%' }}";
      if (piece === "\r") return "{{ '\\r' }}";
      return piece ? `{% raw %}${piece}{% endraw %}` : "";
    })
    .join("");
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

type Render = (template: string) => string | Promise<string>;

/**
 * Renders every string (mapping keys included, as the original's JSON round trip did) that holds template
 * syntax, each on its own; other values are kept as they are. `mark` is applied to each rendered output.
 * `render` may be asynchronous (the worker renders off its event loop); strings are rendered in order.
 */
export async function renderEachString(value: unknown, render: Render, mark: (rendered: string) => string = (s) => s): Promise<unknown> {
  const one = async (s: string): Promise<string> => (hasTemplateSyntax(s) ? mark(await render(s)) : s);
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === "string") return one(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const x of v) out.push(await walk(x));
      return out;
    }
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) setOwn(out, await one(k), await walk(x));
      return out;
    }
    return v;
  };
  return walk(value);
}


/**
 * Dispatch parameters for another run: each string rendered on its own, and each rendered string marked as
 * data (`asLiteralTemplate`) because the receiving worker renders parameters again when the job's Jinja is
 * on. `vars` is the exception: every job type hands it to templates as data (`{{ vars.x }}`) and never
 * renders it, so marking would change the value the job sees. Anything but a mapping is rendered and marked
 * throughout, and left for the dispatch to refuse.
 */
export async function renderDispatchParameters(parameters: unknown, render: Render): Promise<unknown> {
  if (!isPlainObject(parameters)) return renderEachString(parameters, render, asLiteralTemplate);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) {
    const name = hasTemplateSyntax(key) ? asLiteralTemplate(await render(key)) : key;
    setOwn(out, name, name === "vars" ? await renderEachString(value, render) : await renderEachString(value, render, asLiteralTemplate));
  }
  return out;
}
