/**
 * The documented expressions of lava's guide (spec jobs.md §5.5) with their Jinja2 3.1.6 outputs,
 * error reporting, the context builders and the public API.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  TemplateError,
  actionContext,
  autoescapeFor,
  compileTemplate,
  connAppNameContext,
  dispatchParamsContext,
  enabledContext,
  fromJson,
  isoFormat,
  jobParamsContext,
  parseJson,
  pyStr,
  renderTemplate,
  s3triggerContext,
  stateGetContext,
  toJson,
  type RunInputs,
} from "../../src/jinja/index.ts";

// The documented vectors assume the original's Sydney host; restore the zone so other test files are unaffected.
const savedTz = process.env.TZ;
process.env.TZ = "Australia/Sydney";
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const inputs: RunInputs = {
  tz: "Australia/Sydney",
  start: new Date("2024-03-15T09:30:00.600+11:00"),
  realm: { realm: "dev", s3_temp: "s3://tmp-bucket/lava/tmp", s3_payloads: "s3://pl-bucket/lava/payloads" },
  job: {
    job_id: "demo/j1",
    run_id: "0000-run",
    parameters: { file: "s3://my-bucket/x.csv", vars: { wait_mins: 60, realm: "dev", up_days: 7, cmd: "date", level: "info" } },
    globals: {
      a: "Tattarrattat",
      g1: "v1",
      g2: "2",
      bucket: "b",
      key: "k",
      a_global: "ag",
      s3obj: { Bucket: "my-bucket", Key: "a/prefix/x.csv" },
      lava: { iteration: 1, master_ustart: new Date("2024-03-14T22:30:00Z") },
    },
    state: { sid: "2000-01-01T00:00:00Z", my_state_id: "msv", x: { x: "7" } },
  },
};

const ctx = jobParamsContext(inputs, { schema: "public", relation: "mytable" });
const render = (t: string): string => renderTemplate(t, ctx);

describe("documented expressions (spec §5.5)", () => {
  const vectors: [string, string][] = [
    ["{{ start.strftime('%Y-%m-%d') }}", "2024-03-15"],
    ["{{ ustart.isoformat() }}", "2024-03-14T22:30:00+00:00"],
    ["{{ (start.fromtimestamp(start.timestamp()-86400)).date() }}", "2024-03-14"],
    ["{{ utils.date(year=1970, month=1, day=1) }}", "1970-01-01"],
    ["{{ utils.date(year=ustart.year + 1, month=4, day=25).strftime('%A') }}", "Friday"],
    ["{{ utils.datetime(year=ustart.year + 1, month=1, day=1) }}", "2025-01-01 00:00:00"],
    ["{{ utils.datetime(year=ustart.year + 1, month=1, day=1).strftime('%A') }}", "Wednesday"],
    ["{{ ustart + utils.dateutil.relativedelta.relativedelta(months=6) }}", "2024-09-14 22:30:00+00:00"],
    ["{% set relativedelta = utils.dateutil.relativedelta.relativedelta %}{{ ustart + relativedelta(months=6) }}", "2024-09-14 22:30:00+00:00"],
    ["{{ utils.parsedate.isoparse('2020-02-11T09:30:00+11:00') }}", "2020-02-11 09:30:00+11:00"],
    ["{{ utils.path.basename('s3://bucket.xyzzy.com/an/s3/key') }}", "key"],
    ["{{ utils.path.basename(realm.s3_temp) }}", "tmp"],
    ["{{ utils.re.search('s3://([^.]*)', 's3://bucket.xyzzy.com/an/s3/key').group(1) }}", "bucket"],
    ["{{ utils.s3bucket('s3://bucket.xyzzy.com/an/s3/key') }}", "bucket.xyzzy.com"],
    ["{{ utils.s3bucket(realm.s3_temp) }}", "tmp-bucket"],
    ["{{ utils.s3key('s3://bucket.xyzzy.com/an/s3/key') }}", "an/s3/key"],
    ["{{ utils.s3key(realm.s3_temp) }}", "lava/tmp"],
    ["{{ (start - utils.timedelta(days=1)).date() }}", "2024-03-14"],
    ["{{ realm.realm }}/{{ realm[\"realm\"] }}", "dev/dev"],
    ["{% set word = globals.a | lower %}{{ word == word | reverse }}", "True"],
    ["{% set val = state['x'].x | int %}{{ val % 2 == 1 }}", "True"],
    ["{% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts > utils.timedelta(hours=4) }}", "True"],
    ["Time since last run: {% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts }}", "Time since last run: 8839 days, 22:30:00"],
    ["The value of global g1 is '{{ globals.g1 }}'", "The value of global g1 is 'v1'"],
    ['{"g1": "{{ globals.g1 }}", "g2": "{{ globals.g2 }}"}', '{"g1": "v1", "g2": "2"}'],
    ["{{ globals.lava.master_ustart.strftime('%Y-%m-%d') }}", "2024-03-14"],
    ["aws s3 ls {{realm.s3_payloads}}/ --recursive", "aws s3 ls s3://pl-bucket/lava/payloads/ --recursive"],
    ["demo/my-exe -y --log-level {{vars.level}}", "demo/my-exe -y --log-level info"],
    ["s3://{{ globals.s3obj.Bucket }}/{{ globals.s3obj.Key }}", "s3://my-bucket/a/prefix/x.csv"],
    ["unload_demo/{{schema}}/{{relation}}/{{start.strftime('%Y/%m/%d')}}/", "unload_demo/public/mytable/2024/03/15/"],
    ["/Interesting/Data/{{start.strftime('%Y-%m-%d')}}.csv", "/Interesting/Data/2024-03-15.csv"],
    ["/Interesting/Data/{{job.parameters.file}}.split('/')[-1]}}", "/Interesting/Data/s3://my-bucket/x.csv.split('/')[-1]}}"],
    ["{{ job.parameters.file.split('/')[-1] }}", "x.csv"],
    ["Failed on attempt {{ globals.lava.iteration }} but will try again!", "Failed on attempt 1 but will try again!"],
    ["{{ job.globals.a_global }}", "ag"],
    ["{{ job.state.my_state_id }}{{ job.state['my_state_id'] }}{{ state.my_state_id }}{{ state['my_state_id'] }}", "msvmsvmsvmsv"],
    ["{{(vars.wait_mins+15)*60}} {{vars.realm}} {{vars.up_days}} {{vars.wait_mins}}m", "4500 dev 7 60m"],
    ["{{ realm.s3_temp }}/{{ job.job_id }}/output.csv", "s3://tmp-bucket/lava/tmp/demo/j1/output.csv"],
    ["{{realm.s3_temp}}/lava/dynamo-backup/{{ustart.strftime('%Y-%m-%d')}}.zip", "s3://tmp-bucket/lava/tmp/lava/dynamo-backup/2024-03-14.zip"],
    ["{{ missing }}|{{ globals.missing }}", "|"],
    ["{{ None }}|{{ True }}|{{ 1.0 }}|{{ [1,'a'] }}", "None|True|1.0|[1, 'a']"],
    ["{{ utils.timedelta(days=1, hours=2) }}", "1 day, 2:00:00"],
    ["{{ start }}", "2024-03-15 09:30:00+11:00"],
    ["trailing\n", "trailing"],
  ];
  for (const [template, expected] of vectors) {
    test(template, () => expect(render(template)).toBe(expected));
  }

  test("uuid", () => {
    expect(render("s3://bucket/some/prefix/{{ utils.uuid() }}.csv")).toMatch(/^s3:\/\/bucket\/some\/prefix\/[0-9a-f-]{36}\.csv$/);
  });
  test("globals print as a Python dict repr", () => {
    expect(render("{{ globals }}'")).toStartWith("{'a': 'Tattarrattat', 'g1': 'v1', 'g2': '2',");
    expect(render("{{ globals.lava }}")).toBe("{'iteration': 1, 'master_ustart': datetime.datetime(2024, 3, 14, 22, 30, tzinfo=tzutc())}");
  });
  test("actions see result (tojson sorted)", () => {
    const a = actionContext(inputs, { exit_status: 1, error: "boom" });
    expect(renderTemplate("{{job.job_id}}@{{realm.realm}} ({{job.run_id}}) failed: {{result.error}} {{ result|tojson }}", a)).toBe(
      'demo/j1@dev (0000-run) failed: boom {"error": "boom", "exit_status": 1}',
    );
  });
  test("errata forms fail as in Python", () => {
    expect(() => render("{{ start.strptime('%Y-%m-%d') }}")).toThrow(TemplateError);
    expect(() => render("{{ utils.re.search('s3://([^.]*)', 's3://bucket.xyzzy.com/an/s3/key)'.group(1) }}")).toThrow(TemplateError);
  });
});

describe("errors carry position and never crash", () => {
  const cases: [string, string, number, number][] = [
    ["line1\n{{ 1 + }}", "TemplateSyntaxError", 2, 8],
    ["{% if x %}open", "TemplateSyntaxError", 1, 15],
    ["{% for %}", "TemplateSyntaxError", 1, 8],
    ["{{ 'a'|nosuch }}", "TemplateAssertionError", 1, 8],
    ["{{ x is nosuch }}", "TemplateAssertionError", 1, 6],
    ["ok\n  {{ realm.realm() }}", "TypeError", 2, 17],
    ["{{ 10 // 0 }}", "ZeroDivisionError", 1, 7],
    ["{{ missing.attr }}", "UndefinedError", 1, 11],
    ["{{ missing() }}", "UndefinedError", 1, 11],
    ["{{ 1 + 'a' }}", "TypeError", 1, 6],
    ["{% set a, b = [1] %}", "ValueError", 1, 8],
    ["{{ '{'.format(1) }}", "ValueError", 1, 14],
    ["{% unknown %}", "TemplateSyntaxError", 1, 4],
    ["{{ 'unterminated }}", "TemplateSyntaxError", 1, 4],
  ];
  for (const [template, pyType, line, column] of cases) {
    test(JSON.stringify(template), () => {
      let err: unknown;
      try {
        renderTemplate(template, ctx, { name: "t.j2" });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TemplateError);
      const te = err as TemplateError;
      expect(te.pyType).toBe(pyType);
      expect([te.line, te.column]).toEqual([line, column]);
      expect(te.message).toContain(`template t.j2, line ${line}`);
    });
  }
});

describe("context builders", () => {
  test("jobParams has vars, dispatchParams and enabled do not", () => {
    expect([...jobParamsContext(inputs).keys()].sort()).toEqual(["globals", "job", "realm", "start", "state", "ustart", "utils", "vars"]);
    expect([...dispatchParamsContext(inputs).keys()].sort()).toEqual(["globals", "job", "realm", "start", "state", "ustart", "utils"]);
    expect([...enabledContext(inputs).keys()].sort()).toEqual(["globals", "job", "realm", "start", "state", "ustart", "utils"]);
    expect([...actionContext(inputs, {}).keys()].sort()).toContain("result");
  });
  test("start is whole seconds in the zone, ustart in UTC", () => {
    expect(renderTemplate("{{ start }}|{{ ustart }}|{{ start.tzinfo }}", enabledContext(inputs))).toBe("2024-03-15 09:30:00+11:00|2024-03-14 22:30:00+00:00|tzlocal()");
  });
  test("vars must be a map", () => {
    expect(() => jobParamsContext({ ...inputs, job: { ...inputs.job, parameters: { vars: [1] } } })).toThrow("parameters.vars must be a map");
  });
  test("conn app name, state get, s3trigger", () => {
    expect(renderTemplate("lv-{{realm}}-{{job_id}}", connAppNameContext("dev", "demo/j1", "c1"))).toBe("lv-dev-demo/j1");
    expect(renderTemplate("{{ state }}|{{ s.lines }}", stateGetContext({ lines: "45" }))).toBe("{'lines': '45'}|45");
    const s3 = s3triggerContext({
      bucket: "arn:aws:s3:::my-bucket",
      key: "in/x.csv",
      event: {},
      info: { aws_region: "ap-southeast-2", bucket: "my-bucket", event_time: new Date("2024-03-14T22:30:00Z"), event_type: "ObjectCreated:Put", key: "in/x.csv", size: 10, source_ip: "10.0.0.1" },
    });
    expect(renderTemplate("{{ bucket.split(':')[5] }} {{ key }} {{ info.source_ip }} {{ info.event_time.isoformat() }}", s3)).toBe("my-bucket in/x.csv 10.0.0.1 2024-03-14T22:30:00+00:00");
  });
});

describe("API", () => {
  test("compileTemplate caches and renders repeatedly", () => {
    const a = compileTemplate("{{ x * 2 }}");
    expect(compileTemplate("{{ x * 2 }}")).toBe(a);
    expect(compileTemplate("{{ x * 2 }}", { autoescape: true })).not.toBe(a);
    expect(a.render({ x: 2 })).toBe("4");
    expect(a.render({ x: "ab" })).toBe("abab");
  });
  test("plain JS objects and Dates in the context", () => {
    expect(renderTemplate("{{ o }} {{ o.when }} {{ o.f }}", { o: { a: [1, true, null], when: new Date("2024-01-01T00:00:00Z"), f: 0.5 } })).toBe(
      "{'a': [1, True, None], 'when': datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), 'f': 0.5} 2024-01-01 00:00:00+00:00 0.5",
    );
  });
  test("fromJson / parseJson / toJson round trip", () => {
    expect(pyStr(fromJson({ b: 1, a: [1.5, "x", null] }))).toBe("{'b': 1, 'a': [1.5, 'x', None]}");
    expect(pyStr(parseJson('{"f": 1.0, "i": 1, "n": {"2": 1, "1": 2}}'))).toBe("{'f': 1.0, 'i': 1, 'n': {'2': 1, '1': 2}}");
    const rendered = renderTemplate('{"when": "{{ start.isoformat() }}", "n": {{ vars.up_days + 1 }}}', ctx);
    expect(toJson(parseJson(rendered))).toEqual({ when: "2024-03-15T09:30:00+11:00", n: 8 });
  });
  test("autoescape rule and isoFormat", () => {
    expect([autoescapeFor("a.html"), autoescapeFor("b.HTM"), autoescapeFor("c.xml"), autoescapeFor("d.sql")]).toEqual([true, true, true, false]);
    expect(renderTemplate("{{ x }}", { x: "<&>" }, { autoescape: autoescapeFor("r.html") })).toBe("&lt;&amp;&gt;");
    expect(isoFormat(new Date("2024-03-14T22:30:00Z"), "Australia/Sydney")).toBe("2024-03-15T09:30:00+11:00");
  });
  test("single pass: rendered values are not re-rendered", () => {
    expect(renderTemplate("{{ x }}", { x: "{{ 1 + 1 }}" })).toBe("{{ 1 + 1 }}");
  });
});
