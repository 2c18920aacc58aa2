/**
 * A render thread (render-pool.ts): renders the templates of runs off the worker's event loop, so a slow
 * template (a large `range`, a heavy filter) delays only the run that asked for it, never the timers
 * that keep other runs' messages invisible or the heartbeat.
 *
 * Protocol: `{ id, req }` in (a RenderRequest); `{ id, text }` or `{ id, error }` out, the error as data
 * the pool turns back into the same error class (TemplateError keeps its detail, position and Python type).
 */
import { TemplateError, TemplateSyntaxError, UndefinedError } from "../../jinja/index.ts";
import { loadJinja, renderRequest, type RenderRequest } from "./render.ts";

declare const self: Worker;

export type ThreadError =
  | { kind: "template"; cls: "TemplateError" | "TemplateSyntaxError" | "UndefinedError"; detail: string; line: number; column: number; templateName?: string; pyType: string }
  | { kind: "other"; name: string; message: string };

function describe(err: unknown): ThreadError {
  if (err instanceof TemplateError) {
    const cls = err instanceof UndefinedError ? "UndefinedError" : err instanceof TemplateSyntaxError ? "TemplateSyntaxError" : "TemplateError";
    return { kind: "template", cls, detail: err.detail, line: err.line, column: err.column, templateName: err.templateName, pyType: err.pyType };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: "other", name: e.name, message: e.message };
}

const ready = loadJinja();

self.onmessage = async (event: MessageEvent<{ id: number; req: RenderRequest }>) => {
  const { id, req } = event.data;
  try {
    await ready;
    self.postMessage({ id, text: renderRequest(req) });
  } catch (err) {
    self.postMessage({ id, error: describe(err) });
  }
};
