/**
 * Generated cases that still differ from Python, each with the reason; every entry is also described
 * in src/jinja/README.md ("Known differences"). A listed case that starts to agree fails the run, so
 * the list stays true.
 */
const MODULE_PATH = "module reprs name the Python installation's files (machine-dependent)";
const LIPSUM = "the lipsum global is not implemented (its output is random in Python)";

export const GENERATED_KNOWN: ReadonlyMap<string, string> = new Map<string, string>([
  ["{{ utils.re }}", MODULE_PATH],
  ["{{ [utils.re] }}", MODULE_PATH],
  ["{{ utils.dateutil }}", MODULE_PATH],
  ["{{ [utils.dateutil] }}", MODULE_PATH],
  ["{{ lipsum }}", LIPSUM],
  ["{{ [lipsum] }}", LIPSUM],
  ["{{ lipsum is callable }}", LIPSUM],
  ["{{ utils.re.IGNORECASE }}", "re flags are plain ints (Python's RegexFlag prints re.IGNORECASE)"],
]);
