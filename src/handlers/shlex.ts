/**
 * POSIX shell-like splitting, as Python's `shlex.split(s)` (posix mode, no comments) does it: lava splits
 * cmd payloads and exe/pkg commands this way before rendering each token, so the rules must match exactly.
 * No expansion of any kind happens; the result is an argv.
 */
export class ShlexError extends Error {
  override name = "ShlexError";
}

const WHITESPACE = new Set([" ", "\t", "\r", "\n"]);

export function shlexSplit(text: string): string[] {
  const tokens: string[] = [];
  let token = "";
  // A token exists once any character or quote pair was seen: `''` is an empty argument.
  let inToken = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.has(c)) {
      if (inToken) tokens.push(token);
      token = "";
      inToken = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShlexError("No closing quotation");
      token += text.slice(i + 1, end);
      inToken = true;
      i = end + 1;
    } else if (c === '"') {
      const [value, next] = readDoubleQuoted(text, i + 1);
      token += value;
      inToken = true;
      i = next;
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new ShlexError("No escaped character");
      token += text[i + 1];
      inToken = true;
      i += 2;
    } else {
      token += c;
      inToken = true;
      i++;
    }
  }
  if (inToken) tokens.push(token);
  return tokens;
}

/** Inside double quotes a backslash escapes only `"` and `\`; before anything else it stays literal. */
function readDoubleQuoted(text: string, start: number): [string, number] {
  let value = "";
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return [value, i + 1];
    if (c === "\\") {
      if (i + 1 >= text.length) break;
      const next = text[i + 1]!;
      value += next === '"' || next === "\\" ? next : c + next;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new ShlexError("No closing quotation");
}
