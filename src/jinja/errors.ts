/**
 * Errors raised while compiling or rendering a template. Every error that reaches a caller is a
 * TemplateError carrying the template position; value operations throw PyError (no position known
 * yet) and the compiled node that ran them converts it.
 */

export interface TemplatePosition {
  line: number;
  column: number;
  name?: string;
}

export class TemplateError extends Error {
  override name = "TemplateError";
  readonly line: number;
  readonly column: number;
  readonly templateName: string | undefined;
  /** The Python exception class the original would raise, e.g. `ZeroDivisionError`. */
  readonly pyType: string;
  /** The message without the position suffix. */
  readonly detail: string;

  constructor(detail: string, pos: TemplatePosition, pyType = "TemplateError") {
    const where = `${pos.name ? `template ${pos.name}, ` : ""}line ${pos.line}, column ${pos.column}`;
    super(`${pyType}: ${detail} (${where})`);
    this.line = pos.line;
    this.column = pos.column;
    this.templateName = pos.name;
    this.pyType = pyType;
    this.detail = detail;
  }
}

export class TemplateSyntaxError extends TemplateError {
  override name = "TemplateSyntaxError";
  constructor(detail: string, pos: TemplatePosition, pyType = "TemplateSyntaxError") {
    super(detail, pos, pyType);
  }
}

export class UndefinedError extends TemplateError {
  override name = "UndefinedError";
  constructor(detail: string, pos: TemplatePosition) {
    super(detail, pos, "UndefinedError");
  }
}

/**
 * A template reached for something the sandbox refuses (an attribute starting with `_`, a type's `mro`,
 * a generator's frame or code): Jinja2's SandboxedEnvironment error, with its wording.
 */
export class SecurityError extends TemplateError {
  override name = "SecurityError";
  constructor(detail: string, pos: TemplatePosition) {
    super(detail, pos, "SecurityError");
  }
}

/** A Python-level exception raised by a value operation, before its template position is known. */
export class PyError extends Error {
  override name = "PyError";
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

export const typeError = (msg: string): PyError => new PyError("TypeError", msg);
export const valueError = (msg: string): PyError => new PyError("ValueError", msg);

/** Converts anything thrown during rendering into a positioned TemplateError. */
export function positioned(err: unknown, pos: TemplatePosition): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof PyError) {
    if (err.pyType === "UndefinedError") return new UndefinedError(err.message, pos);
    if (err.pyType === "SecurityError") return new SecurityError(err.message, pos);
    return new TemplateError(err.message, pos, err.pyType);
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new TemplateError("maximum recursion depth exceeded", pos, "RecursionError");
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TemplateError(message, pos, "Exception");
}
